"""`iscflow import`: recommendations and the risk register from CSV or Excel files."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iscflow.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from domain.roles import Actor
    from iscflow.recommendation_import import ImportReport, ParsedRow, RowError
    from iscflow.tables import Table

# The storage, Temporal and spreadsheet modules load only when a command runs, so that every
# other `iscflow` command starts as fast as before.

import_app = typer.Typer(help="Import recommendations or risks from CSV or Excel files.")

# Defined again rather than imported: iscflow.cli imports this module.
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where embedded state lives (env ISCFLOW_DATA_DIR)"),
]
AsUser = Annotated[
    str | None,
    typer.Option("--as", help="the secretariat user recorded as making the changes"),
]
File = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="a .csv or .xlsx file")
]
# Changes made from the command line without --as are audited under this id.
CLI_ACTOR_ID = "cli-import"


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings(data_dir: Path | None) -> Settings:
    return Settings() if data_dir is None else Settings(data_dir=data_dir)


def _table(file: Path) -> Table:
    from iscflow.tables import TableError, format_of, read_table

    try:
        return read_table(file.read_bytes(), format_of(file.name))
    except TableError as error:
        raise _fail(f"{file}: {error}") from None


def _actor(engine: Engine, as_user: str | None) -> Actor:
    from domain.roles import Actor, Role
    from storage import directory
    from storage.db import session_scope

    if as_user is None:
        return Actor(id=CLI_ACTOR_ID, role=Role.SECRETARIAT)
    with session_scope(engine) as session:
        user = directory.get_user(session=session, user_id=as_user)
        if user is None or not user.active:
            raise _fail(f"no active user {as_user!r}")
        actor = directory.actor_for(session=session, user=user)
    if actor.role is not Role.SECRETARIAT:
        raise _fail(f"{as_user} is a {actor.role.value}; imports are the secretariat's")
    return actor


@import_app.command(
    "recommendations",
    help=(
        "Import recommendations: every row is validated, valid rows are applied, each invalid "
        "row is reported with its line and field (exit code 1).\n\n"
        "Columns (first row, any order): source, symbol, number, issued_on, title, text, owner, "
        "theme (required); addressee, priority, target_date, risks, acceptance, implementation, "
        "progress, justification. A new recommendation starts in the state the row gives; an "
        "existing one gets the row's record as an audited update, and keeps its status. "
        "Importing the same file twice changes nothing. Dates are YYYY-MM-DD; risks are ids "
        "separated by ';'. See samples/recommendations.csv."
    ),
)
def recommendations(
    file: File,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report only")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="also write the problems and notes as CSV")
    ] = None,
    as_user: AsUser = None,
    data_dir: DataDir = None,
) -> None:
    from iscflow.recommendation_import import parse_rows
    from iscflow.tables import TableError
    from storage.db import create_db_engine, session_scope
    from storage.recommendations import load_references

    settings = _settings(data_dir)
    table = _table(file)
    engine = create_db_engine(settings.database_url)
    try:
        actor = _actor(engine, as_user)
        with session_scope(engine) as session:
            refs = load_references(session=session)
        try:
            parsed, errors = parse_rows(table, refs, actor)
        except TableError as error:
            raise _fail(f"{file}: {error}") from None
        result = asyncio.run(_apply(settings, engine, actor, parsed, errors, dry_run))
    finally:
        engine.dispose()
    _print(result)
    if report is not None:
        _write_report(report, result)
    if result.invalid:
        raise typer.Exit(code=1)


async def _apply(
    settings: Settings,
    engine: Engine,
    actor: Actor,
    parsed: list[ParsedRow],
    errors: list[RowError],
    dry_run: bool,
) -> ImportReport:
    from iscflow.recommendation_commands import RecommendationCommands
    from iscflow.recommendation_import import Importer
    from iscflow.temporal import connect

    commands = None
    if parsed and not dry_run:
        try:
            client = await connect(settings)
        except RuntimeError as error:
            raise _fail(
                f"cannot reach Temporal at {settings.temporal_address} ({error}); "
                "is `iscflow up` or a worker running?"
            ) from None
        commands = RecommendationCommands.from_settings(client, settings)
    label = "Checking" if dry_run else "Importing"
    with typer.progressbar(length=len(parsed), label=label, file=None) as bar:
        return await Importer(engine, commands, actor).run(
            parsed, errors, dry_run=dry_run, progress=bar.update
        )


def _print(result: ImportReport) -> None:
    verb = "would be " if result.dry_run else ""
    typer.echo(
        f"{result.rows} rows: {len(result.created)} {verb}created, "
        f"{len(result.updated)} {verb}updated, {len(result.unchanged)} unchanged, "
        f"{len(result.invalid)} invalid"
    )
    for note in result.notes:
        typer.echo(f"  line {note.line} ({note.id}): {note.message}")
    for error in result.invalid:
        typer.secho(f"  line {error.line}, {error.field}: {error.message}", err=True)


def _write_report(path: Path, result: ImportReport) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "kind", "field_or_id", "message"])
        for error in result.invalid:
            writer.writerow([error.line, "invalid", error.field, error.message])
        for note in result.notes:
            writer.writerow([note.line, "note", note.id, note.message])


@import_app.command(
    "risks",
    help=(
        "Import the risk register. Columns: id, title, description, owner, "
        "inherent_likelihood, inherent_impact, residual_likelihood, residual_impact, treatment "
        "(scales 1-5). A new id adds a risk, a changed row is an audited update, an identical "
        "row changes nothing; each invalid row is reported with its line and field."
    ),
)
def risks(file: File, as_user: AsUser = None, data_dir: DataDir = None) -> None:
    from iscflow.risk_import import import_risks
    from iscflow.tables import TableError
    from storage.db import create_db_engine

    settings = _settings(data_dir)
    table = _table(file)
    engine = create_db_engine(settings.database_url)
    try:
        actor = _actor(engine, as_user)
        outcomes, errors = import_risks(engine, table, actor, datetime.now(UTC))
    except TableError as refused:
        raise _fail(f"{file}: {refused}") from None
    finally:
        engine.dispose()
    summary = ", ".join(f"{outcomes[k]} {k}" for k in ("created", "updated", "unchanged"))
    typer.echo(f"{len(table.rows)} rows: {summary}, {len(errors)} invalid")
    for error in errors:
        typer.secho(f"  line {error.line}, {error.field}: {error.message}", err=True)
    if errors:
        raise typer.Exit(code=1)
