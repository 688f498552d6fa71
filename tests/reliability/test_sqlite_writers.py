"""Sixteen concurrent writers on SQLite through the real paths: never "database is locked".

`tests/storage/test_storage.py` runs 16 writers on the repository; these go through the
activity that the worker runs (read model, audit row and outbox rows in one transaction)
from 16 threads at once, as 16 lifecycles on a worker with 16 activity slots, and through
the HTTP API with readers alongside.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.issues import IssueActivities, RecordIssueEventInput
from activities.notify import MailContext
from api.app import create_app
from domain.issues import AddComment, Issue, IssueEvent, RaiseIssue, RequestEscalation
from iscflow.issue_commands import IssueCommands
from iscflow.settings import Settings
from storage import repository
from storage.models import AuditEventRow, OutboxRow
from tests.support.lifecycles import ESCALATED_AND_CLOSED, audit_actions, drive
from tests.support.people import People
from worker import ACTIVITY_THREADS

WRITERS = 16
READERS = 32
ISSUES_PER_WRITER = 5
NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    yield sqlite_engine


def _events(people: People, issue_id: str) -> list[tuple[Issue, IssueEvent]]:
    """Raise (mails fp_access_d), comment, request escalation (mails the chair)."""
    fp = people.fp_access.actor
    issue, raised = Issue.raise_issue(
        RaiseIssue(
            issue_id=issue_id, title="Written by many", description="d", theme="accessibility",
            sector="ITU-T",
        ),
        fp,
        NOW,
    )  # fmt: skip
    commented, comment = issue.handle(AddComment(body="+1"), people.chair.actor, NOW)
    requested, request = commented.handle(RequestEscalation(reason="r"), fp, NOW)
    return [(issue, raised), (commented, comment), (requested, request)]


def _count(engine: Engine, table: type[AuditEventRow] | type[OutboxRow]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_sixteen_threads_running_the_record_activity_never_see_a_locked_database(
    engine: Engine, people: People
) -> None:
    mail = MailContext(public_url="http://iscflow.test", signing_key=b"k" * 32)
    activities = IssueActivities(engine, mail)
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        env = ActivityEnvironment()
        start.wait()
        try:
            for k in range(ISSUES_PER_WRITER):
                for issue, event in _events(people, f"writer-{n}-{k}"):
                    data = RecordIssueEventInput(issue=issue, event=event, notify=True)
                    assert env.run(activities.record_issue_event, data).recorded
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    issues = WRITERS * ISSUES_PER_WRITER
    assert _count(engine, AuditEventRow) == issues * 3
    assert _count(engine, OutboxRow) == issues * 2  # issue_raised + escalation_requested


@pytest.mark.usefixtures("worker")
async def test_sixteen_lifecycles_on_one_worker_never_retry_an_activity(
    engine: Engine, people: People, client: Client, commands: IssueCommands
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(ACTIVITY_THREADS)]

    states = await asyncio.gather(*(drive(commands, people, i, ESCALATED_AND_CLOSED) for i in ids))
    await asyncio.wait_for(
        asyncio.gather(*(client.get_workflow_handle(f"issue-{i}").result() for i in ids)),
        timeout=timedelta(seconds=60).total_seconds(),
    )

    assert states == [ESCALATED_AND_CLOSED.final] * len(ids)
    assert audit_actions(engine) == {f"issue-{i}": ESCALATED_AND_CLOSED.actions for i in ids}
    # A "database is locked" error would fail an attempt and show as a retry in the history.
    attempts = []
    for issue_id in ids:
        history = await client.get_workflow_handle(f"issue-{issue_id}").fetch_history()
        attempts += [
            e.activity_task_started_event_attributes.attempt
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        ]
    assert len(attempts) == len(ids) * (
        len(ESCALATED_AND_CLOSED.steps) + len(ESCALATED_AND_CLOSED.mails)
    )
    assert set(attempts) == {1}


@pytest.mark.usefixtures("worker")
async def test_sixteen_concurrent_api_writers_on_sqlite_never_see_a_locked_database(
    engine: Engine, people: People, client: Client, settings: Settings
) -> None:
    """16 issues raised at once (each read, then written by the worker) while 32 reads run.

    Together they outnumber the server's thread pool (40). A request waiting for SQLite's
    write lock once blocked the event loop, which the lock's holder needed to close its
    session: every request then waited out the busy timeout and failed "database is locked".
    """
    issue, raised = _events(people, "busy")[0]
    repository.record_issue_event(engine=engine, issue=issue, event=raised, recorded_at=NOW)
    app = create_app(settings, engine=engine, client=client)
    fp = {"Authorization": f"Bearer {people.fp_access.token}"}
    chair = {"Authorization": f"Bearer {people.chair.token}"}
    raise_body = {"title": "Raised at once", "description": "d", "theme": "accessibility"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://iscflow.test") as api:
            responses = await asyncio.gather(
                *(api.post("/api/v1/issues", json=raise_body, headers=fp) for _ in range(WRITERS)),
                *(api.get("/api/v1/issues/busy", headers=chair) for _ in range(READERS)),
            )

    statuses = [r.status_code for r in responses]
    failures = [r.text for r in responses if r.status_code >= 300]
    assert statuses == [201] * WRITERS + [200] * READERS, failures
    raised_ids = {r.json()["id"] for r in responses[:WRITERS]}
    streams = audit_actions(engine)
    assert all(streams[f"issue-{i}"] == ["IssueRaised"] for i in raised_ids)
    assert len(raised_ids) == WRITERS
