"""Activities that persist an issue's domain events."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity

from domain.issues import Issue, IssueEvent
from storage import repository


class RecordIssueEventInput(BaseModel):
    issue: Issue
    event: IssueEvent


class RecordIssueEventResult(BaseModel):
    recorded: bool


class IssueActivities:
    """Receives its engine, so tests and the worker decide which database it writes to."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="record_issue_event")
    def record_issue_event(self, data: RecordIssueEventInput) -> RecordIssueEventResult:
        """Write the read model, comment and audit row of one event in one transaction."""
        recorded = repository.record_issue_event(
            engine=self._engine,
            issue=data.issue,
            event=data.event,
            recorded_at=datetime.now(UTC),
        )
        activity.logger.debug(
            "issue event %s %s", data.event.key, "recorded" if recorded else "already recorded"
        )
        return RecordIssueEventResult(recorded=recorded)
