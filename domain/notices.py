"""Which notifications an issue event causes, and to whom (as audiences, not addresses)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.issues import DecisionOutcome, Issue, IssueEvent, ReminderKind
from domain.roles import Role


class Audience(StrEnum):
    THEME_FOCAL_POINTS = "theme_focal_points"
    APPROVERS = "approvers"  # of the level requested
    SECRETARIAT = "secretariat"


class Notice(BaseModel):
    """One template sent to one audience; `level` selects approvers."""

    model_config = ConfigDict(frozen=True)

    template: str
    audience: Audience
    level: int | None = None


def notices_for(event: IssueEvent, issue: Issue) -> list[Notice]:
    """The notifications `event` causes. The actor never notifies themself (see recipients)."""
    requested = issue.requested_level
    focal = Audience.THEME_FOCAL_POINTS
    match event.name:
        case "IssueRaised":
            return [Notice(template="issue_raised", audience=focal)]
        case "EscalationRequested":
            ask = Notice(
                template="escalation_requested", audience=Audience.APPROVERS, level=requested
            )
            if event.actor_role is Role.SYSTEM:
                return [Notice(template="deadline_passed", audience=focal), ask]
            return [ask]
        case "EscalationApproved":
            return [Notice(template="escalation_approved", audience=focal)]
        case "EscalationReturned":
            return [Notice(template="escalation_returned", audience=focal)]
        case "DecisionRecorded":
            notices = [Notice(template="decision_recorded", audience=focal)]
            if event.data.get("outcome") == DecisionOutcome.ESCALATED_FURTHER.value:
                notices.append(
                    Notice(
                        template="escalation_requested",
                        audience=Audience.APPROVERS,
                        level=requested,
                    )
                )
            return notices
        case "ReminderSent":
            if event.data.get("reminder") == ReminderKind.DISCUSSION.value:
                return [Notice(template="discussion_reminder", audience=focal)]
            notices = [
                Notice(template="escalation_pending", audience=Audience.APPROVERS, level=requested)
            ]
            if event.data.get("copy_secretariat"):
                notices.append(Notice(template="escalation_pending", audience=Audience.SECRETARIAT))
            return notices
        case _:
            return []
