"""The figures behind the dashboard's charts that storage.dashboard does not already give."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.models import IssueRow, RecommendationRow
from storage.recommendations import RecommendationFilter, conditions, open_clause


def open_issue_dates(*, session: Session, where: RecommendationFilter) -> list[date]:
    """The issue dates of the open recommendations matching `where`, oldest first."""
    query = (
        select(col(RecommendationRow.issued_on))
        .where(*conditions(where), open_clause())
        .order_by(col(RecommendationRow.issued_on))
    )
    return [row[0] for row in session.connection().execute(query).all()]


def issues_by_theme_and_state(
    *, session: Session, theme: str | None = None
) -> dict[tuple[str, str], int]:
    """How many key issues each theme has in each state (only pairs that occur)."""
    theme_code, state = col(IssueRow.theme_code), col(IssueRow.state)
    query = select(theme_code, state, func.count()).group_by(theme_code, state)
    if theme is not None:
        query = query.where(theme_code == theme)
    return {(t, s): int(n) for t, s, n in session.connection().execute(query).all()}
