"""What the issue pages show: facts, the timeline from the audit trail, comments, forms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from api.rights import IssueAction
from domain.ladder import Ladder
from storage import directory, repository
from storage.models import AuditEventRow, CommentRow, IssueRow
from web.deps import WebUser
from web.i18n import Locale, _
from web.issue_actions import Refusal, allowed_actions, decision_outcomes

# Payload entries the timeline shows, with their label, in this order.
DETAILS: tuple[tuple[str, str], ...] = (
    ("reason", _("Reason")),
    ("note", _("Note")),
    ("resolution", _("Resolution")),
    ("outcome", _("Outcome")),
    ("text", _("Decision")),
    ("body", _("Comment")),
    ("level", _("Level")),
    ("discussion_deadline", _("Discussion deadline")),
    ("reminder", _("Reminder")),
)
CODED = {"outcome", "reminder"}


def level_name(ladder: Ladder, level: int | None) -> str:
    """The English name of a ladder level (shown through the `label` filter)."""
    if not level:
        return "Focal points"
    try:
        return ladder.level(level).name
    except KeyError:
        return str(level)


def names_of(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Display names of users by id; the system and unknown ids keep their id."""
    names: dict[str, str] = {}
    for user_id in set(ids):
        user = directory.get_user(session=session, user_id=user_id)
        names[user_id] = user.name if user is not None else user_id
    return names


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str | None
    details: list[tuple[str, str]]


def _detail(key: str, value: Any, ladder: Ladder, locale: Locale) -> str:
    if key == "discussion_deadline":
        return locale.when(datetime.fromisoformat(str(value)))
    if key == "level":
        return locale.gettext(level_name(ladder, int(value)))
    if key in CODED:
        return locale.gettext(str(value))
    return str(value)


def timeline(
    rows: list[AuditEventRow], names: dict[str, str], ladder: Ladder, locale: Locale
) -> list[TimelineEntry]:
    entries = []
    for row in rows:
        details = [
            (locale.gettext(label), _detail(key, row.payload[key], ladder, locale))
            for key, label in DETAILS
            if row.payload.get(key) not in (None, "")
        ]
        entries.append(
            TimelineEntry(
                at=row.occurred_at,
                actor=names.get(row.actor_id, row.actor_id),
                role=row.actor_role,
                action=row.action,
                from_state=row.from_state,
                to_state=row.to_state,
                details=details,
            )
        )
    return entries


@dataclass(frozen=True)
class IssuePage:
    row: IssueRow
    theme_name: str
    sector_name: str
    author: str
    comments: list[tuple[CommentRow, str]]
    timeline: list[TimelineEntry]
    actions: frozenset[IssueAction]
    outcomes: list[str]
    level: str
    requested_level: str | None


def issue_page(engine: Engine, issue_id: str, user: WebUser, ladder: Ladder) -> IssuePage | None:
    """Everything the issue page shows to `user`, or None if there is no such issue."""
    with Session(engine, expire_on_commit=False) as session:
        row = repository.get_issue(session=session, issue_id=issue_id)
        if row is None:
            return None
        comments = repository.list_comments(session=session, issue_id=issue_id)
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        theme = directory.get_theme(session=session, code=row.theme_code)
        sector = directory.get_sector(session=session, code=row.sector_code)
        names = names_of(
            session, [row.author_id, *(c.author_id for c in comments), *(a.actor_id for a in audit)]
        )
        session.expunge_all()
    return IssuePage(
        row=row,
        theme_name=theme.name if theme else row.theme_code,
        sector_name=sector.name if sector else row.sector_code,
        author=names[row.author_id],
        comments=[(c, names[c.author_id]) for c in comments],
        timeline=timeline(audit, names, ladder, user.locale),
        actions=allowed_actions(user.actor, ladder, row),
        outcomes=[o.value for o in decision_outcomes(ladder, row)],
        level=level_name(ladder, row.level),
        requested_level=level_name(ladder, row.requested_level) if row.requested_level else None,
    )


def page_context(page: IssuePage, refusal: Refusal | None, form: str | None) -> dict[str, Any]:
    """Template values of the issue page; `form` names the form a refusal belongs to."""
    return {
        "issue": page.row,
        "view": page,
        "may": {a.name.lower(): a in page.actions for a in IssueAction},
        "refusal": refusal,
        "refused_form": form,
        "values": refusal.values if refusal is not None else {},
    }
