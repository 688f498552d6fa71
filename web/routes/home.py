"""The home page, "Waiting for me": what each role has to act on now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from domain.ladder import Ladder
from domain.roles import Role
from storage import directory, meetings, repository
from storage.models import AuditEventRow, IssueRow
from web.deps import UserDep, WebStateDep, WebUser
from web.issue_view import names_of
from web.rendering import render

router = APIRouter(include_in_schema=False)

# A focal point sees the open issues whose discussion deadline falls within this many days.
DUE_WITHIN = timedelta(days=7)
RECENT = 20


@dataclass
class Waiting:
    """The lists of the home page; the template shows those its role has."""

    due: list[IssueRow] | None = None
    returned: list[tuple[IssueRow, AuditEventRow]] | None = None
    approvals: list[IssueRow] | None = None
    decisions: list[IssueRow] | None = None
    meeting: list[IssueRow] | None = None
    recent: list[tuple[AuditEventRow, str, str]] | None = None
    theme_names: dict[str, str] = field(default_factory=dict)


def approver_levels(ladder: Ladder, role: Role) -> list[int]:
    return [lvl.level for lvl in ladder.levels if role in lvl.approver_roles]


def decider_levels(ladder: Ladder, role: Role) -> list[int]:
    return [lvl.level for lvl in ladder.levels if role in lvl.decider_roles]


def _recent(session: Session) -> list[tuple[AuditEventRow, str, str]]:
    """The latest steps of every issue, with the issue's title and the actor's name."""
    rows = repository.recent_audit(session=session, stream_prefix="issue-", limit=RECENT)
    names = names_of(session, [r.actor_id for r in rows])
    titles: dict[str, str] = {}
    for row in rows:
        if row.entity_id not in titles:
            issue = repository.get_issue(session=session, issue_id=row.entity_id)
            titles[row.entity_id] = issue.title if issue else row.entity_id
    return [(r, titles[r.entity_id], names[r.actor_id]) for r in rows]


def waiting_for(user: WebUser, session: Session, ladder: Ladder, now: datetime) -> Waiting:
    found = Waiting(theme_names={t.code: t.name for t in directory.list_themes(session=session)})
    themes = sorted(user.actor.themes)
    match user.role:
        case Role.FOCAL_POINT:
            found.due = repository.issues_due(
                session=session, themes=themes, before=now + DUE_WITHIN
            )
            found.returned = repository.returned_issues(session=session, themes=themes)
        case Role.CHAIR | Role.EXECUTIVE:
            found.approvals = repository.pending_requests(
                session=session, levels=approver_levels(ladder, user.role)
            )
            found.decisions = repository.escalated_issues(
                session=session, levels=decider_levels(ladder, user.role)
            )
        case Role.SECRETARIAT:
            found.meeting = [
                issue
                for level in decider_levels(ladder, user.role)
                for issue in meetings.issues_awaiting_a_meeting(session=session, level=level)
            ]
        case _:
            found.recent = _recent(session)
    return found


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    with Session(state.engine, expire_on_commit=False) as session:
        waiting = waiting_for(user, session, state.settings.ladder, datetime.now(UTC))
        session.expunge_all()
    return render(
        request,
        "issues/home.html",
        user=user,
        title=user.locale.gettext("Waiting for me"),
        waiting=waiting,
        now=datetime.now(UTC),
    )
