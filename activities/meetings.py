"""Activities of the meeting workflow: persist, build the agenda, deliver decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify import MailContext, preferences_url
from domain.issues import RecordDecision
from domain.meetings import Meeting, MeetingEvent
from domain.roles import Actor, Role
from iscflow.issue_commands import STATUS_BY_TYPE, CommandRejected, IssueCommands
from notifications.render import NotificationContext, render, supported_language
from storage import meetings, outbox
from storage.db import session_scope
from storage.models import OutboxRow, UserRow

MEETING_LENGTH = timedelta(hours=2)
# Who is invited to task-force meetings (the auditor attends as an observer).
MEMBER_ROLES = (Role.CHAIR, Role.SECRETARIAT, Role.FOCAL_POINT, Role.AUDITOR)
TYPE_BY_STATUS = {status: name for name, status in STATUS_BY_TYPE.items()}


class RecordMeetingEventInput(BaseModel):
    meeting: Meeting
    event: MeetingEvent


class RecordMeetingEventResult(BaseModel):
    recorded: bool
    outbox_ids: list[int] = []


class AgendaCandidate(BaseModel):
    issue_id: str
    title: str


class AgendaCandidates(BaseModel):
    items: list[AgendaCandidate]


class DeliverDecisionInput(BaseModel):
    issue_id: str
    actor: Actor
    decision: RecordDecision


class DeliverDecisionResult(BaseModel):
    issue_state: str


def invitation(meeting: Meeting, list_id: str, organiser: str) -> str:
    """An iCalendar REQUEST whose UID is stable and whose SEQUENCE grows on every change."""
    calendar = Calendar()
    calendar.add("prodid", "-//iscflow//ISC-TF meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"meeting-{meeting.number}@{list_id}")
    event.add("sequence", meeting.invitation_sequence)
    event.add("dtstamp", meeting.updated_at.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", (meeting.starts_at + MEETING_LENGTH).astimezone(UTC))
    event.add("summary", meeting.title)
    location = meeting.place or meeting.virtual_link
    if location:
        event.add("location", location)
    if meeting.virtual_link:
        event.add("url", meeting.virtual_link)
    event.add("description", "\n".join(f"{n}. {i.title}" for n, i in enumerate(meeting.items, 1)))
    event["organizer"] = vCalAddress(f"mailto:{organiser}")
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics.decode()


class MeetingActivities:
    def __init__(
        self, engine: Engine, commands: IssueCommands, mail: MailContext, list_id: str
    ) -> None:
        self._engine = engine
        self._commands = commands
        self._mail = mail
        self._list_id = list_id

    def _recipients(self, session: Session, event: MeetingEvent) -> tuple[str, list[UserRow]]:
        match event.name:
            case "AgendaSent":
                return "meeting_agenda", outbox.users_with_roles(
                    session=session, roles=MEMBER_ROLES
                )
            case "MeetingRescheduled" if event.to_state.value == "agenda_sent":
                return "meeting_updated", outbox.users_with_roles(
                    session=session, roles=MEMBER_ROLES
                )
            case "MinutesReminderSent":
                return "minutes_reminder", outbox.users_with_roles(
                    session=session, roles=(Role.SECRETARIAT,)
                )
            case _:
                return "", []

    def _rows(
        self, session: Session, meeting: Meeting, event: MeetingEvent, now: datetime
    ) -> list[OutboxRow]:
        kind, users = self._recipients(session, event)
        ics = (
            invitation(meeting, self._list_id, f"isc-tf@{self._list_id}")
            if kind != ("minutes_reminder")
            else None
        )
        rows = []
        for user in users:
            context = NotificationContext(
                recipient_name=user.name,
                preferences_url=preferences_url(self._mail, user.id, now),
                meeting_title=meeting.title,
                starts_at=meeting.starts_at,
                place=meeting.place or None,
                virtual_link=meeting.virtual_link or None,
                agenda=[i.title for i in meeting.items],
                reminder_count=event.data.get("count"),
            )
            message = render(kind, supported_language(user.language), context)
            rows.append(
                OutboxRow(
                    idempotency_key=f"{event.key}:{kind}:{user.id}",
                    event_key=event.key,
                    kind=kind,
                    user_id=user.id,
                    unsubscribe_url=context.preferences_url,
                    recipient=user.email,
                    language=message.language,
                    subject=message.subject,
                    body_text=message.text,
                    body_html=message.html,
                    calendar=ics,
                    created_at=now,
                )
            )
        return rows

    @activity.defn(name="record_meeting_event")
    def record_meeting_event(self, data: RecordMeetingEventInput) -> RecordMeetingEventResult:
        """Meeting read model, agenda, audit row and invitations: one transaction."""
        now = datetime.now(UTC)
        with session_scope(self._engine) as session:
            if not meetings.apply_meeting_event(
                session=session, meeting=data.meeting, event=data.event, recorded_at=now
            ):
                ids = outbox.outbox_ids_for_event(session=session, event_key=data.event.key)
                return RecordMeetingEventResult(recorded=False, outbox_ids=ids)
            rows = self._rows(session, data.meeting, data.event, now)
            session.add_all(rows)
            session.flush()
            ids = [r.id for r in rows if r.id is not None]
            return RecordMeetingEventResult(recorded=True, outbox_ids=ids)

    @activity.defn(name="issues_for_agenda")
    def issues_for_agenda(self, level: int) -> AgendaCandidates:
        """Issues escalated to `level`, undecided and on no other coming meeting's agenda."""
        with session_scope(self._engine) as session:
            rows = meetings.issues_awaiting_a_meeting(session=session, level=level)
            return AgendaCandidates(
                items=[AgendaCandidate(issue_id=r.id, title=r.title) for r in rows]
            )

    @activity.defn(name="deliver_decision")
    async def deliver_decision(self, data: DeliverDecisionInput) -> DeliverDecisionResult:
        """Send the meeting's decision to the issue's workflow (idempotent by reference)."""
        try:
            issue = await self._commands.send(data.issue_id, data.actor, data.decision)
        except CommandRejected as rejected:
            if rejected.status >= 500:
                raise
            # A refusal is final: the meeting's command fails with the issue's reason.
            raise ApplicationError(
                rejected.message,
                {"code": rejected.code, "message": rejected.message, **rejected.details},
                type=TYPE_BY_STATUS.get(rejected.status, "IllegalTransition"),
                non_retryable=True,
            ) from None
        return DeliverDecisionResult(issue_state=issue.state.value)
