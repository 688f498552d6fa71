"""The approval queue of the chair and the executive: pending escalation requests to answer."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from domain.roles import Role
from storage import directory, repository
from storage.models import AuditEventRow, IssueRow
from web.deps import (
    FormUserDep,
    PageRefused,
    UserDep,
    WebStateDep,
    WebUser,
    require_role,
    set_flash,
)
from web.issue_actions import VERBS, Refusal, perform
from web.issue_view import level_name, names_of
from web.rendering import render
from web.routes.home import approver_levels
from web.routes.issues import form_values

router = APIRouter(include_in_schema=False)

APPROVERS = (Role.CHAIR, Role.EXECUTIVE)


@dataclass(frozen=True)
class PendingRequest:
    issue: IssueRow
    theme_name: str
    level: str
    requested_by: str
    request: AuditEventRow | None


def _request_of(session: Session, issue_id: str) -> AuditEventRow | None:
    audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
    return next((a for a in reversed(audit) if a.to_state == "escalation_requested"), None)


def pending_for(user: WebUser, state: WebStateDep) -> list[PendingRequest]:
    ladder = state.settings.ladder
    with Session(state.engine, expire_on_commit=False) as session:
        rows = repository.pending_requests(
            session=session, levels=approver_levels(ladder, user.role)
        )
        themes = {t.code: t.name for t in directory.list_themes(session=session)}
        requests = {row.id: _request_of(session, row.id) for row in rows}
        names = names_of(session, [r.actor_id for r in requests.values() if r is not None])
        session.expunge_all()
    return [
        PendingRequest(
            issue=row,
            theme_name=themes.get(row.theme_code, row.theme_code),
            level=level_name(ladder, row.requested_level),
            requested_by=names[step.actor_id] if (step := requests[row.id]) else "—",
            request=requests[row.id],
        )
        for row in rows
    ]


def _queue(
    request: Request,
    user: WebUser,
    state: WebStateDep,
    *,
    refusal: Refusal | None = None,
    refused: tuple[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "issues/approvals.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=user.locale.gettext("Approval queue"),
        pending=pending_for(user, state),
        refusal=refusal,
        refused_issue=refused[0] if refused else None,
        refused_form=refused[1] if refused else None,
        values=refusal.values if refusal else {},
    )


@router.get("/approvals", response_class=HTMLResponse)
def approval_queue(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    require_role(user, *APPROVERS)
    return _queue(request, user, state)


@router.post("/approvals/{issue_id}/{verb}", response_class=HTMLResponse)
async def answer_request(
    request: Request, issue_id: str, verb: str, user: FormUserDep, state: WebStateDep
) -> Response:
    require_role(user, *APPROVERS)
    chosen = VERBS.get(verb) if verb in {"approve", "return"} else None
    with Session(state.engine, expire_on_commit=False) as session:
        row = repository.get_issue(session=session, issue_id=issue_id)
    if row is None or chosen is None:
        raise PageRefused(
            404,
            user.locale.gettext("No such issue"),
            user.locale.gettext("There is no issue at this address."),
        )
    result = await perform(
        state.issues,
        verb=chosen,
        form=await form_values(request),
        actor=user.actor,
        ladder=state.settings.ladder,
        row=row,
        locale=user.locale,
    )
    if isinstance(result, Refusal):
        return _queue(request, user, state, refusal=result, refused=(issue_id, verb))
    response = RedirectResponse("/approvals", status_code=303)
    set_flash(response, f"{row.title}: {user.locale.gettext(chosen.done)}")
    return response
