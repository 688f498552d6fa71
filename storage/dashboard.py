"""The compliance dashboard's queries: counts in SQL, rates in domain.compliance.

Three grouped queries per view, each served by the indexes named in docs/recommendations.md:
counts per pair of states (with overdue and long-outstanding sums), issue dates of the open
recommendations (for the median age), and the distinct risks the open ones mitigate. The
row of all the view's recommendations is merged from the groups, without querying again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlmodel import Session, col

from domain.compliance import GroupBy, GroupFigures, figures, long_outstanding_cutoff
from domain.recommendation_terms import Acceptance, Implementation
from storage.models import RecommendationRiskRow, RecommendationRow, RiskRow
from storage.recommendations import (
    RecommendationFilter,
    conditions,
    open_clause,
    overdue_clause,
)

GROUP_COLUMNS: dict[GroupBy, Any] = {
    GroupBy.SOURCE: RecommendationRow.source,
    GroupBy.YEAR: RecommendationRow.report_year,
    GroupBy.THEME: RecommendationRow.theme_code,
    GroupBy.PRIORITY: RecommendationRow.priority,
    GroupBy.OWNER: RecommendationRow.owner_id,
}
ALL = "all"


@dataclass
class _Group:
    """What the queries say about one group, before it becomes a row of figures."""

    pairs: dict[tuple[Acceptance, Implementation], int] = field(default_factory=dict)
    overdue: int = 0
    long_outstanding: int = 0
    open_issued: list[date] = field(default_factory=list)
    risks: dict[str, int] = field(default_factory=dict)  # residual score by risk id

    def figures(self, name: str, as_of: date) -> GroupFigures:
        return figures(
            name,
            self.pairs,
            overdue=self.overdue,
            long_outstanding=self.long_outstanding,
            open_issued=self.open_issued,
            residual_scores=self.risks.values(),
            as_of=as_of,
        )


def compliance_view(
    *, session: Session, by: GroupBy, where: RecommendationFilter, as_of: date, years: int
) -> tuple[list[GroupFigures], GroupFigures | None]:
    """One row per value of `by` (in that value's order), and the row of all of them (None
    when the view is empty); GroupBy.ALL has the one row "all"."""
    keys = [col(GROUP_COLUMNS[by])] if by is not GroupBy.ALL else []
    groups: dict[Any, _Group] = defaultdict(_Group)
    filters = conditions(where)
    _count(session, groups, keys, filters, as_of, years)
    _open_issue_dates(session, groups, keys, filters)
    _exposure(session, groups, keys, filters)
    rows = [groups[k].figures(str(k), as_of) for k in sorted(groups)]
    if not rows:
        return [], None
    return rows, rows[0] if by is GroupBy.ALL else _merged(groups.values()).figures(ALL, as_of)


def _merged(groups: Any) -> _Group:
    total = _Group()
    for group in groups:
        for pair, count in group.pairs.items():
            total.pairs[pair] = total.pairs.get(pair, 0) + count
        total.overdue += group.overdue
        total.long_outstanding += group.long_outstanding
        total.open_issued.extend(group.open_issued)
        total.risks.update(group.risks)  # a risk mitigated in two groups counts once
    return total


def _group(row: Any, keys: list[Any]) -> Any:
    return row[0] if keys else ALL


def _count(
    session: Session,
    groups: dict[Any, _Group],
    keys: list[Any],
    filters: list[ColumnElement[bool]],
    as_of: date,
    years: int,
) -> None:
    cutoff = long_outstanding_cutoff(as_of, years)
    issued_on = col(RecommendationRow.issued_on)
    acceptance = col(RecommendationRow.acceptance)
    implementation = col(RecommendationRow.implementation)
    query = (
        select(
            *keys,
            acceptance,
            implementation,
            func.count(),
            func.sum(case((overdue_clause(as_of), 1), else_=0)),
            func.sum(case((and_(open_clause(), issued_on <= cutoff), 1), else_=0)),
        )
        .where(*filters)
        .group_by(*keys, acceptance, implementation)
    )
    for row in session.connection().execute(query).all():
        group = groups[_group(row, keys)]
        a, i, count, overdue, long = row[len(keys) :]
        group.pairs[Acceptance(a), Implementation(i)] = int(count)
        group.overdue += int(overdue or 0)
        group.long_outstanding += int(long or 0)


def _open_issue_dates(
    session: Session,
    groups: dict[Any, _Group],
    keys: list[Any],
    filters: list[ColumnElement[bool]],
) -> None:
    query = select(*keys, col(RecommendationRow.issued_on)).where(*filters, open_clause())
    for row in session.connection().execute(query).all():
        groups[_group(row, keys)].open_issued.append(row[-1])


def _exposure(
    session: Session,
    groups: dict[Any, _Group],
    keys: list[Any],
    filters: list[ColumnElement[bool]],
) -> None:
    """Per group, the residual score of each distinct risk an open recommendation mitigates."""
    query = (
        select(*keys, col(RiskRow.id), col(RiskRow.residual_score))
        .select_from(RecommendationRow)
        .join(
            RecommendationRiskRow,
            col(RecommendationRiskRow.recommendation_id) == col(RecommendationRow.id),
        )
        .join(RiskRow, col(RiskRow.id) == col(RecommendationRiskRow.risk_id))
        .where(*filters, open_clause())
        .distinct()
    )
    for row in session.connection().execute(query).all():
        *_, risk_id, residual = row
        groups[_group(row, keys)].risks[risk_id] = int(residual)
