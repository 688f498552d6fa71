"""Task-force meetings on a real dev server: agendas, decisions, the ladder, invitations."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from domain.calendar import BusinessCalendar
from domain.issues import (
    ApproveEscalation,
    DecisionOutcome,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
)
from domain.meetings import (
    AddItem,
    DecideItem,
    ItemKind,
    MarkHeld,
    MeetingPolicy,
    MeetingState,
    RecordMinutes,
    Reschedule,
    ScheduleMeeting,
    SendAgenda,
)
from iscflow.issue_commands import CommandRejected, IssueCommands
from iscflow.mailsink import MailSink
from iscflow.meeting_commands import MeetingCommands
from iscflow.settings import Settings
from storage import repository
from tests.support.people import People

pytestmark = pytest.mark.usefixtures("worker")

DAY = 0.5  # seconds per compressed working day


@pytest.fixture
def settings(settings: Settings) -> Settings:
    policy = MeetingPolicy(
        agenda_days_before=2, minutes_due_days=2, calendar=BusinessCalendar(day_seconds=DAY)
    )
    return settings.model_copy(update={"meeting_policy": policy})


@pytest.fixture
def meetings(client: Client, settings: Settings) -> MeetingCommands:
    return MeetingCommands.from_settings(client, settings)


def _number() -> int:
    return 1000 + uuid.uuid4().int % 1_000_000


async def _escalated(commands: IssueCommands, people: People, title: str) -> str:
    issue_id = str(uuid.uuid4())
    fp = people.fp_access.actor
    await commands.raise_issue(
        fp,
        RaiseIssue(
            issue_id=issue_id, title=title, description="d", theme="accessibility",
            sector="ITU-T",
        ),
    )  # fmt: skip
    await commands.send(issue_id, fp, RequestEscalation(reason="for the task force"))
    await commands.send(issue_id, people.chair.actor, ApproveEscalation())
    return issue_id


def _schedule(number: int, in_seconds: float = 3600) -> ScheduleMeeting:
    return ScheduleMeeting(
        number=number,
        title=f"ISC-TF meeting {number}",
        starts_at=datetime.now(UTC) + timedelta(seconds=in_seconds),
        place="Geneva, Tower room",
    )


async def _held(meetings: MeetingCommands, people: People, number: int) -> None:
    secretariat = people.secretariat.actor
    await meetings.send(number, secretariat, SendAgenda())
    await meetings.send(number, secretariat, MarkHeld())


async def test_an_escalated_issue_is_on_the_next_meetings_agenda(
    commands: IssueCommands, meetings: MeetingCommands, people: People
) -> None:
    issue_id = await _escalated(commands, people, "Shared captioning contract")
    number = _number()

    meeting = await meetings.schedule(people.secretariat.actor, _schedule(number))

    assert [(i.issue_id, i.title) for i in meeting.items] == [
        (issue_id, "Shared captioning contract")
    ]


@pytest.mark.parametrize(
    ("outcome", "state", "level"),
    [
        (DecisionOutcome.RESOLVED, IssueState.DECIDED, 1),
        (DecisionOutcome.REFERRED_BACK, IssueState.OPEN, 0),
        (DecisionOutcome.ESCALATED_FURTHER, IssueState.ESCALATION_REQUESTED, 1),
        (DecisionOutcome.DEFERRED, IssueState.ESCALATED, 1),
    ],
)
async def test_each_decision_moves_the_issue_and_is_audited_on_both_streams(
    commands: IssueCommands, meetings: MeetingCommands, people: People, engine: Engine,
    outcome: DecisionOutcome, state: IssueState, level: int,
) -> None:  # fmt: skip
    issue_id = await _escalated(commands, people, f"Decision {outcome.value}")
    number = _number()
    meeting = await meetings.schedule(people.secretariat.actor, _schedule(number))
    item = next(i for i in meeting.items if i.issue_id == issue_id)
    await _held(meetings, people, number)

    decided = await meetings.send(
        number,
        people.chair.actor,
        DecideItem(item_id=item.item_id, outcome=outcome, text="Agreed."),
    )

    assert decided.item(item.item_id).outcome is outcome  # type: ignore[union-attr]
    issue = await commands.current(issue_id)
    assert issue is not None and (issue.state, issue.level) == (state, level)
    with Session(engine) as session:
        issue_audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        meeting_audit = repository.list_audit(session=session, stream=f"meeting-{number}")
    assert issue_audit[-1].action == "DecisionRecorded"
    assert issue_audit[-1].payload["reference"] == f"meeting-{number}/{item.item_id}"
    assert issue_audit[-1].actor_id == "chair"
    assert meeting_audit[-1].action == "AgendaItemDecided"
    assert meeting_audit[-1].payload["issue_id"] == issue_id


async def test_a_deferred_item_is_on_the_following_meetings_agenda(
    commands: IssueCommands, meetings: MeetingCommands, people: People
) -> None:
    issue_id = await _escalated(commands, people, "Deferred item")
    first, second = _number(), _number()
    meeting = await meetings.schedule(people.secretariat.actor, _schedule(first))
    item = next(i for i in meeting.items if i.issue_id == issue_id)
    await _held(meetings, people, first)
    await meetings.send(
        first, people.secretariat.actor,
        DecideItem(item_id=item.item_id, outcome=DecisionOutcome.DEFERRED, text="Next time."),
    )  # fmt: skip
    for other in meeting.items:
        if other.item_id != item.item_id:
            await meetings.send(
                first, people.secretariat.actor,
                DecideItem(item_id=other.item_id, outcome=DecisionOutcome.DEFERRED, text="Later."),
            )  # fmt: skip
    await meetings.send(first, people.secretariat.actor, RecordMinutes())

    following = await meetings.schedule(people.secretariat.actor, _schedule(second, 7200))

    assert issue_id in [i.issue_id for i in following.items]


async def test_an_issue_escalated_further_is_decided_by_the_executive(
    commands: IssueCommands, meetings: MeetingCommands, people: People
) -> None:
    issue_id = await _escalated(commands, people, "Beyond the task force")
    number = _number()
    meeting = await meetings.schedule(people.secretariat.actor, _schedule(number))
    item = next(i for i in meeting.items if i.issue_id == issue_id)
    await _held(meetings, people, number)
    await meetings.send(
        number, people.chair.actor,
        DecideItem(item_id=item.item_id, outcome=DecisionOutcome.ESCALATED_FURTHER, text="Up."),
    )  # fmt: skip

    executive = people.executive.actor
    approved = await commands.send(issue_id, executive, ApproveEscalation())
    decided = await commands.send(
        issue_id, executive, RecordDecision(outcome=DecisionOutcome.RESOLVED, text="Funded.")
    )

    assert (approved.level, decided.state, decided.level) == (2, IssueState.DECIDED, 2)


async def test_a_decision_for_an_item_not_on_the_agenda_is_refused_409(
    meetings: MeetingCommands, people: People
) -> None:
    number = _number()
    await meetings.schedule(people.secretariat.actor, _schedule(number))
    await _held(meetings, people, number)

    with pytest.raises(CommandRejected) as refused:
        await meetings.send(
            number, people.chair.actor,
            DecideItem(item_id="nope", outcome=DecisionOutcome.RESOLVED, text="x"),
        )  # fmt: skip

    assert refused.value.status == 409


async def test_a_focal_point_cannot_record_a_decision(
    meetings: MeetingCommands, people: People
) -> None:
    number = _number()
    meeting = await meetings.schedule(people.secretariat.actor, _schedule(number))
    await meetings.send(
        number, people.secretariat.actor,
        AddItem(
            item_kind=ItemKind.THEME_UPDATE, title="Accessibility update", theme="accessibility"
        ),
    )  # fmt: skip
    await _held(meetings, people, number)
    current = await meetings.current(number)
    assert current is not None and meeting.number == number

    with pytest.raises(CommandRejected) as refused:
        await meetings.send(
            number, people.fp_access.actor,
            DecideItem(
                item_id=current.items[-1].item_id, outcome=DecisionOutcome.RESOLVED, text="x"
            ),
        )  # fmt: skip

    assert refused.value.status == 403


def _invitations(sink: MailSink, address: str) -> list[Calendar]:
    found = []
    for message in sink.messages():
        if message["To"] != address:
            continue
        assert isinstance(message, EmailMessage)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                found.append(Calendar.from_ical(part.get_content()))
    return found


async def test_the_agenda_goes_out_by_itself_and_a_move_updates_the_invitation(
    meetings: MeetingCommands, people: People, mail_sink: MailSink
) -> None:
    number = _number()
    await meetings.schedule(people.secretariat.actor, _schedule(number, in_seconds=DAY * 2 + 1))
    for _ in range(100):
        current = await meetings.current(number)
        if current is not None and current.state is MeetingState.AGENDA_SENT:
            break
        await asyncio.sleep(0.1)
    assert current is not None and current.state is MeetingState.AGENDA_SENT

    later = datetime.now(UTC) + timedelta(hours=3)
    await meetings.send(number, people.secretariat.actor, Reschedule(starts_at=later))
    for _ in range(100):
        if len(_invitations(mail_sink, people.chair.email)) == 2:
            break
        await asyncio.sleep(0.1)

    first, second = _invitations(mail_sink, people.chair.email)
    (event1,) = first.walk("VEVENT")
    (event2,) = second.walk("VEVENT")
    assert str(event1["UID"]) == str(event2["UID"]) == f"meeting-{number}@isc-tf.iscflow.localhost"
    assert (int(event1["SEQUENCE"]), int(event2["SEQUENCE"])) == (0, 1)
    assert event2.decoded("DTSTART") == later.replace(microsecond=0)
    assert str(first["METHOD"]) == "REQUEST"
