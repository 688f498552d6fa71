"""`iscflow dashboard`: the compliance dashboard on the terminal, or as a CSV or Excel file."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iscflow.settings import Settings

if TYPE_CHECKING:
    from domain.compliance import GroupFigures


class GroupBy(StrEnum):
    """The values of domain.compliance.GroupBy (kept here so the CLI starts fast)."""

    SOURCE = "source"
    YEAR = "year"
    THEME = "theme"
    PRIORITY = "priority"
    OWNER = "owner"
    ALL = "all"


class Output(StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"


DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where embedded state lives (env ISCFLOW_DATA_DIR)"),
]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def dashboard(
    by: Annotated[GroupBy, typer.Option(help="what each row stands for")] = GroupBy.SOURCE,
    source: Annotated[str | None, typer.Option(help="external_auditor, imac, jiu, …")] = None,
    year: Annotated[int | None, typer.Option(help="of the report")] = None,
    theme: Annotated[str | None, typer.Option(help="a theme code")] = None,
    priority: Annotated[str | None, typer.Option(help="high, medium or low")] = None,
    owner: Annotated[str | None, typer.Option(help="a user id")] = None,
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="default: today")
    ] = None,
    fmt: Annotated[Output, typer.Option("--format", help="table, csv or xlsx")] = Output.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write")] = None,
    data_dir: DataDir = None,
) -> None:
    """Compliance figures per source body, report year, theme, priority or owner (from SQL)."""
    from zoneinfo import ZoneInfo

    from domain import compliance
    from iscflow.recommendation_export import dashboard_rows, render
    from iscflow.tables import TableFormat
    from storage.dashboard import compliance_view
    from storage.db import create_db_engine, session_scope
    from storage.recommendations import RecommendationFilter

    settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    policy = settings.recommendations.policy
    day: date = as_of.date() if as_of else datetime.now(ZoneInfo(policy.calendar.timezone)).date()
    where = RecommendationFilter(
        source=source, year=year, theme=theme, priority=priority, owner=owner
    )
    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            groups, total = compliance_view(
                session=session,
                by=compliance.GroupBy(by.value),
                where=where,
                as_of=day,
                years=policy.long_outstanding_years,
            )
    finally:
        engine.dispose()
    rows = [*groups, *([total] if total and by is not GroupBy.ALL else [])]
    if fmt is Output.TABLE:
        _table(rows, by.value, day)
        return
    header, body = dashboard_rows(rows, by.value)
    path = output or Path(f"iscflow-compliance-{by.value}.{fmt.value}")
    path.write_bytes(render(header, body, TableFormat(fmt.value), sheet=f"Compliance by {by}"))
    typer.echo(f"{len(groups)} groups written to {path}")


def _table(rows: list[GroupFigures], by: str, day: date) -> None:
    titles = ("total", "open", "accepted", "implemented", "verified", "overdue", "long", "age")
    typer.echo(f"Compliance by {by} on {day.isoformat()}")
    typer.echo(f"{by:<32}" + "".join(f"{t:>12}" for t in titles) + f"{'exposure':>10}")
    for row in rows:
        values = (
            row.total,
            row.open,
            _percent(row.acceptance_rate),
            _percent(row.implementation_rate),
            _percent(row.verified_rate),
            row.overdue,
            row.long_outstanding,
            "-" if row.median_age_days is None else f"{row.median_age_days:.0f} d",
        )
        typer.echo(
            f"{row.group[:31]:<32}"
            + "".join(f"{v!s:>12}" for v in values)
            + f"{row.residual_exposure:>10}"
        )
