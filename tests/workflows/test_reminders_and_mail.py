"""Reminders as durable timers, delivered by e-mail to a real SMTP server.

Working days are compressed (a "working day" lasts a fraction of a second) so that whole
reminder ladders run in seconds; the planning itself is tested with an explicit `now` in
tests/unit/test_reminders.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from domain.calendar import BusinessCalendar
from domain.issues import (
    AddComment,
    IssueState,
    RaiseIssue,
    RequestEscalation,
    SetDeadline,
)
from domain.policy import IssuePolicy
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import Settings
from storage import directory, repository
from storage.db import session_scope, utc
from tests.support.people import People
from worker import build_worker

DAY = 0.4  # seconds per compressed working day


@pytest.fixture
def settings(settings: Settings) -> Settings:
    policy = IssuePolicy(
        discussion_days=6,
        reminder_days_before=(3, 1),
        quiet_days_after_activity=2,
        approver_reminder_every_days=2,
        approver_reminders_before_copy=2,
        calendar=BusinessCalendar(day_seconds=DAY),
    )
    return settings.model_copy(update={"issue_policy": policy})


@pytest.fixture
async def worker(client: Client, engine: Engine, settings: Settings) -> AsyncIterator[None]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(client, engine=engine, settings=settings, executor=executor):
            yield


pytestmark = pytest.mark.usefixtures("worker")


def _raise(issue_id: str) -> RaiseIssue:
    return RaiseIssue(
        issue_id=issue_id,
        title="Captioning budget",
        description="Who pays for captioning?",
        theme="accessibility",
        sector="ITU-T",
    )


async def _wait_for(
    sink: MailSink, predicate: Callable[[list[EmailMessage]], bool]
) -> list[EmailMessage]:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        messages = sink.messages()
        if predicate(messages):
            return messages
        assert asyncio.get_running_loop().time() < deadline, [m["Subject"] for m in messages]
        await asyncio.sleep(0.1)


def _kinds_to(messages: list[EmailMessage], address: str) -> list[str]:
    return [str(m["X-Iscflow-Kind"]) for m in messages if m["To"] == address]


async def test_reminders_then_automatic_escalation_then_widening_ladder(
    commands: IssueCommands, people: People, mail_sink: MailSink, engine: Engine
) -> None:
    with session_scope(engine) as session:
        directory.set_preferences(session=session, user_id="fp_access_d", language="fr")
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))

    messages = await _wait_for(
        mail_sink,
        lambda ms: _kinds_to(ms, "secretariat@example.org") == ["escalation_pending"],
    )

    assert _kinds_to(messages, "fp_access_d@example.org") == [
        "issue_raised",
        "discussion_reminder",
        "discussion_reminder",
        "deadline_passed",
    ]
    assert _kinds_to(messages, "fp_access@example.org") == [
        "discussion_reminder",
        "discussion_reminder",
        "deadline_passed",
    ]  # the author is not told of their own issue, but of the reminders
    assert _kinds_to(messages, "chair@example.org")[:4] == [
        "escalation_requested",
        "escalation_pending",
        "escalation_pending",
        "escalation_pending",
    ]
    french = [m for m in messages if m["To"] == "fp_access_d@example.org"]
    assert {m["Content-Language"] for m in french} == {"fr"}
    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
    requested = next(a for a in audit if a.action == "EscalationRequested")
    assert (requested.actor_id, requested.actor_role) == ("system", "system")
    reminders = [a.payload for a in audit if a.action == "ReminderSent"]
    assert [r.get("days_before") for r in reminders[:2]] == [3, 1]
    assert [r["copy_secretariat"] for r in reminders[2:5]] == [False, False, True]


async def test_a_comment_pushes_the_next_reminder_out(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    await asyncio.sleep(DAY * 1.5)  # before the 3-day reminder (due at day 3)
    commented = await commands.send(issue_id, people.fp_access_d.actor, AddComment(body="soon"))

    # Wait for the automatic escalation at the deadline; on a slow machine the chair's first
    # reminder may already follow it, so only the discussion reminders before it are compared.
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        with Session(engine) as session:
            audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        actions = [a.action for a in audit]
        if "EscalationRequested" in actions:
            break
        assert asyncio.get_running_loop().time() < deadline, actions
        await asyncio.sleep(0.1)
    before_escalation = audit[: actions.index("EscalationRequested")]
    reminders = [a for a in before_escalation if a.action == "ReminderSent"]
    quiet_until = commented.updated_at + timedelta(seconds=DAY * 2)
    assert [r.payload["days_before"] for r in reminders] == [3, 1]
    assert utc(reminders[0].occurred_at) >= quiet_until


async def test_set_deadline_cancels_and_replans_the_reminders(
    commands: IssueCommands, people: People, engine: Engine, mail_sink: MailSink
) -> None:
    issue_id = str(uuid.uuid4())
    issue = await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    later = issue.created_at + timedelta(seconds=DAY * 60)
    moved = await commands.send(issue_id, people.chair.actor, SetDeadline(deadline=later))
    await asyncio.sleep(DAY * 8)  # past the original deadline and both original reminders

    assert moved.state is IssueState.OPEN
    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
    assert [a.action for a in audit] == ["IssueRaised", "DeadlineChanged"]
    assert audit[1].actor_id == "chair"
    assert _kinds_to(mail_sink.messages(), "fp_access@example.org") == []


async def test_approval_ends_the_approver_reminders(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    from domain.issues import ApproveEscalation

    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    await commands.send(issue_id, people.fp_access.actor, RequestEscalation(reason="now"))
    await commands.send(issue_id, people.chair.actor, ApproveEscalation())
    await asyncio.sleep(DAY * 5)

    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
    assert "ReminderSent" not in [a.action for a in audit]
