"""The digest: one mail per user who chose it, listing what waits for them."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity

from activities.notify import MailContext, preferences_url
from domain.ladder import Ladder
from domain.roles import Role
from notifications.render import DigestItem, NotificationContext, render, supported_language
from storage import directory, outbox
from storage.db import session_scope, utc
from storage.models import OutboxRow, UserRow


class PrepareDigestsInput(BaseModel):
    period: str  # identifies this digest run; one digest per user and period


class PrepareDigestsResult(BaseModel):
    outbox_ids: list[int]


class DigestActivities:
    def __init__(self, engine: Engine, mail: MailContext, ladder: Ladder) -> None:
        self._engine = engine
        self._mail = mail
        self._ladder = ladder

    def _levels(self, role: Role) -> tuple[list[int], list[int]]:
        approve = [lvl.level for lvl in self._ladder.levels if role in lvl.approver_roles]
        decide = [lvl.level for lvl in self._ladder.levels if role in lvl.decider_roles]
        return approve, decide

    def _digest_for(self, user: UserRow, period: str, now: datetime) -> OutboxRow | None:
        with session_scope(self._engine) as session:
            role = Role(user.role)
            approve, decide = self._levels(role)
            themes = directory.themes_of(session=session, user_id=user.id)
            waiting = outbox.waiting_issues(
                session=session, themes=themes, approver_levels=approve, decider_levels=decide
            )
            held = outbox.held_for(session=session, user_id=user.id)
            if not waiting and not held:
                return None
            for row in held:
                row.status = outbox.DIGESTED
                session.add(row)
            context = NotificationContext(
                recipient_name=user.name,
                preferences_url=preferences_url(self._mail, user.id, now),
                items=[
                    DigestItem(
                        title=issue.title,
                        state=issue.state,
                        url=f"{self._mail.public_url}/issues/{issue.id}",
                        since=utc(issue.updated_at),
                    )
                    for issue in waiting
                ],
            )
            message = render("digest", supported_language(user.language), context)
            row = OutboxRow(
                idempotency_key=f"digest:{user.id}:{period}",
                event_key=f"digest:{period}",
                kind="digest",
                user_id=user.id,
                unsubscribe_url=context.preferences_url,
                recipient=user.email,
                language=message.language,
                subject=message.subject,
                body_text=message.text,
                body_html=message.html,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return row

    @activity.defn(name="prepare_digests")
    def prepare_digests(self, data: PrepareDigestsInput) -> PrepareDigestsResult:
        """Write this period's digests (once per user and period); return the rows to send."""
        now = datetime.now(UTC)
        with session_scope(self._engine) as session:
            users = outbox.digest_users(session=session)
            keys = [f"digest:{u.id}:{data.period}" for u in users]
            existing = outbox.outbox_ids_for_keys(session=session, keys=keys)
        ids = list(existing.values())
        for user in users:
            if f"digest:{user.id}:{data.period}" in existing:
                continue
            row = self._digest_for(user, data.period, now)
            if row is not None and row.id is not None:
                ids.append(row.id)
        return PrepareDigestsResult(outbox_ids=sorted(ids))
