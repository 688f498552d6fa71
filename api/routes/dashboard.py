"""The compliance dashboard: figures per source body, report year, theme, priority or owner.

Read from the SQL read model only (never from Temporal); see docs/recommendations.md for
how each figure is computed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import AppStateDep, CurrentUserDep, SessionDep
from api.routes.recommendations import today
from api.schemas import ErrorResponse
from domain.compliance import GroupBy, GroupFigures
from domain.recommendation_terms import Day, Priority, SourceBody
from iscflow.recommendation_export import dashboard_rows, render
from iscflow.tables import MEDIA_TYPES, TableFormat
from storage.dashboard import compliance_view
from storage.recommendations import RecommendationFilter

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 422)}
router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"], responses=ERRORS)


class DashboardView(BaseModel):
    by: GroupBy
    as_of: date
    long_outstanding_years: int
    filters: dict[str, str | int] = Field(description="the filters the view was asked with")
    groups: list[GroupFigures]
    total: GroupFigures | None = Field(description="all the view's recommendations together")


class ViewQuery(BaseModel):
    """The parameters that choose a view (shared by the view and its export)."""

    by: GroupBy = Field(default=GroupBy.SOURCE, description="what each row stands for")
    source: SourceBody | None = None
    year: int | None = Field(default=None, ge=1900, le=2200, description="of the report")
    theme: str | None = Field(default=None, max_length=64)
    priority: Priority | None = None
    owner: str | None = Field(default=None, max_length=64)
    as_of: Day | None = Field(default=None, description="the day the figures are for")

    def filter(self) -> RecommendationFilter:
        return RecommendationFilter(
            source=self.source.value if self.source else None,
            year=self.year,
            theme=self.theme,
            priority=self.priority.value if self.priority else None,
            owner=self.owner,
        )

    def filters(self) -> dict[str, str | int]:
        values = self.model_dump(mode="json", exclude={"by", "as_of"}, exclude_none=True)
        return {k: v for k, v in values.items() if isinstance(v, str | int)}


ViewQueryDep = Annotated[ViewQuery, Query()]


def _view(query: ViewQuery, session: SessionDep, state: AppStateDep) -> DashboardView:
    policy = state.settings.recommendations.policy
    as_of = query.as_of or today(policy)
    years = policy.long_outstanding_years
    groups, total = compliance_view(
        session=session, by=query.by, where=query.filter(), as_of=as_of, years=years
    )
    return DashboardView(
        by=query.by,
        as_of=as_of,
        long_outstanding_years=years,
        filters=query.filters(),
        groups=groups,
        total=total,
    )


@router.get("", response_model=DashboardView)
def dashboard(
    query: ViewQueryDep, _: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> DashboardView:
    """Counts per state on both axes, acceptance and implementation rates (as the JIU computes
    them), overdue, long-outstanding, median age and residual-risk exposure, per group."""
    return _view(query, session, state)


@router.get(
    "/export.{fmt}",
    response_class=Response,
    responses={200: {"content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()}}},
)
def export(
    fmt: TableFormat,
    query: ViewQueryDep,
    _: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
) -> Response:
    """The same view as a CSV or Excel file: one row per group, then the total."""
    view = _view(query, session, state)
    rows = [*view.groups, *([view.total] if view.total and view.by is not GroupBy.ALL else [])]
    header, body = dashboard_rows(rows, view.by.value)
    content = render(header, body, fmt, sheet=f"Compliance by {view.by.value}")
    name = f"iscflow-compliance-{view.by.value}-{view.as_of.isoformat()}.{fmt.value}"
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
