"""The ISCG mapping table: topics of common interest and who handles each in each sector."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.deps import CurrentUserDep, SessionDep, WriteSessionDep
from api.errors import ApiError
from api.schemas import ErrorResponse, RowId
from domain.roles import Role
from iscflow.mapping_export import FILE_STEM, MEDIA_TYPES, ExportFormat, render
from storage import mapping
from storage.db import utc
from storage.models import MappingEntryRow

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 422)
}
router = APIRouter(prefix="/api/v1/mapping", tags=["mapping"], responses=ERRORS)

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Topic = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=mapping.TOPIC_MAX)
]
Entity = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=mapping.ENTITY_MAX)
]
Contact = Annotated[str, StringConstraints(strip_whitespace=True, max_length=mapping.CONTACT_MAX)]


class MappingEntry(BaseModel):
    id: int
    topic: str
    theme: str | None
    sector: str
    entity: str
    contact: str
    updated_at: datetime

    @classmethod
    def from_row(cls, row: MappingEntryRow) -> MappingEntry:
        assert row.id is not None
        return cls(
            id=row.id,
            topic=row.topic,
            theme=row.theme_code,
            sector=row.sector_code,
            entity=row.entity,
            contact=row.contact,
            updated_at=utc(row.updated_at),
        )


class MappingList(BaseModel):
    items: list[MappingEntry]
    total: int


class MappingEntryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    sector: Code = Field(description="a sector code: ITU-R, ITU-T, ITU-D or GS")
    entity: Entity = Field(description="the study group, department or unit responsible")
    contact: Contact = Field(default="", description="e.g. a functional mailbox")
    theme: Code | None = Field(default=None, description="the thematic area's code, if any")


def _mapping_editor(user: CurrentUserDep) -> None:
    if user.actor.role not in {Role.SECRETARIAT, Role.ADMIN}:
        raise ApiError(
            403,
            "permission_denied",
            "only the secretariat and administrators edit the mapping table",
        )


@router.get("", response_model=MappingList)
def list_mapping(
    _: CurrentUserDep,
    session: SessionDep,
    topic: str | None = None,
    theme: str | None = None,
    sector: str | None = None,
) -> MappingList:
    """Entries by topic and sector; `topic` matches part of a topic, ignoring case."""
    rows = mapping.list_entries(session=session, topic=topic, theme=theme, sector=sector)
    return MappingList(items=[MappingEntry.from_row(r) for r in rows], total=len(rows))


@router.put("", response_model=MappingEntry)
def upsert_mapping(
    body: MappingEntryBody, user: CurrentUserDep, session: WriteSessionDep
) -> MappingEntry:
    """Set who handles a topic in a sector, replacing any entry for that topic and sector."""
    _mapping_editor(user)
    try:
        row, _ = mapping.upsert_entry(
            session=session,
            topic=body.topic,
            sector=body.sector,
            entity=body.entity,
            contact=body.contact,
            theme=body.theme,
            now=datetime.now(UTC),
            actor=(user.actor.id, user.actor.role.value),
        )
    except mapping.UnknownReference as error:
        raise ApiError(422, "invalid_command", str(error), field=error.field) from None
    session.commit()
    return MappingEntry.from_row(row)


@router.get(
    "/export.{fmt}",
    response_class=Response,
    responses={200: {"content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()}}},
)
def export_mapping(fmt: ExportFormat, _: CurrentUserDep, session: SessionDep) -> Response:
    """The whole table, one row per topic, as a CSV, Excel or HTML file."""
    content = render(mapping.pivot(session=session), fmt)
    disposition = f"attachment; filename={FILE_STEM}.{fmt.value}"
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
    )


@router.get("/{entry_id}", response_model=MappingEntry)
def read_mapping(entry_id: RowId, _: CurrentUserDep, session: SessionDep) -> MappingEntry:
    """One entry."""
    row = mapping.get_entry(session=session, entry_id=entry_id)
    if row is None:
        raise ApiError(404, "not_found", f"no mapping entry {entry_id}")
    return MappingEntry.from_row(row)


@router.delete("/{entry_id}", status_code=204, response_class=Response)
def delete_mapping(entry_id: RowId, user: CurrentUserDep, session: WriteSessionDep) -> Response:
    """Remove an entry (secretariat, admin)."""
    _mapping_editor(user)
    deleted = mapping.delete_entry(
        session=session,
        entry_id=entry_id,
        actor=(user.actor.id, user.actor.role.value),
        now=datetime.now(UTC),
    )
    if not deleted:
        raise ApiError(404, "not_found", f"no mapping entry {entry_id}")
    session.commit()
    return Response(status_code=204)
