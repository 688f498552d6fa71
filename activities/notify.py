"""Turning an issue event into outbox rows: audiences to people, templates to messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from domain.issues import Issue, IssueEvent
from domain.links import LinkPayload, sign
from domain.notices import Audience, Notice, notices_for
from domain.roles import Role
from notifications.render import NotificationContext, render, supported_language
from storage import directory, outbox
from storage.models import OutboxRow, UserRow

ACTION_TEMPLATES = frozenset({"escalation_requested", "escalation_pending"})
DISCUSSING = frozenset({"open"})
PREFERENCES_LINK_DAYS = 365


@dataclass(frozen=True)
class MailContext:
    """What writing notifications needs besides the database."""

    public_url: str
    signing_key: bytes
    action_link_days: int = 14


def _audience(session: Session, notice: Notice, issue: Issue) -> list[UserRow]:
    match notice.audience:
        case Audience.THEME_FOCAL_POINTS:
            return outbox.theme_focal_points(session=session, theme=issue.theme)
        case Audience.APPROVERS:
            level = issue.ladder.level(notice.level or issue.level + 1)
            return outbox.users_with_roles(session=session, roles=level.approver_roles)
        case Audience.SECRETARIAT:
            return outbox.users_with_roles(session=session, roles=(Role.SECRETARIAT,))


def _link(ctx: MailContext, path: str, payload: LinkPayload) -> str:
    return f"{ctx.public_url}/{path}/{sign(payload, ctx.signing_key)}"


def preferences_url(ctx: MailContext, user_id: str, now: datetime) -> str:
    """The signed link to a user's mail preferences (also the List-Unsubscribe target)."""
    payload = LinkPayload(
        purpose="preferences",
        user_id=user_id,
        expires_at=now + timedelta(days=PREFERENCES_LINK_DAYS),
    )
    return _link(ctx, "preferences", payload)


def _context(
    session: Session,
    issue: Issue,
    event: IssueEvent,
    user: UserRow,
    ctx: MailContext,
    now: datetime,
) -> NotificationContext:
    theme = directory.get_theme(session=session, code=issue.theme)
    actor = directory.get_user(session=session, user_id=event.actor_id)
    level = issue.requested_level or issue.level
    days_before = event.data.get("days_before")
    return NotificationContext(
        recipient_name=user.name,
        issue_id=issue.id,
        issue_title=issue.title,
        theme_name=theme.name if theme else issue.theme,
        state=issue.state.value,
        level_name=issue.ladder.level(level).name if level else None,
        # The discussion deadline matters while the focal points discuss, not afterwards.
        deadline=issue.discussion_deadline if issue.state.value in DISCUSSING else None,
        days_left=days_before if isinstance(days_before, int) else None,
        actor_name=actor.name if actor else "iscflow",
        reason=event.data.get("reason"),
        outcome=event.data.get("outcome"),
        decision_text=event.data.get("text"),
        reminder_count=event.data.get("count"),
        issue_url=f"{ctx.public_url}/issues/{issue.id}",
        preferences_url=preferences_url(ctx, user.id, now),
    )


def _action_url(issue: Issue, user: UserRow, ctx: MailContext, now: datetime) -> str | None:
    if issue.escalation_requested_at is None:
        return None
    payload = LinkPayload(
        purpose="escalation",
        user_id=user.id,
        issue_id=issue.id,
        request=int(issue.escalation_requested_at.timestamp() * 1_000_000),
        expires_at=now + timedelta(days=ctx.action_link_days),
    )
    return _link(ctx, "actions", payload)


def build_outbox_rows(
    *, session: Session, issue: Issue, event: IssueEvent, ctx: MailContext, now: datetime
) -> list[OutboxRow]:
    """One row per (notice, recipient), never to the actor, keyed for idempotency."""
    rows: dict[str, OutboxRow] = {}
    for notice in notices_for(event, issue):
        for user in _audience(session, notice, issue):
            key = f"{event.key}:{notice.template}:{user.id}"
            if user.id == event.actor_id or key in rows:
                continue
            context = _context(session, issue, event, user, ctx, now)
            if notice.template in ACTION_TEMPLATES and notice.audience is Audience.APPROVERS:
                context = context.model_copy(
                    update={"action_url": _action_url(issue, user, ctx, now)}
                )
            message = render(notice.template, supported_language(user.language), context)
            rows[key] = OutboxRow(
                idempotency_key=key,
                event_key=event.key,
                kind=notice.template,
                user_id=user.id,
                status=outbox.HELD if user.digest == "daily" else outbox.PENDING,
                unsubscribe_url=context.preferences_url,
                recipient=user.email,
                language=message.language,
                subject=message.subject,
                body_text=message.text,
                body_html=message.html,
                created_at=now,
            )
    return list(rows.values())
