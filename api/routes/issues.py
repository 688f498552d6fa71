"""Issue endpoints: raise, list, read, and one endpoint per command."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status
from starlette.concurrency import run_in_threadpool

from api.deps import AppStateDep, CurrentUserDep, SessionDep
from api.errors import ApiError
from api.rights import IssueAction, authorise
from api.schemas import (
    ApproveBody,
    AuditEntryPublic,
    CloseBody,
    CommentBody,
    CommentPublic,
    DeadlineBody,
    DecisionBody,
    ErrorResponse,
    EscalationRequestBody,
    IssueDetail,
    IssueList,
    IssuePublic,
    RaiseIssueBody,
    ResolveBody,
    ReturnBody,
    WithdrawBody,
)
from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    IssueCommand,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    SetDeadline,
    WithdrawIssue,
)
from storage import directory, repository
from storage.models import IssueRow

# A stable namespace for ids derived from an Idempotency-Key header.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6b1f4a52-3c1e-4d0b-9a55-8f6f2f0c9e11")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 503)
}

router = APIRouter(prefix="/api/v1/issues", tags=["issues"], responses=ERRORS)


def _load(session: SessionDep, issue_id: str) -> IssueRow:
    row = repository.get_issue(session=session, issue_id=issue_id)
    if row is None:
        raise ApiError(404, "not_found", f"no issue with id '{issue_id}'")
    return row


def _raise_command(
    body: RaiseIssueBody, user: CurrentUserDep, session: SessionDep, idempotency_key: str | None
) -> RaiseIssue:
    """Check the theme and sector, choose the id, and release the connection."""
    if directory.get_theme(session=session, code=body.theme) is None:
        raise ApiError(422, "invalid_command", f"unknown theme '{body.theme}'", field="theme")
    if body.theme not in user.actor.themes:
        raise ApiError(
            403, "permission_denied", f"you are not a focal point of theme '{body.theme}'"
        )
    sector = body.sector or user.row.sector_code
    if sector is None or directory.get_sector(session=session, code=sector) is None:
        raise ApiError(422, "invalid_command", f"unknown sector '{sector}'", field="sector")
    if sector != user.row.sector_code:
        raise ApiError(
            422,
            "invalid_command",
            f"you raise issues for your own sector ({user.row.sector_code}), not {sector}",
            field="sector",
        )
    if body.id is not None:
        issue_id = str(body.id)
    elif idempotency_key:
        issue_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{user.row.id}:{idempotency_key}"))
    else:
        issue_id = str(uuid.uuid4())
    session.close()  # release the connection while the workflow works
    return RaiseIssue(
        issue_id=issue_id,
        title=body.title,
        description=body.description,
        theme=body.theme,
        sector=sector,
    )


def _load_and_close(session: SessionDep, issue_id: str) -> IssueRow:
    """The issue's row; the connection is released while the workflow works."""
    try:
        return _load(session, issue_id)
    finally:
        session.close()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IssuePublic)
async def raise_issue(
    body: RaiseIssueBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> IssuePublic:
    """Raise a key issue in one of your themes (focal points)."""
    authorise(IssueAction.RAISE, user.actor, state.settings.ladder, None)
    command = await run_in_threadpool(_raise_command, body, user, session, idempotency_key)
    issue = await state.commands.raise_issue(user.actor, command)
    return IssuePublic.from_issue(issue)


@router.get("", response_model=IssueList)
def list_issues(
    user: CurrentUserDep,
    session: SessionDep,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    state: IssueState | None = None,
    mine: Annotated[bool, Query(description="only issues you raised")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> IssueList:
    """Issues, newest activity first, filtered by theme, state, or your own."""
    rows, total = repository.list_issues(
        session=session,
        theme=theme,
        state=state.value if state else None,
        author_id=user.row.id if mine else None,
        limit=limit,
        offset=offset,
    )
    return IssueList(
        items=[IssuePublic.from_row(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{issue_id}", response_model=IssueDetail)
def read_issue(issue_id: str, user: CurrentUserDep, session: SessionDep) -> IssueDetail:
    """One issue with its comments and its audit trail."""
    row = _load(session, issue_id)
    comments = repository.list_comments(session=session, issue_id=issue_id)
    audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
    return IssueDetail(
        **IssuePublic.from_row(row).model_dump(),
        comments=[CommentPublic.from_row(c) for c in comments],
        audit_trail=[AuditEntryPublic.from_row(a) for a in audit],
    )


async def _send(
    issue_id: str,
    action: IssueAction,
    command: IssueCommand,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
) -> IssuePublic:
    row = await run_in_threadpool(_load_and_close, session, issue_id)
    authorise(action, user.actor, state.settings.ladder, row)
    issue = await state.commands.send(issue_id, user.actor, command)
    return IssuePublic.from_issue(issue)


@router.post("/{issue_id}/comments", response_model=IssuePublic)
async def comment(
    issue_id: str, body: CommentBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Add a comment to the discussion."""
    return await _send(
        issue_id, IssueAction.COMMENT, AddComment(body=body.body), user, session, state
    )


@router.post("/{issue_id}/resolve", response_model=IssuePublic)
async def resolve(
    issue_id: str, body: ResolveBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Record the solution the focal points agreed on."""
    command = ResolveIssue(resolution=body.resolution)
    return await _send(issue_id, IssueAction.RESOLVE, command, user, session, state)


@router.post("/{issue_id}/escalation-request", response_model=IssuePublic)
async def request_escalation(
    issue_id: str,
    body: EscalationRequestBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
) -> IssuePublic:
    """Ask for the issue to go one level up the ladder."""
    command = RequestEscalation(reason=body.reason)
    return await _send(issue_id, IssueAction.REQUEST_ESCALATION, command, user, session, state)


@router.post("/{issue_id}/escalation-request/approve", response_model=IssuePublic)
async def approve_escalation(
    issue_id: str, body: ApproveBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Approve a pending escalation request (the level's approver)."""
    command = ApproveEscalation(note=body.note)
    return await _send(issue_id, IssueAction.DECIDE_ESCALATION, command, user, session, state)


@router.post("/{issue_id}/escalation-request/return", response_model=IssuePublic)
async def return_escalation(
    issue_id: str, body: ReturnBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Return a pending escalation request to the focal points, with a reason."""
    command = ReturnEscalation(reason=body.reason, new_deadline=body.new_deadline)
    return await _send(issue_id, IssueAction.DECIDE_ESCALATION, command, user, session, state)


@router.post("/{issue_id}/decision", response_model=IssuePublic)
async def record_decision(
    issue_id: str, body: DecisionBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Record the decision taken at the issue's level."""
    command = RecordDecision(outcome=body.outcome, text=body.text, new_deadline=body.new_deadline)
    return await _send(issue_id, IssueAction.RECORD_DECISION, command, user, session, state)


@router.post("/{issue_id}/close", response_model=IssuePublic)
async def close(
    issue_id: str, body: CloseBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Close a decided or resolved issue."""
    return await _send(
        issue_id, IssueAction.CLOSE, CloseIssue(note=body.note), user, session, state
    )


@router.post("/{issue_id}/withdraw", response_model=IssuePublic)
async def withdraw(
    issue_id: str, body: WithdrawBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Withdraw your own open issue."""
    command = WithdrawIssue(reason=body.reason)
    return await _send(issue_id, IssueAction.WITHDRAW, command, user, session, state)


@router.post("/{issue_id}/deadline", response_model=IssuePublic)
async def set_deadline(
    issue_id: str, body: DeadlineBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> IssuePublic:
    """Move an open issue's discussion deadline; every pending reminder is re-planned."""
    command = SetDeadline(deadline=body.deadline, reason=body.reason)
    return await _send(issue_id, IssueAction.SET_DEADLINE, command, user, session, state)
