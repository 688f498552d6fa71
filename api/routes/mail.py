"""Mail: the outbox (secretariat, admin) and each user's e-mail preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUserDep, SessionDep, WriteSessionDep
from api.errors import ApiError
from api.schemas import ErrorResponse, RowId
from domain.roles import Role
from notifications.render import LANGUAGES
from storage import directory, outbox
from storage.db import utc, utc_or_none
from storage.models import OutboxRow

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 422)
}
router = APIRouter(prefix="/api/v1", tags=["mail"], responses=ERRORS)

OutboxStatus = Literal["pending", "sent", "retrying", "held", "digested"]
Language = Literal["ar", "zh", "en", "fr", "ru", "es"]
assert set(LANGUAGES) == {"ar", "zh", "en", "fr", "ru", "es"}


class OutboxEntry(BaseModel):
    id: int
    kind: str
    recipient: str
    language: str
    subject: str
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: OutboxRow) -> OutboxEntry:
        assert row.id is not None
        return cls(
            id=row.id,
            kind=row.kind,
            recipient=row.recipient,
            language=row.language,
            subject=row.subject,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=utc(row.created_at),
            sent_at=utc_or_none(row.sent_at),
        )


class OutboxMessage(OutboxEntry):
    body_text: str
    body_html: str


class OutboxList(BaseModel):
    items: list[OutboxEntry]
    total: int
    limit: int
    offset: int


class Preferences(BaseModel):
    language: Language
    digest: Literal["immediate", "daily"]


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = None
    digest: Literal["immediate", "daily"] | None = None


def _mail_reader(user: CurrentUserDep) -> None:
    if user.actor.role not in {Role.SECRETARIAT, Role.ADMIN}:
        raise ApiError(
            403, "permission_denied", "only the secretariat and administrators read the outbox"
        )


@router.get("/outbox", response_model=OutboxList)
def list_outbox(
    user: CurrentUserDep,
    session: SessionDep,
    status: OutboxStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> OutboxList:
    """Notifications, newest first, with their delivery status (secretariat, admin)."""
    _mail_reader(user)
    rows, total = outbox.list_outbox(session=session, status=status, limit=limit, offset=offset)
    return OutboxList(
        items=[OutboxEntry.from_row(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/outbox/{outbox_id}", response_model=OutboxMessage)
def read_outbox(outbox_id: RowId, user: CurrentUserDep, session: SessionDep) -> OutboxMessage:
    """One notification with its text and HTML bodies (secretariat, admin)."""
    _mail_reader(user)
    row = outbox.get_outbox(session=session, outbox_id=outbox_id)
    if row is None:
        raise ApiError(404, "not_found", f"no outbox message {outbox_id}")
    return OutboxMessage(
        **OutboxEntry.from_row(row).model_dump(), body_text=row.body_text, body_html=row.body_html
    )


@router.get("/me/preferences", response_model=Preferences)
def read_preferences(user: CurrentUserDep) -> Preferences:
    """Your e-mail language and frequency."""
    return Preferences(language=user.row.language, digest=user.row.digest)


@router.put("/me/preferences", response_model=Preferences)
def update_preferences(
    body: PreferencesUpdate, user: CurrentUserDep, session: WriteSessionDep
) -> Preferences:
    """Change your e-mail language and/or switch between immediate mails and a daily digest."""
    row = directory.set_preferences(
        session=session, user_id=user.row.id, language=body.language, digest=body.digest
    )
    assert row is not None
    session.commit()
    return Preferences(language=row.language, digest=row.digest)
