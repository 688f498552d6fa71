"""Task-force meetings: schedule, agenda, decisions, minutes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from api.deps import AppStateDep, CurrentUserDep, SessionDep
from api.errors import ApiError
from api.schemas import SQL_INTEGER_MAX, ErrorResponse, Moment, RowId
from domain.issues import DecisionOutcome
from domain.meetings import (
    AddItem,
    DecideItem,
    ItemKind,
    MarkHeld,
    Meeting,
    MeetingCommand,
    MeetingState,
    RecordMinutes,
    RemoveItem,
    ReorderItems,
    Reschedule,
    ScheduleMeeting,
    SendAgenda,
)
from domain.roles import Role
from storage import meetings
from storage.db import utc, utc_or_none
from storage.models import AgendaItemRow, MeetingRow

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 503)
}
router = APIRouter(prefix="/api/v1/meetings", tags=["meetings"], responses=ERRORS)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
MANAGERS = frozenset({Role.SECRETARIAT})
DECIDERS = frozenset({Role.SECRETARIAT, Role.CHAIR})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleBody(_Body):
    number: int | None = Field(
        default=None, ge=1, le=SQL_INTEGER_MAX, description="the next number when omitted"
    )
    title: Title | None = None
    starts_at: Moment
    place: Short = ""
    virtual_link: Short = ""


class RescheduleBody(_Body):
    starts_at: Moment
    place: Short | None = None
    virtual_link: Short | None = None


# Ids of issues, themes and agenda items (item ids read `<meeting>-<n>`).
Ref = Annotated[str, StringConstraints(max_length=64)]


class AgendaItemBody(_Body):
    kind: ItemKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    issue_id: Ref | None = None
    theme: Ref | None = None


class OrderBody(_Body):
    order: Annotated[list[Ref], Field(max_length=500)]


class DecisionBody(_Body):
    item_id: Ref
    outcome: DecisionOutcome
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
    new_deadline: Moment | None = None


class AgendaItemPublic(BaseModel):
    item_id: str
    position: int
    kind: ItemKind
    title: str
    issue_id: str | None
    theme: str | None
    outcome: DecisionOutcome | None
    decision_text: str | None


class MeetingPublic(BaseModel):
    number: int
    title: str
    starts_at: datetime
    place: str
    virtual_link: str
    state: MeetingState
    historical: bool
    agenda_sent_at: datetime | None
    held_at: datetime | None
    minutes_recorded_at: datetime | None
    agenda: list[AgendaItemPublic]

    @classmethod
    def from_meeting(cls, meeting: Meeting) -> MeetingPublic:
        return cls(
            number=meeting.number,
            title=meeting.title,
            starts_at=meeting.starts_at,
            place=meeting.place,
            virtual_link=meeting.virtual_link,
            state=meeting.state,
            historical=False,
            agenda_sent_at=meeting.agenda_sent_at,
            held_at=meeting.held_at,
            minutes_recorded_at=meeting.minutes_recorded_at,
            agenda=[
                AgendaItemPublic(
                    item_id=i.item_id, position=n, kind=i.kind, title=i.title,
                    issue_id=i.issue_id, theme=i.theme, outcome=i.outcome,
                    decision_text=i.decision_text,
                )
                for n, i in enumerate(meeting.items, start=1)
            ],
        )  # fmt: skip

    @classmethod
    def from_rows(cls, row: MeetingRow, items: list[AgendaItemRow]) -> MeetingPublic:
        return cls(
            number=row.number,
            title=row.title,
            starts_at=utc(row.starts_at),
            place=row.place,
            virtual_link=row.virtual_link,
            state=MeetingState(row.state),
            historical=row.historical,
            agenda_sent_at=utc_or_none(row.agenda_sent_at),
            held_at=utc_or_none(row.held_at),
            minutes_recorded_at=utc_or_none(row.minutes_recorded_at),
            agenda=[
                AgendaItemPublic(
                    item_id=i.item_id, position=i.position, kind=ItemKind(i.kind), title=i.title,
                    issue_id=i.issue_id, theme=i.theme_code,
                    outcome=DecisionOutcome(i.outcome) if i.outcome else None,
                    decision_text=i.decision_text,
                )
                for i in items
            ],
        )  # fmt: skip


class MeetingList(BaseModel):
    items: list[MeetingPublic]
    total: int
    limit: int
    offset: int


def _require(user: CurrentUserDep, roles: frozenset[Role], what: str) -> None:
    if user.actor.role not in roles:
        who = ", ".join(sorted(r.value for r in roles))
        raise ApiError(403, "permission_denied", f"only the {who} may {what}")


def _known(session: SessionDep, number: int) -> MeetingRow:
    row = meetings.get_meeting(session=session, number=number)
    if row is None:
        raise ApiError(404, "not_found", f"no meeting {number}")
    if row.historical:
        raise ApiError(
            409, "illegal_transition", f"meeting {number} is a past record and takes no commands",
            current_state=row.state, allowed_states=[],
        )  # fmt: skip
    return row


def _known_then_close(session: SessionDep, number: int) -> None:
    """Refuse unknown and past meetings; release the connection while the workflow works."""
    try:
        _known(session, number)
    finally:
        session.close()


def _number_to_schedule(body: ScheduleBody, session: SessionDep, state: AppStateDep) -> int:
    """The number asked for, or the next one; never a past record's."""
    try:
        number = body.number or max(
            meetings.next_number(session=session), state.settings.meetings_held_before + 1
        )
        existing = meetings.get_meeting(session=session, number=number)
    finally:
        session.close()
    if existing is not None and existing.historical:
        raise ApiError(422, "invalid_command", f"meeting {number} is a past record", field="number")
    return number


async def _send(
    number: int, command: MeetingCommand, user: CurrentUserDep, session: SessionDep,
    state: AppStateDep,
) -> MeetingPublic:  # fmt: skip
    await run_in_threadpool(_known_then_close, session, number)
    meeting = await state.meetings.send(number, user.actor, command)
    return MeetingPublic.from_meeting(meeting)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MeetingPublic)
async def schedule(
    body: ScheduleBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> MeetingPublic:
    """Schedule the next task-force meeting (secretariat); its agenda starts with the
    issues escalated to the task force."""
    _require(user, MANAGERS, "schedule meetings")
    number = await run_in_threadpool(_number_to_schedule, body, session, state)
    command = ScheduleMeeting(
        number=number,
        title=body.title or f"ISC-TF meeting {number}",
        starts_at=body.starts_at,
        place=body.place,
        virtual_link=body.virtual_link,
    )
    meeting = await state.meetings.schedule(user.actor, command)
    return MeetingPublic.from_meeting(meeting)


@router.get("", response_model=MeetingList)
def list_meetings(
    _: CurrentUserDep,
    session: SessionDep,
    state: MeetingState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> MeetingList:
    """Meetings, newest number first (past records included)."""
    rows, total = meetings.list_meetings(
        session=session, state=state.value if state else None, limit=limit, offset=offset
    )
    items = [
        MeetingPublic.from_rows(r, meetings.agenda(session=session, number=r.number)) for r in rows
    ]
    return MeetingList(items=items, total=total, limit=limit, offset=offset)


@router.get("/{number}", response_model=MeetingPublic)
def read_meeting(number: RowId, _: CurrentUserDep, session: SessionDep) -> MeetingPublic:
    """One meeting with its agenda and decisions."""
    row = meetings.get_meeting(session=session, number=number)
    if row is None:
        raise ApiError(404, "not_found", f"no meeting {number}")
    return MeetingPublic.from_rows(row, meetings.agenda(session=session, number=number))


@router.post("/{number}/reschedule", response_model=MeetingPublic)
async def reschedule(
    number: RowId, body: RescheduleBody, user: CurrentUserDep, session: SessionDep,
    state: AppStateDep,
) -> MeetingPublic:  # fmt: skip
    """Move the meeting; once the agenda is out, members get an updated invitation."""
    _require(user, MANAGERS, "reschedule meetings")
    command = Reschedule(starts_at=body.starts_at, place=body.place, virtual_link=body.virtual_link)
    return await _send(number, command, user, session, state)


@router.post("/{number}/agenda", response_model=MeetingPublic)
async def add_item(
    number: RowId, body: AgendaItemBody, user: CurrentUserDep, session: SessionDep,
    state: AppStateDep,
) -> MeetingPublic:  # fmt: skip
    """Add an item (an issue or a theme update) until the agenda is sent."""
    _require(user, MANAGERS, "edit agendas")
    command = AddItem(
        item_kind=body.kind, title=body.title, issue_id=body.issue_id, theme=body.theme
    )
    return await _send(number, command, user, session, state)


@router.delete("/{number}/agenda/{item_id}", response_model=MeetingPublic)
async def remove_item(
    number: RowId,
    item_id: Annotated[str, Path(max_length=64)],
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
) -> MeetingPublic:
    """Take an item off the agenda until it is sent."""
    _require(user, MANAGERS, "edit agendas")
    return await _send(number, RemoveItem(item_id=item_id), user, session, state)


@router.put("/{number}/agenda/order", response_model=MeetingPublic)
async def reorder(
    number: RowId, body: OrderBody, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> MeetingPublic:
    """Put the agenda in a new order (every item once)."""
    _require(user, MANAGERS, "edit agendas")
    return await _send(number, ReorderItems(order=tuple(body.order)), user, session, state)


@router.post("/{number}/send-agenda", response_model=MeetingPublic)
async def send_agenda(
    number: RowId, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> MeetingPublic:
    """Send the agenda and invitation now instead of waiting for the timer."""
    _require(user, MANAGERS, "send agendas")
    return await _send(number, SendAgenda(), user, session, state)


@router.post("/{number}/held", response_model=MeetingPublic)
async def mark_held(
    number: RowId, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> MeetingPublic:
    """Record that the meeting took place (it is marked so at its start time anyway)."""
    _require(user, DECIDERS, "mark meetings held")
    return await _send(number, MarkHeld(), user, session, state)


@router.post("/{number}/decisions", response_model=MeetingPublic)
async def decide(
    number: RowId, body: DecisionBody, user: CurrentUserDep, session: SessionDep,
    state: AppStateDep,
) -> MeetingPublic:  # fmt: skip
    """Record the decision on one agenda item; it is delivered to the issue concerned."""
    _require(user, DECIDERS, "record decisions")
    command = DecideItem(
        item_id=body.item_id, outcome=body.outcome, text=body.text, new_deadline=body.new_deadline
    )
    return await _send(number, command, user, session, state)


@router.post("/{number}/minutes", response_model=MeetingPublic)
async def record_minutes(
    number: RowId, user: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> MeetingPublic:
    """Close the meeting's record once every item has a decision."""
    _require(user, DECIDERS, "record minutes")
    return await _send(number, RecordMinutes(), user, session, state)
