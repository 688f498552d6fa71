"""`iscflow report council`: the periodic report to Council, from the data."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from iscflow.settings import Settings

report_app = typer.Typer(help="Reports built from the data.", no_args_is_help=True)


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    XLSX = "xlsx"


class Language(StrEnum):
    AR = "ar"
    ZH = "zh"
    EN = "en"
    FR = "fr"
    RU = "ru"
    ES = "es"


@report_app.command("council")
def council(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last day")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md, html or xlsx")] = (
        ReportFormat.MD
    ),
    lang: Annotated[Language, typer.Option("--lang", help="language of headings and text")] = (
        Language.EN
    ),
    output: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="data directory")] = None,
) -> None:
    """The report to Council for a period: meetings, key issues, mapping, recommendations."""
    from sqlmodel import Session

    from iscflow.report import build_report, render
    from storage.db import create_db_engine

    if end.date() < start.date():
        typer.secho("error: --to is before --from", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    if fmt is ReportFormat.XLSX and output is None:
        typer.secho("error: an XLSX report needs --output FILE", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    engine = create_db_engine(settings.database_url)
    with Session(engine) as session:
        report = build_report(
            session=session, start=start.date(), end=end.date(), now=datetime.now(UTC)
        )
    engine.dispose()
    content = render(report, fmt.value, lang.value)
    if output is None:
        sys.stdout.write(content.decode("utf-8"))
    else:
        output.write_bytes(content)
        typer.echo(f"report written to {output}", err=True)
