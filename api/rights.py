"""The API's own check of role and ownership, before a command reaches its workflow.

The workflow's validator checks again with the domain's rules; this table only makes the
common refusals cheap and explicit.
"""

from __future__ import annotations

from enum import StrEnum

from api.errors import ApiError
from domain.ladder import Ladder
from domain.roles import Actor, Role
from storage.models import IssueRow


class IssueAction(StrEnum):
    RAISE = "raise an issue"
    COMMENT = "comment on an issue"
    RESOLVE = "resolve an issue"
    REQUEST_ESCALATION = "request escalation"
    DECIDE_ESCALATION = "approve or return an escalation request"
    RECORD_DECISION = "record a decision"
    CLOSE = "close an issue"
    WITHDRAW = "withdraw an issue"
    SET_DEADLINE = "move a discussion deadline"


THEME_BOUND = {
    IssueAction.COMMENT,
    IssueAction.RESOLVE,
    IssueAction.REQUEST_ESCALATION,
    IssueAction.CLOSE,
}


def roles_for(action: IssueAction, ladder: Ladder) -> frozenset[Role]:
    match action:
        case IssueAction.RAISE | IssueAction.RESOLVE | IssueAction.REQUEST_ESCALATION:
            return frozenset({Role.FOCAL_POINT})
        case IssueAction.WITHDRAW:
            return frozenset({Role.FOCAL_POINT})
        case IssueAction.COMMENT:
            return frozenset({Role.FOCAL_POINT, Role.CHAIR, Role.SECRETARIAT, Role.EXECUTIVE})
        case IssueAction.DECIDE_ESCALATION:
            return frozenset(r for lvl in ladder.levels for r in lvl.approver_roles)
        case IssueAction.RECORD_DECISION:
            return frozenset(r for lvl in ladder.levels for r in lvl.decider_roles)
        case IssueAction.CLOSE:
            return frozenset({Role.FOCAL_POINT, Role.CHAIR, Role.SECRETARIAT})
        case IssueAction.SET_DEADLINE:
            return frozenset({Role.CHAIR, Role.SECRETARIAT})


def authorise(action: IssueAction, actor: Actor, ladder: Ladder, issue: IssueRow | None) -> None:
    """Raise 403 unless the actor's role and ownership allow `action`."""
    allowed = roles_for(action, ladder)
    if actor.role not in allowed:
        who = ", ".join(sorted(r.value for r in allowed))
        raise ApiError(
            403, "permission_denied", f"your role ({actor.role.value}) may not {action}; {who} may"
        )
    if issue is None or actor.role is not Role.FOCAL_POINT:
        return
    if action is IssueAction.WITHDRAW and issue.author_id != actor.id:
        raise ApiError(403, "permission_denied", "only the author may withdraw the issue")
    if action in THEME_BOUND and issue.theme_code not in actor.themes:
        raise ApiError(
            403,
            "permission_denied",
            f"you are not a focal point of theme '{issue.theme_code}'",
        )
