"""Task-force meetings: the list, a meeting's page, its agenda, decisions and minutes.

Every post goes through `MeetingCommands`, as the API's does; the page offers only the steps
the domain's tables (`RIGHTS`, `ALLOWED_FROM`) allow the user now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from domain.issues import DecisionOutcome
from domain.meetings import (
    ALLOWED_FROM,
    RIGHTS,
    AddItem,
    DecideItem,
    ItemKind,
    MarkHeld,
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
from iscflow.issue_commands import CommandRejected
from storage import directory, meetings, repository
from storage.models import AgendaItemRow, IssueRow, MeetingRow, ThemeRow
from web.deps import FormUserDep, PageRefused, UserDep, WebState, WebStateDep, WebUser, set_flash
from web.i18n import TIMEZONE, _
from web.refusals import Refusal, forbidden, from_rejection, from_validation, invalid
from web.rendering import render

router = APIRouter(include_in_schema=False)

# Codes shown through the `label` filter (see web/labels.py).
MEETING_LABELS = (
    _("scheduled"),
    _("agenda_sent"),
    _("held"),
    _("minutes_recorded"),
    _("issue"),
    _("theme_update"),
    _("resolved"),
    _("referred_back"),
    _("escalated_further"),
    _("deferred"),
)
OPEN_STATES = (MeetingState.SCHEDULED, MeetingState.AGENDA_SENT)
LIST_LIMIT = 500
# A decision's new deadline is a day; the issue's deadline is the end of that day in Geneva.
END_OF_DAY = time(23, 59)
DECISION_FIELDS = {"item_id": "outcome", "outcome": "outcome", "text": "text"}


def may(user: WebUser, kind: str, row: MeetingRow | None = None) -> bool:
    """Whether the page offers `kind` to `user` (the workflow checks again)."""
    if user.role not in RIGHTS[kind]:
        return False
    if row is None:
        return True
    return not row.historical and MeetingState(row.state) in ALLOWED_FROM[kind]


@dataclass(frozen=True)
class ItemView:
    row: AgendaItemRow
    issue: IssueRow | None
    outcomes: tuple[DecisionOutcome, ...]  # the decisions this item may take


def _outcomes(
    state: WebState, item: AgendaItemRow, issue: IssueRow | None
) -> tuple[DecisionOutcome, ...]:
    if item.kind == ItemKind.THEME_UPDATE:
        return (DecisionOutcome.RESOLVED, DecisionOutcome.DEFERRED)
    further = issue is not None and state.settings.ladder.next_level(issue.level) is not None
    return tuple(
        o for o in DecisionOutcome if further or o is not DecisionOutcome.ESCALATED_FURTHER
    )


def _meeting_page(
    request: Request,
    user: WebUser,
    state: WebState,
    number: int,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    with Session(state.engine) as session:
        row = meetings.get_meeting(session=session, number=number)
        if row is None:
            raise PageRefused(
                404,
                user.locale.gettext("No such meeting"),
                user.locale.gettext("There is no meeting with this number."),
            )
        items = []
        for item in meetings.agenda(session=session, number=number):
            issue = (
                repository.get_issue(session=session, issue_id=item.issue_id)
                if item.issue_id
                else None
            )
            items.append(ItemView(item, issue, _outcomes(state, item, issue)))
        themes: list[ThemeRow] = directory.list_themes(session=session)
        awaiting = meetings.issues_awaiting_a_meeting(
            session=session, level=state.settings.meeting_policy.level
        )
    allowed = {kind: may(user, kind, row) for kind in ALLOWED_FROM}
    return render(
        request,
        "meetings/meeting.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=user.locale.gettext("Meeting %(number)s") % {"number": number},
        meeting=row,
        items=items,
        themes=themes,
        awaiting=awaiting,
        allowed=allowed,
        refusal=refusal,
        values=values or {},
    )


def _list_page(
    request: Request,
    user: WebUser,
    state: WebState,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    with Session(state.engine) as session:
        rows, _total = meetings.list_meetings(session=session, limit=LIST_LIMIT)
        counts = {r.number: len(meetings.agenda(session=session, number=r.number)) for r in rows}
        next_number = max(
            meetings.next_number(session=session), state.settings.meetings_held_before + 1
        )
    coming = sorted((r for r in rows if r.state in OPEN_STATES), key=lambda r: r.number)
    past = [r for r in rows if r.state not in OPEN_STATES]
    return render(
        request,
        "meetings/list.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=user.locale.gettext("Meetings"),
        coming=coming,
        past=past,
        counts=counts,
        next_number=next_number,
        may_schedule=may(user, "schedule"),
        refusal=refusal,
        values=values or {},
    )


@router.get("/meetings", response_class=HTMLResponse)
def meeting_list(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    return _list_page(request, user, state)


def _local_datetime(value: str) -> datetime | None:
    """A `datetime-local` field's value, in Geneva time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=TIMEZONE) if parsed.tzinfo is None else parsed


def _deadline(value: str) -> datetime:
    parsed = date.fromisoformat(value.strip())
    return datetime.combine(parsed, END_OF_DAY, tzinfo=TIMEZONE).astimezone(UTC)


@router.post("/meetings", response_class=HTMLResponse)
async def schedule(
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    starts_at: Annotated[str, Form(max_length=40)] = "",
    number: Annotated[str, Form(max_length=12)] = "",
    title: Annotated[str, Form(max_length=400)] = "",
    place: Annotated[str, Form(max_length=1000)] = "",
    virtual_link: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    values = {"starts_at": starts_at, "number": number, "title": title, "place": place,
              "virtual_link": virtual_link}  # fmt: skip
    lang = user.locale

    def refuse(refusal: Refusal) -> HTMLResponse:
        return _list_page(request, user, state, refusal=refusal, values=values)

    if not may(user, "schedule"):
        return refuse(forbidden(lang, "only the secretariat may schedule meetings"))
    when = _local_datetime(starts_at)
    if when is None:
        return refuse(invalid(lang, form="schedule", field="starts_at", detail="a date and time"))
    if number.strip() and not number.strip().isdecimal():
        return refuse(invalid(lang, form="schedule", field="number", detail="a whole number"))
    with Session(state.engine) as session:
        chosen = int(number) if number.strip() else max(
            meetings.next_number(session=session), state.settings.meetings_held_before + 1
        )  # fmt: skip
        existing = meetings.get_meeting(session=session, number=chosen)
    if existing is not None and existing.historical:
        detail = f"meeting {chosen} is a past record"
        return refuse(invalid(lang, form="schedule", field="number", detail=detail))
    try:
        command = ScheduleMeeting(
            number=chosen,
            title=title.strip() or f"ISC-TF meeting {chosen}",
            starts_at=when,
            place=place,
            virtual_link=virtual_link,
        )
        meeting = await state.meetings.schedule(user.actor, command)
    except ValidationError as error:
        return refuse(from_validation(error, lang, form="schedule"))
    except CommandRejected as rejected:
        return refuse(from_rejection(rejected, lang, form="schedule"))
    response = RedirectResponse(f"/meetings/{meeting.number}", status_code=303)
    set_flash(response, lang.gettext("Meeting %(number)s is scheduled.") % {"number": chosen})
    return response


@router.get("/meetings/{number}", response_class=HTMLResponse)
def meeting_page(number: int, request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    return _meeting_page(request, user, state, number)


async def _send(
    request: Request,
    user: WebUser,
    state: WebState,
    number: int,
    command: MeetingCommand,
    *,
    done: str,
    form: str,
    fields: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """Send `command`; on success 303 back to the meeting, else the page with the refusal."""
    with Session(state.engine) as session:
        row = meetings.get_meeting(session=session, number=number)
    if row is None:
        return _meeting_page(request, user, state, number)  # answers 404
    if user.role not in RIGHTS[command.kind]:
        who = ", ".join(sorted(r.value for r in RIGHTS[command.kind] if r is not Role.SYSTEM))
        refusal = forbidden(user.locale, f"only the {who} may {command.kind.replace('_', ' ')}")
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    try:
        if row.historical:
            raise CommandRejected(
                409, "illegal_transition", f"meeting {number} is a past record",
                current_state=row.state,
            )  # fmt: skip
        await state.meetings.send(number, user.actor, command)
    except CommandRejected as rejected:
        refusal = from_rejection(rejected, user.locale, form=form, fields=fields)
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    response = RedirectResponse(f"/meetings/{number}", status_code=303)
    set_flash(response, done)
    return response


@router.post("/meetings/{number}/reschedule", response_class=HTMLResponse)
async def reschedule(
    number: int,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    starts_at: Annotated[str, Form(max_length=40)] = "",
    place: Annotated[str, Form(max_length=1000)] = "",
    virtual_link: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    values = {"starts_at": starts_at, "place": place, "virtual_link": virtual_link}
    form = "reschedule"
    when = _local_datetime(starts_at)
    if when is None:
        refusal = invalid(user.locale, form=form, field="starts_at", detail="a date and time")
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    try:
        command = Reschedule(
            starts_at=when, place=place.strip() or None, virtual_link=virtual_link.strip() or None
        )
    except ValidationError as error:
        refusal = from_validation(error, user.locale, form=form)
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    done = user.locale.gettext("The meeting is moved; members who had the agenda are told.")
    return await _send(request, user, state, number, command, done=done, form=form,
                       values=values)  # fmt: skip


@router.post("/meetings/{number}/agenda", response_class=HTMLResponse)
async def add_item(
    number: int,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    kind: Annotated[str, Form(max_length=32)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    theme: Annotated[str, Form(max_length=64)] = "",
    issue_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    form = "add-issue" if kind == ItemKind.ISSUE else "add-theme"
    values = {"title": title, "theme": theme, "issue_id": issue_id}
    if kind == ItemKind.ISSUE:
        with Session(state.engine) as session:
            issue = repository.get_issue(session=session, issue_id=issue_id)
        if issue is None:
            detail = "choose an issue escalated to the task force"
            refusal = invalid(user.locale, form=form, field="issue_id", detail=detail)
            return _meeting_page(request, user, state, number, refusal=refusal, values=values)
        title = issue.title
    try:
        command = AddItem.model_validate(
            {
                "item_kind": kind,
                "title": title,
                "issue_id": issue_id or None,
                "theme": theme or None,
            }
        )
    except ValidationError as error:
        refusal = from_validation(error, user.locale, form=form)
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    done = user.locale.gettext("The item is on the agenda.")
    return await _send(request, user, state, number, command, done=done, form=form,
                       values=values)  # fmt: skip


@router.post("/meetings/{number}/agenda/{item_id}/remove", response_class=HTMLResponse)
async def remove_item(
    number: int, item_id: str, request: Request, user: FormUserDep, state: WebStateDep
) -> Response:
    done = user.locale.gettext("The item is off the agenda.")
    return await _send(request, user, state, number, RemoveItem(item_id=item_id), done=done,
                       form=f"item-{item_id}")  # fmt: skip


@router.post("/meetings/{number}/agenda/{item_id}/move", response_class=HTMLResponse)
async def move_item(
    number: int,
    item_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    direction: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    with Session(state.engine) as session:
        order = [i.item_id for i in meetings.agenda(session=session, number=number)]
    if item_id in order and direction in {"up", "down"}:
        at = order.index(item_id)
        to = at - 1 if direction == "up" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    done = user.locale.gettext("The agenda is in its new order.")
    return await _send(request, user, state, number, ReorderItems(order=tuple(order)),
                       done=done, form=f"item-{item_id}")  # fmt: skip


@router.post("/meetings/{number}/send-agenda", response_class=HTMLResponse)
async def send_agenda(
    number: int, request: Request, user: FormUserDep, state: WebStateDep
) -> Response:
    done = user.locale.gettext("The agenda and the invitation are sent to the members.")
    return await _send(request, user, state, number, SendAgenda(), done=done, form="send")


@router.post("/meetings/{number}/held", response_class=HTMLResponse)
async def mark_held(
    number: int, request: Request, user: FormUserDep, state: WebStateDep
) -> Response:
    done = user.locale.gettext("The meeting is recorded as held.")
    return await _send(request, user, state, number, MarkHeld(), done=done, form="held")


@router.post("/meetings/{number}/decisions", response_class=HTMLResponse)
async def decide(
    number: int,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    item_id: Annotated[str, Form(max_length=80)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    new_deadline: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = f"decide-{item_id}"
    values = {"item_id": item_id, "outcome": outcome, "text": text, "new_deadline": new_deadline}
    try:
        deadline = _deadline(new_deadline) if new_deadline.strip() else None
    except ValueError:
        refusal = invalid(user.locale, form=form, field="new_deadline", detail="a date")
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    try:
        command = DecideItem.model_validate(
            {"item_id": item_id, "outcome": outcome, "text": text, "new_deadline": deadline}
        )
    except ValidationError as error:
        refusal = from_validation(error, user.locale, form=form, fields=DECISION_FIELDS)
        return _meeting_page(request, user, state, number, refusal=refusal, values=values)
    done = user.locale.gettext("The decision is recorded and delivered to the issue.")
    return await _send(request, user, state, number, command, done=done, form=form,
                       fields=DECISION_FIELDS, values=values)  # fmt: skip


@router.post("/meetings/{number}/minutes", response_class=HTMLResponse)
async def record_minutes(
    number: int, request: Request, user: FormUserDep, state: WebStateDep
) -> Response:
    done = user.locale.gettext("The minutes are recorded; the meeting's record is closed.")
    return await _send(request, user, state, number, RecordMinutes(), done=done, form="minutes")
