"""`iscflow meetings`: the secretariat lists, shows and schedules task-force meetings."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer

# iscflow.settings loads domain.meetings anyway, so these imports cost nothing more.
from domain.meetings import Meeting, MeetingState, ScheduleMeeting, SendAgenda
from iscflow.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from domain.roles import Actor
    from iscflow.meeting_commands import MeetingCommands
    from storage.models import AgendaItemRow, MeetingRow

# The storage layer and the Temporal client load only when a command runs, so that every other
# `iscflow` command starts as fast as before.

GENEVA = ZoneInfo("Europe/Zurich")  # Geneva keeps Zurich's time; tzdata has no Europe/Geneva

meetings_app = typer.Typer(
    help="Task-force meetings: list and show them; the secretariat schedules them and sends "
    "their agendas.",
    no_args_is_help=True,
)

# Defined again rather than imported: iscflow.cli imports this module.
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where embedded state lives (env ISCFLOW_DATA_DIR)"),
]
ActingAs = Annotated[
    str, typer.Option("--as", help="e-mail of the secretariat member acting", show_default=False)
]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _engine(settings: Settings) -> Engine:
    from storage.db import create_db_engine

    return create_db_engine(settings.database_url)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _geneva(value: datetime) -> str:
    from storage.db import utc

    return utc(value).astimezone(GENEVA).strftime("%Y-%m-%d %H:%M")


@meetings_app.command("list")
def list_meetings(
    state: Annotated[MeetingState | None, typer.Option(help="only meetings in this state")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 50,
    data_dir: DataDir = None,
) -> None:
    """Meetings, newest number first: date (Geneva time), state and agenda size."""
    from sqlmodel import Session

    from storage import meetings

    engine = _engine(_settings(data_dir))
    try:
        with Session(engine) as session:
            rows, total = meetings.list_meetings(
                session=session, state=state.value if state else None, limit=limit
            )
            counts = [len(meetings.agenda(session=session, number=r.number)) for r in rows]
    finally:
        engine.dispose()
    if not rows:
        typer.echo("no meetings")
        return
    typer.echo(f"{'number':>7}  {'date (Geneva)':<16}  {'state':<16}  {'items':>5}")
    for row, count in zip(rows, counts, strict=True):
        past = "  (past record)" if row.historical else ""
        typer.echo(
            f"{row.number:>7}  {_geneva(row.starts_at):<16}  {row.state:<16}  {count:>5}{past}"
        )
    if total > len(rows):
        typer.echo(f"({len(rows)} of {total}; see --limit)")


@meetings_app.command("show")
def show(
    number: Annotated[int, typer.Argument(help="the meeting's number")],
    data_dir: DataDir = None,
) -> None:
    """One meeting with its agenda and the decision taken on each item."""
    from sqlmodel import Session

    from storage import meetings

    engine = _engine(_settings(data_dir))
    try:
        with Session(engine) as session:
            row = meetings.get_meeting(session=session, number=number)
            items = meetings.agenda(session=session, number=number)
    finally:
        engine.dispose()
    if row is None:
        raise _fail(f"no meeting {number}")
    _print_meeting(row, items)


def _print_meeting(row: MeetingRow, items: list[AgendaItemRow]) -> None:
    past = " (past record)" if row.historical else ""
    typer.echo(f"{row.title} — {row.state}{past}")
    typer.echo(f"starts: {_geneva(row.starts_at)} Geneva time")
    if row.place:
        typer.echo(f"place: {row.place}")
    if row.virtual_link:
        typer.echo(f"link: {row.virtual_link}")
    if not items:
        typer.echo("agenda: (empty)")
        return
    typer.echo("agenda:")
    for item in items:
        about = f"issue {item.issue_id}" if item.issue_id else f"theme update, {item.theme_code}"
        typer.echo(f"  {item.position}. {item.title} [{about}] (item {item.item_id})")
        if item.outcome:
            typer.echo(f"     decided: {item.outcome} — {item.decision_text or ''}")
        else:
            typer.echo("     decided: not yet")


@meetings_app.command("schedule")
def schedule(
    starts_at: Annotated[
        str, typer.Option(help="ISO date and time with its offset, e.g. 2026-06-15T10:00+02:00")
    ],
    acting: ActingAs,
    place: Annotated[str, typer.Option(help="where the meeting is held")] = "",
    link: Annotated[str, typer.Option(help="the video-conference link")] = "",
    number: Annotated[
        int | None, typer.Option(min=1, help="the meeting's number (default: the next one)")
    ] = None,
    title: Annotated[str | None, typer.Option(help="default: 'ISC-TF meeting <number>'")] = None,
    data_dir: DataDir = None,
) -> None:
    """Schedule a meeting; its agenda starts with the issues escalated to the task force."""
    from pydantic import ValidationError

    settings = _settings(data_dir)
    when = _aware(starts_at)
    engine = _engine(settings)
    try:
        actor = _secretariat(engine, acting)
        chosen = number if number is not None else _next_number(engine, settings)
        _refuse_past_record(engine, chosen, "may not be scheduled again")
    finally:
        engine.dispose()
    try:
        command = ScheduleMeeting(
            number=chosen,
            title=title or f"ISC-TF meeting {chosen}",
            starts_at=when,
            place=place,
            virtual_link=link,
        )
    except ValidationError as error:
        raise _fail("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors())) from None
    meeting = _run(settings, lambda commands: commands.schedule(actor, command))
    typer.echo(
        f"meeting {meeting.number} scheduled for {_geneva(meeting.starts_at)} Geneva time "
        f"({len(meeting.items)} agenda items)"
    )
    _leave(0)


@meetings_app.command("send-agenda")
def send_agenda(
    number: Annotated[int, typer.Argument(help="the meeting's number")],
    acting: ActingAs,
    data_dir: DataDir = None,
) -> None:
    """Send the agenda and invitation now instead of waiting for the timer."""
    settings = _settings(data_dir)
    engine = _engine(settings)
    try:
        actor = _secretariat(engine, acting)
        _refuse_past_record(engine, number, "takes no commands")
    finally:
        engine.dispose()
    meeting = _run(settings, lambda commands: commands.send(number, actor, SendAgenda()))
    typer.echo(f"agenda of meeting {meeting.number} sent ({len(meeting.items)} items)")
    _leave(0)


def _aware(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"'{value}' is not an ISO date and time") from None
    if parsed.tzinfo is None:
        raise _fail(f"'{value}' has no time zone; add its offset, e.g. {value}+02:00")
    # In UTC, as every time is stored: SQLite keeps the wall time of an offset and drops it.
    return parsed.astimezone(UTC)


def _secretariat(engine: Engine, email: str) -> Actor:
    """The acting user, who must exist, be active and belong to the secretariat."""
    from sqlmodel import Session

    from domain.roles import Role
    from storage import directory

    with Session(engine) as session:
        user = directory.get_user_by_email(session=session, email=email)
        if user is None:
            raise _fail(f"no user with e-mail {email}")
        if not user.active:
            raise _fail(f"the user {email} is deactivated")
        actor = directory.actor_for(session=session, user=user)
    if actor.role is not Role.SECRETARIAT:
        raise _fail(f"{email} is {actor.role.value}; only the secretariat runs meetings here")
    return actor


def _next_number(engine: Engine, settings: Settings) -> int:
    """As the API does: after the highest known, and never within the meetings held before."""
    from sqlmodel import Session

    from storage import meetings

    with Session(engine) as session:
        return max(meetings.next_number(session=session), settings.meetings_held_before + 1)


def _refuse_past_record(engine: Engine, number: int, what: str) -> None:
    from sqlmodel import Session

    from storage import meetings

    with Session(engine) as session:
        row = meetings.get_meeting(session=session, number=number)
    if row is not None and row.historical:
        raise _fail(f"meeting {number} is a past record and {what}")


def _run(settings: Settings, act: Callable[[MeetingCommands], Awaitable[Meeting]]) -> Meeting:
    """Send one command to its meeting's workflow; a refusal ends the command with its reason."""
    from iscflow.issue_commands import CommandRejected
    from iscflow.meeting_commands import MeetingCommands
    from iscflow.temporal import connect

    async def send() -> Meeting:
        try:
            client = await connect(settings)
        except RuntimeError as error:
            raise _fail(f"cannot reach Temporal at {settings.temporal_address}: {error}") from None
        return await act(MeetingCommands.from_settings(client, settings))

    try:
        return asyncio.run(send())
    except CommandRejected as rejected:
        failed = _fail(rejected.message)
    except typer.Exit as exited:  # Temporal unreachable; already said
        failed = exited
    _leave(failed.exit_code)


def _leave(code: int) -> NoReturn:
    """End the process now, once a command that used Temporal has said all it has to say.

    The Temporal client's Rust threads can call into Python while the interpreter finalizes and
    abort the process after a successful command (temporalio/sdk-python#300); nothing is left to
    clean up, so the teardown is skipped. Not for use under typer's in-process CliRunner.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
