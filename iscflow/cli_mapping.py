"""`iscflow mapping`: export the ISCG mapping table, import entries from a CSV file."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iscflow.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from iscflow.mapping_export import ImportRow
    from storage.mapping import Upserted

# The storage and export modules (SQLModel, openpyxl) load only when a command runs, so that
# every other `iscflow` command starts as fast as before.


class Format(StrEnum):
    """The values of iscflow.mapping_export.ExportFormat, without importing it."""

    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"


# Changes made from the command line are audited as the system administrator's.
CLI_ACTOR = ("cli", "admin")

mapping_app = typer.Typer(
    help="The ISCG mapping table: who handles each topic of common interest in each sector.",
    no_args_is_help=True,
)

# Defined again rather than imported: iscflow.cli imports this module.
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where embedded state lives (env ISCFLOW_DATA_DIR)"),
]


def _engine(data_dir: Path | None) -> Engine:
    from storage.db import create_db_engine

    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    return create_db_engine(settings.database_url)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@mapping_app.command("export")
def export(
    fmt: Annotated[Format, typer.Option("--format", help="file format")] = Format.CSV,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="file to write (default iscflow-mapping.<format>)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Write the table, one row per topic with an entity and contact per sector."""
    from iscflow.mapping_export import FILE_STEM, ExportFormat, render
    from storage import mapping
    from storage.db import session_scope

    engine = _engine(data_dir)
    try:
        with session_scope(engine) as session:
            table = mapping.pivot(session=session)
    finally:
        engine.dispose()
    path = output or Path(f"{FILE_STEM}.{fmt.value}")
    path.write_bytes(render(table, ExportFormat(fmt.value)))
    typer.echo(f"{len(table.rows)} topics written to {path}")


@mapping_app.command(
    "import",
    help=(
        "Add or replace entries from a UTF-8 CSV file with one row per topic and sector.\n\n"
        "The header row names the columns, in any order: topic, sector, entity (required), "
        "contact, theme (optional). sector is a sector code (ITU-R, ITU-T, ITU-D, GS); theme "
        "is a theme code or empty. An existing entry for the same topic and sector is "
        "replaced, so importing a file twice changes nothing. Nothing is written if any row "
        "is wrong; the error names its line."
    ),
)
def import_(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="the CSV file")
    ],
    data_dir: DataDir = None,
) -> None:
    from iscflow.mapping_export import MappingImportError, parse_import
    from storage.mapping import Upserted

    try:
        rows = parse_import(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(f"{file}: not UTF-8 text; save the CSV as 'CSV UTF-8'") from None
    except MappingImportError as error:
        raise _fail(f"{file}: {error}") from None
    engine = _engine(data_dir)
    try:
        counts = _apply(engine, rows, datetime.now(UTC))
    except MappingImportError as error:
        raise _fail(f"{file}: {error}") from None
    finally:
        engine.dispose()
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Upserted)
    typer.echo(f"{len(rows)} rows: {summary}")


def _apply(engine: Engine, rows: list[ImportRow], now: datetime) -> Counter[Upserted]:
    """Upsert every row in one transaction; an unknown sector or theme rolls back them all."""
    from iscflow.mapping_export import MappingImportError
    from storage import mapping
    from storage.db import session_scope

    counts: Counter[Upserted] = Counter()
    with session_scope(engine) as session:
        for row in rows:
            try:
                _, outcome = mapping.upsert_entry(
                    session=session,
                    topic=row.topic,
                    sector=row.sector,
                    entity=row.entity,
                    contact=row.contact,
                    theme=row.theme,
                    now=now,
                    actor=CLI_ACTOR,
                )
            except mapping.UnknownReference as error:
                raise MappingImportError(row.line, str(error)) from None
            counts[outcome] += 1
    return counts
