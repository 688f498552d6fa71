"""RecommendationWorkflow against a real Temporal server, SQL database and SMTP server.

Working days are compressed (a "day" lasts DAY seconds), so a target date five weeks away is
a few seconds away. The planning itself is tested with an explicit `now` in
tests/unit/test_recommendation_reminders.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecutionStatus

from activities.notify import MailContext
from activities.recommendations import OpenEscalationIssueInput, RecommendationActivities
from domain.calendar import BusinessCalendar
from domain.recommendation_commands import (
    ClaimImplemented,
    CreateRecommendation,
    ReportProgress,
    VerifyImplementation,
)
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import Acceptance, Implementation, Priority
from iscflow.issue_commands import CommandRejected, IssueCommands
from iscflow.mailsink import MailSink
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.recommendation_settings import RecommendationSettings
from iscflow.settings import Settings
from storage import directory, repository
from storage.db import session_scope, utc
from storage.models import IssueRow, RecommendationRow
from tests.support.people import People
from tests.support.recommendations import create_command

DAY = 0.1  # seconds per compressed working day
EVIDENCE = ("https://www.itu.int/en/council/Documents/evidence.pdf",)
T = TypeVar("T")

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    policy = RecommendationPolicy(calendar=BusinessCalendar(day_seconds=DAY))
    return settings.model_copy(
        update={"recommendations": RecommendationSettings(policy=policy, continue_as_new_after=40)}
    )


@pytest.fixture
def recs(client: Client, settings: Settings) -> RecommendationCommands:
    return RecommendationCommands.from_settings(client, settings)


def _in_days(settings: Settings, days: int) -> date:
    """A target date `days` calendar days from today, as the compressed calendar counts."""
    zone = settings.recommendations.policy.calendar.zone
    return datetime.now(zone).date() + timedelta(days=days)


def _accepted(settings: Settings, days: int, **kwargs: Any) -> CreateRecommendation:
    """Accepted, with a report symbol of its own: tests share one Temporal server."""
    return create_command(
        symbol=f"IA/{uuid.uuid4().hex[:10]}",
        acceptance=Acceptance.ACCEPTED,
        target_date=_in_days(settings, days),
        **kwargs,
    )


async def _eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll until `probe` answers something; fail after 30 s with `what`."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        found = await probe()
        if found is not None:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _audit(engine: Engine, stream: str) -> list[Any]:
    with Session(engine) as session:
        return repository.list_audit(session=session, stream=stream)


def _kinds(sink: MailSink, address: str) -> list[str]:
    messages: list[EmailMessage] = sink.messages()
    return [str(m["X-Iscflow-Kind"]) for m in messages if m["To"] == address]


async def test_owner_reminders_arrive_on_time(
    recs: RecommendationCommands,
    people: People,
    settings: Settings,
    engine: Engine,
    mail_sink: MailSink,
) -> None:
    with session_scope(engine) as session:  # reminders are not held for a digest
        directory.set_preferences(
            session=session, user_id="fp_access", language="fr", digest="daily"
        )
    rec = await recs.create(people.secretariat.actor, _accepted(settings, 35))
    owner = "fp_access@example.org"

    async def five_reminders() -> list[str] | None:
        kinds = _kinds(mail_sink, owner)
        return kinds if len(kinds) >= 5 else None

    kinds = await _eventually(five_reminders, "three reminders and two overdue notices")

    assert kinds[:5] == ["recommendation_due"] * 3 + ["recommendation_overdue"] * 2
    sent = [a for a in _audit(engine, rec.id) if a.action == "ReminderSent"]
    assert [a.payload.get("days_before") for a in sent[:3]] == [30, 7, 1]
    # Planned, in compressed days after creation: 35-30, 35-7, 35-1, then the first working
    # day after the target, then 5 working days later. None goes out before its time.
    for event, day in zip(sent, [5, 28, 34, 36, 41], strict=False):
        assert utc(event.occurred_at) >= rec.created_at + timedelta(seconds=day * DAY)
    assert all(a.actor_id == "system" for a in sent)
    first = next(m for m in mail_sink.messages() if m["To"] == owner)
    assert str(first["Subject"]).startswith("[ISC-TF] Rappel : il reste 30 jours ouvrables")
    assert first["Content-Language"] == "fr"


async def test_verification_by_an_auditor_closes_and_a_focal_point_cannot_verify(
    recs: RecommendationCommands, people: People, settings: Settings, client: Client
) -> None:
    command = _accepted(settings, 300)
    rec = await recs.create(people.secretariat.actor, command)
    await recs.send(
        rec.id, people.fp_access.actor, ReportProgress(percentage=50, narrative="Half done.")
    )
    await recs.send(
        rec.id, people.fp_access.actor, ClaimImplemented(narrative="Done.", evidence=EVIDENCE)
    )

    with pytest.raises(CommandRejected) as refused:
        await recs.send(rec.id, people.fp_access.actor, VerifyImplementation())
    assert refused.value.status == 403

    verified = await recs.send(rec.id, people.auditor.actor, VerifyImplementation(note="Seen."))
    assert verified.implementation is Implementation.VERIFIED
    handle = client.get_workflow_handle(rec.id)
    await handle.result()  # a closed recommendation's workflow completes
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED

    again = await recs.create(people.secretariat.actor, command)
    assert (again.implementation, again.version) == (Implementation.VERIFIED, verified.version)
    with pytest.raises(CommandRejected) as closed:
        await recs.send(rec.id, people.fp_access.actor, ReportProgress(percentage=1, narrative="x"))
    assert (closed.value.status, closed.value.details["current_state"]) == (409, "verified")


async def test_a_repeated_create_returns_the_same_recommendation(
    recs: RecommendationCommands, people: People, settings: Settings
) -> None:
    command = _accepted(settings, 300)
    first = await recs.create(people.secretariat.actor, command)
    second = await recs.create(people.secretariat.actor, command)

    assert second == first
    with pytest.raises(CommandRejected) as refused:
        await recs.create(people.fp_access.actor, command)
    assert refused.value.status == 403


async def test_continue_as_new_keeps_state_and_pending_reminders(
    recs: RecommendationCommands,
    people: People,
    settings: Settings,
    engine: Engine,
    client: Client,
) -> None:
    rec = await recs.create(people.secretariat.actor, _accepted(settings, 40))
    handle = client.get_workflow_handle(rec.id)
    first_run = (await handle.describe()).run_id

    async def thirty_day_reminder() -> bool | None:
        sent = [a for a in _audit(engine, rec.id) if a.action == "ReminderSent"]
        return True if sent else None

    await _eventually(thirty_day_reminder, "the 30-day reminder")
    fp = people.fp_access.actor
    for percentage in range(10, 90, 10):  # enough history to pass the limit of 40 events
        await recs.send(rec.id, fp, ReportProgress(percentage=percentage, narrative="More."))

    async def new_run() -> str | None:
        run_id = (await handle.describe()).run_id
        return run_id if run_id != first_run else None

    await _eventually(new_run, "a continued run")
    old = client.get_workflow_handle(rec.id, run_id=first_run)
    assert (await old.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    carried = await recs.current(rec.id)
    assert carried is not None
    assert (carried.progress, carried.reminders_sent) == (80, (30,))

    async def all_reminders() -> list[Any] | None:
        sent = [a.payload.get("days_before") for a in _audit(engine, rec.id)]
        return sent if sent.count(1) else None

    await _eventually(all_reminders, "the 1-day reminder after continue-as-new")
    reminders = [
        a.payload["days_before"]
        for a in _audit(engine, rec.id)
        if a.action == "ReminderSent" and a.payload["reminder"] == "due"
    ]
    assert reminders == [30, 7, 1]
    progress = await recs.send(rec.id, fp, ReportProgress(percentage=90, narrative="Nearly."))
    assert progress.version > carried.version


async def test_an_overdue_high_priority_recommendation_opens_exactly_one_linked_issue(
    recs: RecommendationCommands,
    people: People,
    settings: Settings,
    engine: Engine,
    client: Client,
) -> None:
    command = _accepted(settings, -1, priority=Priority.HIGH)
    rec = await recs.create(people.secretariat.actor, command)

    def linked() -> RecommendationRow | None:
        with Session(engine) as session:
            row = session.get(RecommendationRow, rec.id)
            return row if row is not None and row.escalation_issue_id else None

    async def probe() -> RecommendationRow | None:
        return linked()

    row = await _eventually(probe, "the linked issue")
    await asyncio.sleep(12 * DAY)  # two more overdue reminders: still one issue

    with Session(engine) as session:
        issues = session.exec(
            select(IssueRow).where(IssueRow.origin == f"recommendation:{rec.id}")
        ).all()
        assert [i.id for i in issues] == [row.escalation_issue_id]
        assert (issues[0].state, issues[0].theme_code) == ("escalation_requested", "accessibility")
        trail = repository.list_audit(session=session, stream=f"issue-{issues[0].id}")
    assert [(a.action, a.actor_id) for a in trail[:2]] == [
        ("IssueRaised", "system"),
        ("EscalationRequested", "system"),
    ]
    opened = [a for a in _audit(engine, rec.id) if a.action == "EscalationIssueOpened"]
    assert len(opened) == 1

    # A retried activity finds the same issue and asks for nothing more.
    activities = RecommendationActivities(
        engine,
        MailContext(public_url="http://iscflow.test", signing_key=b"k" * 32),
        IssueCommands.from_settings(client, settings),
    )
    current = await recs.current(rec.id)
    assert current is not None
    retried = await activities.open_escalation_issue(OpenEscalationIssueInput(rec=current))
    assert (retried.issue_id, retried.escalation_requested) == (row.escalation_issue_id, False)
    with Session(engine) as session:
        again = session.exec(
            select(IssueRow).where(IssueRow.origin == f"recommendation:{rec.id}")
        ).all()
        assert len(again) == 1 and again[0].version == issues[0].version
