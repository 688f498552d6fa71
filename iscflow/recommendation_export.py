"""Recommendations and dashboard views as tables (CSV, XLSX).

The list is written in the import's own columns, so an exported file can be edited and
imported again; the dashboard writes one row per group with every figure of the view.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.compliance import GroupFigures
from domain.recommendation_terms import Acceptance, Implementation
from iscflow.recommendation_import import COLUMNS
from iscflow.tables import Cell, TableFormat, to_csv, to_xlsx
from storage.models import RecommendationRow

Rows = list[list[Cell]]


def recommendation_rows(
    rows: Sequence[RecommendationRow], risks: dict[str, list[str]]
) -> tuple[list[str], Rows]:
    """Header and rows in the import's columns."""
    body: Rows = [
        [
            row.source,
            row.symbol,
            row.number,
            row.issued_on.isoformat(),
            row.title,
            row.text,
            row.addressee,
            row.owner_id,
            row.theme_code,
            row.priority,
            row.target_date.isoformat() if row.target_date else "",
            "; ".join(risks.get(row.id, [])),
            row.acceptance,
            row.implementation,
            row.progress,
            row.closure_justification or row.acceptance_comment or "",
        ]
        for row in rows
    ]
    return list(COLUMNS), body


def dashboard_rows(groups: Sequence[GroupFigures], by: str) -> tuple[list[str], Rows]:
    """One row per group: counts per state on both axes, rates, overdue and the rest."""
    header = [
        by,
        "total",
        "open",
        *(f"acceptance:{a.value}" for a in Acceptance),
        *(f"implementation:{i.value}" for i in Implementation),
        "acceptance_rate",
        "implementation_rate",
        "verified_rate",
        "overdue",
        "long_outstanding",
        "median_age_days",
        "residual_exposure",
    ]
    body: Rows = [
        [
            g.group,
            g.total,
            g.open,
            *(g.acceptance[a] for a in Acceptance),
            *(g.implementation[i] for i in Implementation),
            g.acceptance_rate,
            g.implementation_rate,
            g.verified_rate,
            g.overdue,
            g.long_outstanding,
            g.median_age_days,
            g.residual_exposure,
        ]
        for g in groups
    ]
    return header, body


def render(header: list[str], rows: Rows, fmt: TableFormat, *, sheet: str) -> bytes:
    """The file's bytes in the chosen format."""
    if fmt is TableFormat.CSV:
        return to_csv(header, rows)
    return to_xlsx(header, rows, sheet=sheet)
