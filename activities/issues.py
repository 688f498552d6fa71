"""Activities that persist an issue's domain events and the notifications they cause."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from temporalio import activity

from activities.notify import MailContext, build_outbox_rows
from domain.issues import Issue, IssueEvent
from storage import outbox, repository
from storage.db import session_scope


class RecordIssueEventInput(BaseModel):
    issue: Issue
    event: IssueEvent
    # Workflows started before notifications existed record without writing any.
    notify: bool = False


class RecordIssueEventResult(BaseModel):
    recorded: bool
    outbox_ids: list[int] = []


class IssueActivities:
    """Receives its engine, so tests and the worker decide which database it writes to."""

    def __init__(self, engine: Engine, mail: MailContext | None = None) -> None:
        self._engine = engine
        self._mail = mail

    def _record(self, data: RecordIssueEventInput, now: datetime) -> RecordIssueEventResult:
        with session_scope(self._engine) as session:
            if not repository.apply_issue_event(
                session=session, issue=data.issue, event=data.event, recorded_at=now
            ):
                # Recorded by an earlier attempt: hand back its notifications to send.
                ids = outbox.outbox_ids_for_event(session=session, event_key=data.event.key)
                return RecordIssueEventResult(recorded=False, outbox_ids=ids)
            if not (data.notify and self._mail):
                return RecordIssueEventResult(recorded=True)
            rows = build_outbox_rows(
                session=session, issue=data.issue, event=data.event, ctx=self._mail, now=now
            )
            session.add_all(rows)
            session.flush()
            ids = [r.id for r in rows if r.id is not None and r.status == outbox.PENDING]
            return RecordIssueEventResult(recorded=True, outbox_ids=ids)

    @activity.defn(name="record_issue_event")
    def record_issue_event(self, data: RecordIssueEventInput) -> RecordIssueEventResult:
        """Read model, comment, audit row and outbox rows of one event, in one transaction."""
        now = datetime.now(UTC)
        try:
            result = self._record(data, now)
        except IntegrityError:
            # A concurrent attempt at the same event won; answer as a retry would.
            result = self._record(data, now)
        activity.logger.debug(
            "issue event %s %s", data.event.key, "recorded" if result.recorded else "known"
        )
        return result
