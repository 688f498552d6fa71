"""The task-force meeting: schedule, agenda, decisions, minutes (DESIGN §3).

Pure: `Meeting.handle(command, actor, now)` checks the right and the transition and returns the
new meeting with the event that records the step.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from domain.calendar import BusinessCalendar
from domain.errors import IllegalTransition, InvalidCommand, PermissionDenied
from domain.issues import DecisionOutcome
from domain.roles import Actor, Role

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class MeetingState(StrEnum):
    SCHEDULED = "scheduled"
    AGENDA_SENT = "agenda_sent"
    HELD = "held"
    MINUTES_RECORDED = "minutes_recorded"


class ItemKind(StrEnum):
    ISSUE = "issue"
    THEME_UPDATE = "theme_update"


class AgendaItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    item_id: str
    kind: ItemKind
    title: str
    issue_id: str | None = None
    theme: str | None = None
    outcome: DecisionOutcome | None = None
    decision_text: str | None = None


class MeetingPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: int = Field(default=1, ge=1)  # the ladder level whose decisions the meeting takes
    agenda_days_before: int = Field(default=5, ge=0)
    minutes_due_days: int = Field(default=5, ge=1)
    calendar: BusinessCalendar = BusinessCalendar()


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleMeeting(_Command):
    kind: Literal["schedule"] = "schedule"
    number: int = Field(ge=1)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    starts_at: AwareDatetime
    place: Short = ""
    virtual_link: Short = ""


class Reschedule(_Command):
    kind: Literal["reschedule"] = "reschedule"
    starts_at: AwareDatetime
    place: Short | None = None
    virtual_link: Short | None = None


class AddItem(_Command):
    kind: Literal["add_item"] = "add_item"
    item_kind: ItemKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    issue_id: str | None = None
    theme: str | None = None


class RemoveItem(_Command):
    kind: Literal["remove_item"] = "remove_item"
    item_id: str


class ReorderItems(_Command):
    kind: Literal["reorder"] = "reorder"
    order: tuple[str, ...]


class SendAgenda(_Command):
    kind: Literal["send_agenda"] = "send_agenda"


class MarkHeld(_Command):
    kind: Literal["mark_held"] = "mark_held"


class DecideItem(_Command):
    kind: Literal["decide_item"] = "decide_item"
    item_id: str
    outcome: DecisionOutcome
    text: Text
    new_deadline: AwareDatetime | None = None


class RecordMinutes(_Command):
    kind: Literal["record_minutes"] = "record_minutes"


class RemindMinutes(_Command):
    kind: Literal["remind_minutes"] = "remind_minutes"


MeetingCommand = (
    Reschedule
    | AddItem
    | RemoveItem
    | ReorderItems
    | SendAgenda
    | MarkHeld
    | DecideItem
    | RecordMinutes
    | RemindMinutes
)

ALLOWED_FROM: dict[str, frozenset[MeetingState]] = {
    "reschedule": frozenset({MeetingState.SCHEDULED, MeetingState.AGENDA_SENT}),
    "add_item": frozenset({MeetingState.SCHEDULED}),
    "remove_item": frozenset({MeetingState.SCHEDULED}),
    "reorder": frozenset({MeetingState.SCHEDULED}),
    "send_agenda": frozenset({MeetingState.SCHEDULED}),
    "mark_held": frozenset({MeetingState.AGENDA_SENT}),
    "decide_item": frozenset({MeetingState.HELD}),
    "record_minutes": frozenset({MeetingState.HELD}),
    "remind_minutes": frozenset({MeetingState.HELD}),
}

EVENT_NAMES = {
    "schedule": "MeetingScheduled",
    "reschedule": "MeetingRescheduled",
    "add_item": "AgendaItemAdded",
    "remove_item": "AgendaItemRemoved",
    "reorder": "AgendaReordered",
    "send_agenda": "AgendaSent",
    "mark_held": "MeetingHeld",
    "decide_item": "AgendaItemDecided",
    "record_minutes": "MinutesRecorded",
    "remind_minutes": "MinutesReminderSent",
}

# Who may do what: the secretariat runs meetings; the chair may also record decisions and
# minutes; the system sends the agenda and marks the meeting held on its timers.
RIGHTS: dict[str, frozenset[Role]] = {
    "schedule": frozenset({Role.SECRETARIAT}),
    "reschedule": frozenset({Role.SECRETARIAT}),
    "add_item": frozenset({Role.SECRETARIAT, Role.SYSTEM}),
    "remove_item": frozenset({Role.SECRETARIAT}),
    "reorder": frozenset({Role.SECRETARIAT}),
    "send_agenda": frozenset({Role.SECRETARIAT, Role.SYSTEM}),
    "mark_held": frozenset({Role.SECRETARIAT, Role.CHAIR, Role.SYSTEM}),
    "decide_item": frozenset({Role.SECRETARIAT, Role.CHAIR}),
    "record_minutes": frozenset({Role.SECRETARIAT, Role.CHAIR}),
    "remind_minutes": frozenset({Role.SYSTEM}),
}


class MeetingEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    sequence: int
    name: str
    actor_id: str
    actor_role: Role
    at: datetime
    from_state: MeetingState | None
    to_state: MeetingState
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def stream(self) -> str:
        return f"meeting-{self.number}"

    @property
    def key(self) -> str:
        return f"{self.stream}#{self.sequence}"


class Meeting(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    starts_at: datetime
    place: str = ""
    virtual_link: str = ""
    state: MeetingState = MeetingState.SCHEDULED
    items: tuple[AgendaItem, ...] = ()
    next_item: int = 1
    invitation_sequence: int = 0  # iCalendar SEQUENCE: grows with every reschedule
    agenda_sent_at: datetime | None = None
    held_at: datetime | None = None
    minutes_recorded_at: datetime | None = None
    minutes_reminders_sent: int = 0
    version: int = 1
    created_at: datetime
    updated_at: datetime
    policy: MeetingPolicy = MeetingPolicy()

    @staticmethod
    def schedule(
        command: ScheduleMeeting, actor: Actor, now: datetime, policy: MeetingPolicy
    ) -> tuple[Meeting, MeetingEvent]:
        _authorise("schedule", actor)
        if command.starts_at <= now:
            raise InvalidCommand("a meeting is scheduled in the future", field="starts_at")
        meeting = Meeting(
            number=command.number,
            title=command.title,
            starts_at=command.starts_at,
            place=command.place,
            virtual_link=command.virtual_link,
            created_at=now,
            updated_at=now,
            policy=policy,
        )
        event = meeting._event("schedule", actor, now, None, meeting._summary())
        return meeting, event

    def item(self, item_id: str) -> AgendaItem | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    def issue_item(self, issue_id: str) -> AgendaItem | None:
        return next((i for i in self.items if i.issue_id == issue_id), None)

    def check(self, command: MeetingCommand, actor: Actor, now: datetime) -> None:
        _authorise(command.kind, actor)
        allowed = ALLOWED_FROM[command.kind]
        if self.state not in allowed:
            raise IllegalTransition(
                action=command.kind,
                state=self.state.value,
                allowed_states=sorted(s.value for s in allowed),
                message=f"cannot {command.kind.replace('_', ' ')} while the meeting is "
                f"{self.state.value.replace('_', ' ')}",
            )
        self._validate(command, now)

    def _validate(self, command: MeetingCommand, now: datetime) -> None:
        match command:
            case Reschedule(starts_at=starts_at) if starts_at <= now:
                raise InvalidCommand("a meeting is rescheduled to the future", field="starts_at")
            case AddItem(item_kind=ItemKind.ISSUE, issue_id=None):
                raise InvalidCommand("an issue item names its issue", field="issue_id")
            case AddItem(item_kind=ItemKind.ISSUE, issue_id=issue_id) if (
                issue_id is not None and self.issue_item(issue_id)
            ):
                raise IllegalTransition(
                    action="add_item",
                    state=self.state.value,
                    allowed_states=[],
                    message=f"issue {issue_id} is already on the agenda",
                )
            case AddItem(item_kind=ItemKind.THEME_UPDATE, theme=None):
                raise InvalidCommand("a theme update names its theme", field="theme")
            case RemoveItem(item_id=item_id) | DecideItem(item_id=item_id) if not self.item(
                item_id
            ):
                raise IllegalTransition(
                    action=command.kind,
                    state=self.state.value,
                    allowed_states=[],
                    message=f"item {item_id} is not on the agenda of meeting {self.number}",
                )
            case ReorderItems(order=order) if sorted(order) != sorted(
                i.item_id for i in self.items
            ):
                raise InvalidCommand("the new order must name every item once", field="order")
            case DecideItem() if self._decide_problem(command):
                raise InvalidCommand(self._decide_problem(command) or "", field="outcome")
            case RecordMinutes() if any(i.outcome is None for i in self.items):
                raise InvalidCommand(
                    "every agenda item needs a decision before the minutes", field="items"
                )
            case _:
                return

    def _decide_problem(self, command: DecideItem) -> str | None:
        item = self.item(command.item_id)
        if (
            item is not None
            and item.kind is ItemKind.THEME_UPDATE
            and command.outcome
            not in {
                DecisionOutcome.RESOLVED,
                DecisionOutcome.DEFERRED,
            }
        ):
            return "a theme update is noted (resolved) or deferred"
        return None

    def handle(
        self, command: MeetingCommand, actor: Actor, now: datetime
    ) -> tuple[Meeting, MeetingEvent]:
        self.check(command, actor, now)
        changes, data = self._changes(command, now)
        new = self.model_copy(update={**changes, "version": self.version + 1, "updated_at": now})
        return new, new._event(command.kind, actor, now, self.state, data)

    def _changes(
        self, command: MeetingCommand, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        match command:
            case Reschedule(starts_at=starts_at, place=place, virtual_link=link):
                changes: dict[str, Any] = {
                    "starts_at": starts_at,
                    "invitation_sequence": self.invitation_sequence + 1,
                }
                if place is not None:
                    changes["place"] = place
                if link is not None:
                    changes["virtual_link"] = link
                return changes, {
                    "starts_at": starts_at.isoformat(),
                    "from": self.starts_at.isoformat(),
                }
            case AddItem():
                item = AgendaItem(
                    item_id=f"{self.number}-{self.next_item}",
                    kind=command.item_kind,
                    title=command.title,
                    issue_id=command.issue_id,
                    theme=command.theme,
                )
                return (
                    {"items": (*self.items, item), "next_item": self.next_item + 1},
                    item.model_dump(mode="json", exclude_none=True),
                )
            case RemoveItem(item_id=item_id):
                kept = tuple(i for i in self.items if i.item_id != item_id)
                return {"items": kept}, {"item_id": item_id}
            case ReorderItems(order=order):
                by_id = {i.item_id: i for i in self.items}
                return {"items": tuple(by_id[i] for i in order)}, {"order": list(order)}
            case SendAgenda():
                return (
                    {"state": MeetingState.AGENDA_SENT, "agenda_sent_at": now},
                    {"items": [i.item_id for i in self.items]},
                )
            case MarkHeld():
                return {"state": MeetingState.HELD, "held_at": now}, {}
            case DecideItem(item_id=item_id, outcome=outcome, text=text):
                items = tuple(
                    i.model_copy(update={"outcome": outcome, "decision_text": text})
                    if i.item_id == item_id
                    else i
                    for i in self.items
                )
                decided = self.item(item_id)
                assert decided is not None
                data = {"item_id": item_id, "outcome": outcome.value, "text": text}
                if decided.issue_id:
                    data["issue_id"] = decided.issue_id
                return {"items": items}, data
            case RecordMinutes():
                return (
                    {"state": MeetingState.MINUTES_RECORDED, "minutes_recorded_at": now},
                    {"decisions": {i.item_id: i.outcome.value for i in self.items if i.outcome}},
                )
            case RemindMinutes():
                count = self.minutes_reminders_sent + 1
                return {"minutes_reminders_sent": count}, {"count": count}

    def _summary(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "starts_at": self.starts_at.isoformat(),
            "place": self.place,
            "virtual_link": self.virtual_link,
        }

    def _event(
        self,
        kind: str,
        actor: Actor,
        now: datetime,
        from_state: MeetingState | None,
        data: dict[str, Any],
    ) -> MeetingEvent:
        return MeetingEvent(
            number=self.number,
            sequence=self.version,
            name=EVENT_NAMES[kind],
            actor_id=actor.id,
            actor_role=actor.role,
            at=now,
            from_state=from_state,
            to_state=self.state,
            data=data,
        )

    # -- timers ---------------------------------------------------------------------------

    def agenda_due(self) -> datetime:
        return self.policy.calendar.add_working_days(
            self.starts_at, -self.policy.agenda_days_before
        )

    def next_timer(self) -> tuple[datetime, MeetingCommand] | None:
        """When the system acts next, and how: send the agenda, mark held, remind minutes."""
        match self.state:
            case MeetingState.SCHEDULED:
                return self.agenda_due(), SendAgenda()
            case MeetingState.AGENDA_SENT:
                return self.starts_at, MarkHeld()
            case MeetingState.HELD:
                assert self.held_at is not None
                due = self.policy.calendar.add_working_days(
                    self.held_at, self.policy.minutes_due_days * (self.minutes_reminders_sent + 1)
                )
                return due, RemindMinutes()
            case _:
                return None


def _authorise(kind: str, actor: Actor) -> None:
    allowed = RIGHTS[kind]
    if actor.role not in allowed:
        who = ", ".join(sorted(r.value for r in allowed if r is not Role.SYSTEM))
        raise PermissionDenied(
            f"your role ({actor.role.value}) may not {kind.replace('_', ' ')}; {who} may"
        )


def decision_reference(number: int, item_id: str) -> str:
    """Identifies a meeting's decision on the issue it concerns (makes delivery idempotent)."""
    return f"meeting-{number}/{item_id}"
