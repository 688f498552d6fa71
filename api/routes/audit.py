"""The audit trail over HTTP: verify, export, checkpoints (auditor and admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from activities.audit import checkpoint_document, create_checkpoint, public_key_b64
from api.deps import AppStateDep, CurrentUserDep, SessionDep
from api.errors import ApiError
from api.schemas import ErrorResponse
from domain.roles import Role
from iscflow.audit_ops import export_lines, verify_trail
from storage import audit
from storage.db import session_scope

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 422)
}
router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERRORS)

StreamQuery = Query(default=None, max_length=120, description="one stream, e.g. issue-<id>")


class BrokenRowPublic(BaseModel):
    stream: str
    sequence: int
    problem: str
    expected: str
    found: str


class VerifyPublic(BaseModel):
    ok: bool
    rows_checked: int
    broken: BrokenRowPublic | None
    checkpoint_id: int | None
    checkpoint_valid: bool | None


class PublicKey(BaseModel):
    algorithm: str = "Ed25519"
    public_key: str


def _auditor(user: CurrentUserDep) -> None:
    if user.actor.role not in {Role.AUDITOR, Role.ADMIN}:
        raise ApiError(403, "permission_denied", "only auditors and administrators read this")


@router.get("/verify", response_model=VerifyPublic)
def verify(
    user: CurrentUserDep, state: AppStateDep, stream: str | None = StreamQuery
) -> VerifyPublic:
    """Re-walk the hash chains and check them against the latest signed checkpoint."""
    _auditor(user)
    report = verify_trail(state.engine, public_key_b64(state.settings.audit_key()), stream=stream)
    broken = BrokenRowPublic(**report.broken.__dict__) if report.broken is not None else None
    return VerifyPublic(
        ok=report.ok,
        rows_checked=report.rows_checked,
        broken=broken,
        checkpoint_id=report.checkpoint_id,
        checkpoint_valid=report.checkpoint_valid,
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(
    user: CurrentUserDep, state: AppStateDep, stream: str | None = StreamQuery
) -> StreamingResponse:
    """JSON Lines: every row, then the latest checkpoint and each stream head's proof."""
    _auditor(user)
    lines = (line + "\n" for line in export_lines(state.engine, stream=stream))
    return StreamingResponse(
        lines,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": "attachment; filename=iscflow-audit.jsonl"},
    )


@router.get("/checkpoints/latest")
def latest_checkpoint(user: CurrentUserDep, session: SessionDep) -> dict[str, Any]:
    """The latest signed checkpoint, as a document anyone can verify with the public key."""
    _auditor(user)
    row = audit.latest_checkpoint(session)
    if row is None:
        raise ApiError(404, "not_found", "no checkpoint has been made yet")
    return checkpoint_document(row)


@router.post("/checkpoints", status_code=status.HTTP_201_CREATED)
def make_checkpoint(user: CurrentUserDep, state: AppStateDep) -> dict[str, Any]:
    """Sign a checkpoint of every stream head now (administrators)."""
    if user.actor.role is not Role.ADMIN:
        raise ApiError(403, "permission_denied", "only administrators make checkpoints on demand")
    with session_scope(state.engine) as session:
        row = create_checkpoint(
            session=session, private_key=state.settings.audit_key(), now=datetime.now(UTC)
        )
        return checkpoint_document(row)


@router.get("/public-key", response_model=PublicKey)
def public_key(user: CurrentUserDep, state: AppStateDep) -> PublicKey:
    """The key that verifies this installation's checkpoints."""
    _auditor(user)
    return PublicKey(public_key=public_key_b64(state.settings.audit_key()))
