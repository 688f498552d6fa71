"""Activities of a recommendation: persist its events (with their mail), open a linked issue."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify import MailContext, preferences_url
from domain.issues import IssueState, RaiseIssue, RequestEscalation
from domain.recommendation_reminders import Audience, RecommendationNotice, notices_for
from domain.recommendations import Recommendation, RecommendationEvent
from domain.roles import SYSTEM_ACTOR, Role
from iscflow.issue_commands import CommandRejected, IssueCommands
from notifications.render import NotificationContext, render, supported_language
from storage import directory, outbox
from storage.db import session_scope
from storage.models import OutboxRow, UserRow
from storage.recommendations import apply_recommendation_event

# Issues opened for overdue recommendations get ids derived from the recommendation's id.
ESCALATION_NAMESPACE = uuid.UUID("3c7c1d5e-9b7e-4f0a-a8f5-2f1e6b0d4c21")
ESCALATION_REASON = (
    "A high-priority oversight recommendation is overdue; the task force is asked to decide "
    "how its implementation will be completed."
)
SOURCE_NAMES = {
    "external_auditor": "External Auditor",
    "imac": "IMAC",
    "jiu": "JIU",
    "internal_audit": "Internal Audit",
}


def escalation_issue_id(rec: Recommendation) -> str:
    """Deterministic, so that a retried activity finds the issue it opened before."""
    return str(uuid.uuid5(ESCALATION_NAMESPACE, rec.id))


def reference(rec: Recommendation) -> str:
    return f"{rec.symbol}, rec. {rec.number}"


class RecordRecommendationEventInput(BaseModel):
    rec: Recommendation
    event: RecommendationEvent


class RecordRecommendationEventResult(BaseModel):
    recorded: bool
    outbox_ids: list[int] = []


class OpenEscalationIssueInput(BaseModel):
    rec: Recommendation


class OpenEscalationIssueResult(BaseModel):
    issue_id: str
    escalation_requested: bool


class RecommendationActivities:
    """Receives its engine, mail context and issue sender, so tests can choose them."""

    def __init__(
        self, engine: Engine, mail: MailContext, issues: IssueCommands | None = None
    ) -> None:
        self._engine = engine
        self._mail = mail
        self._issues = issues

    def _record(
        self, data: RecordRecommendationEventInput, now: datetime
    ) -> RecordRecommendationEventResult:
        with session_scope(self._engine) as session:
            if not apply_recommendation_event(
                session=session, rec=data.rec, event=data.event, recorded_at=now
            ):
                ids = outbox.outbox_ids_for_event(session=session, event_key=data.event.key)
                return RecordRecommendationEventResult(recorded=False, outbox_ids=ids)
            rows = build_outbox_rows(
                session=session, rec=data.rec, event=data.event, ctx=self._mail, now=now
            )
            session.add_all(rows)
            session.flush()
            ids = [r.id for r in rows if r.id is not None and r.status == outbox.PENDING]
            return RecordRecommendationEventResult(recorded=True, outbox_ids=ids)

    @activity.defn(name="record_recommendation_event")
    def record_recommendation_event(
        self, data: RecordRecommendationEventInput
    ) -> RecordRecommendationEventResult:
        """Read model, progress, risk links, audit row and outbox rows, in one transaction."""
        now = datetime.now(UTC)
        try:
            return self._record(data, now)
        except IntegrityError:
            # A concurrent attempt at the same event won; answer as a retry would.
            return self._record(data, now)

    def _owner_sector(self, owner_id: str) -> str:
        with session_scope(self._engine) as session:
            owner = directory.get_user(session=session, user_id=owner_id)
            return owner.sector_code if owner and owner.sector_code else "GS"

    @activity.defn(name="open_escalation_issue")
    async def open_escalation_issue(
        self, data: OpenEscalationIssueInput
    ) -> OpenEscalationIssueResult:
        """Open one key issue in the owner's theme and request its escalation; idempotent."""
        if self._issues is None:
            raise ApplicationError("no issue sender configured", non_retryable=True)
        rec = data.rec
        sector = await asyncio.to_thread(self._owner_sector, rec.record.owner_id)
        command = escalation_issue(rec, sector)
        try:
            issue = await self._issues.raise_issue(SYSTEM_ACTOR, command)
            # Version 1: nothing has happened to it yet, so the escalation was not requested.
            fresh = issue.version == 1 and issue.state is IssueState.OPEN
            if fresh:
                request = RequestEscalation(reason=ESCALATION_REASON)
                await self._issues.send(command.issue_id, SYSTEM_ACTOR, request)
        except CommandRejected as refused:
            if refused.status >= 500:
                raise  # no worker answered: worth retrying
            raise ApplicationError(refused.message, non_retryable=True) from None
        return OpenEscalationIssueResult(issue_id=command.issue_id, escalation_requested=fresh)


def escalation_issue(rec: Recommendation, sector: str) -> RaiseIssue:
    """The key issue an overdue high-priority recommendation opens."""
    record = rec.record
    target = record.target_date.isoformat() if record.target_date else "none"
    body = (
        f"{record.title}\n\n{record.text}\n\n"
        f"Source: {SOURCE_NAMES[rec.source.value]}, {reference(rec)}. Target date: {target}. "
        f"Owner: {record.owner_id}. Implementation: {rec.implementation.value}, "
        f"{rec.progress}% reported.\n\n"
        "Raised automatically by iscflow because this high-priority recommendation is overdue."
    )
    return RaiseIssue(
        issue_id=escalation_issue_id(rec),
        title=f"Overdue high-priority recommendation {reference(rec)}"[:200],
        description=body[:10_000],
        theme=record.theme,
        sector=sector,
        origin=rec.issue_origin,
    )


def _audience(session: Session, notice: RecommendationNotice, rec: Recommendation) -> list[UserRow]:
    if notice.audience is Audience.SECRETARIAT:
        return outbox.users_with_roles(session=session, roles=(Role.SECRETARIAT,))
    owner = directory.get_user(session=session, user_id=rec.record.owner_id)
    return [owner] if owner is not None and owner.active else []


def _context(
    session: Session,
    rec: Recommendation,
    event: RecommendationEvent,
    user: UserRow,
    ctx: MailContext,
    now: datetime,
) -> NotificationContext:
    theme = directory.get_theme(session=session, code=rec.record.theme)
    actor = directory.get_user(session=session, user_id=event.actor_id)
    days_before, count = event.data.get("days_before"), event.data.get("count")
    return NotificationContext(
        recipient_name=user.name,
        issue_id=reference(rec),
        issue_title=rec.record.title,
        theme_name=theme.name if theme else rec.record.theme,
        deadline=rec.target_at,
        days_left=days_before if isinstance(days_before, int) else None,
        reminder_count=count if isinstance(count, int) else None,
        actor_name=actor.name if actor else None,
        reason=event.data.get("reason"),
        issue_url=f"{ctx.public_url}/recommendations/{rec.id}",
        preferences_url=preferences_url(ctx, user.id, now),
    )


def build_outbox_rows(
    *,
    session: Session,
    rec: Recommendation,
    event: RecommendationEvent,
    ctx: MailContext,
    now: datetime,
) -> list[OutboxRow]:
    """One row per (notice, recipient), never to the actor, keyed for idempotency."""
    rows: dict[str, OutboxRow] = {}
    for notice in notices_for(event):
        for user in _audience(session, notice, rec):
            key = f"{event.key}:{notice.template}:{user.id}"
            if user.id == event.actor_id or key in rows:
                continue
            context = _context(session, rec, event, user, ctx, now)
            message = render(notice.template, supported_language(user.language), context)
            rows[key] = OutboxRow(
                idempotency_key=key,
                event_key=event.key,
                kind=notice.template,
                user_id=user.id,
                # Not held for the daily digest, which lists key issues only.
                status=outbox.PENDING,
                unsubscribe_url=context.preferences_url,
                recipient=user.email,
                language=message.language,
                subject=message.subject,
                body_text=message.text,
                body_html=message.html,
                created_at=now,
            )
    return list(rows.values())
