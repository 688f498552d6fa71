"""The periodic report to Council, built from the data, in Markdown, HTML or XLSX.

Its sections follow the Secretary-General's report on Resolution 191: introduction;
coordination within the secretariat (task-force meetings, thematic areas and their key
issues, main decisions); coordination with members (the ISCG mapping table); oversight
recommendations and the risks they leave open.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from domain.compliance import (
    acceptance_rate,
    implementation_rate,
    is_overdue,
    long_outstanding_cutoff,
)
from domain.recommendation_terms import (
    OPEN_ACCEPTANCE,
    OPEN_IMPLEMENTATION,
    Acceptance,
    Implementation,
)
from storage import directory
from storage.mapping import pivot
from storage.models import (
    AuditEventRow,
    IssueRow,
    MeetingRow,
    RecommendationRiskRow,
    RecommendationRow,
    RiskRow,
)

HELD_STATES = ("held", "minutes_recorded")


class ThemeActivity(BaseModel):
    theme: str
    name: str
    raised: int = 0
    resolved: int = 0
    escalated: int = 0
    decided: int = 0


class Decision(BaseModel):
    on: date
    issue: str
    theme: str
    outcome: str
    text: str


class BodyFigures(BaseModel):
    source: str
    total: int
    acceptance: dict[str, int]
    implementation: dict[str, int]
    acceptance_rate: float | None
    implementation_rate: float | None
    overdue: int
    long_outstanding: int


class OpenRisk(BaseModel):
    risk: str
    title: str
    residual_score: int
    open_recommendations: int


class MappingLine(BaseModel):
    topic: str
    entities: dict[str, str]


class CouncilReport(BaseModel):
    period_from: date
    period_to: date
    generated_at: datetime
    meetings_in_period: int
    meetings_since_inception: int
    themes: list[ThemeActivity]
    median_days_to_resolution: float | None
    decisions: list[Decision]
    sectors: list[str]
    mapping: list[MappingLine]
    bodies: list[BodyFigures]
    open_risks: list[OpenRisk]

    @property
    def totals(self) -> ThemeActivity:
        return ThemeActivity(
            theme="",
            name="",
            raised=sum(t.raised for t in self.themes),
            resolved=sum(t.resolved for t in self.themes),
            escalated=sum(t.escalated for t in self.themes),
            decided=sum(t.decided for t in self.themes),
        )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as [start 00:00, end+1 00:00) in UTC: both days included."""
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC),
    )


def build_report(
    *, session: Session, start: date, end: date, now: datetime, long_outstanding_years: int = 5
) -> CouncilReport:
    """Every figure of the report, computed from the read model and the audit trail."""
    low, high = _bounds(start, end)
    return CouncilReport(
        period_from=start,
        period_to=end,
        generated_at=now,
        meetings_in_period=_meetings(session, low, high),
        meetings_since_inception=_meetings(session, None, high),
        themes=_themes(session, low, high),
        median_days_to_resolution=_median_resolution(session, low, high),
        decisions=_decisions(session, low, high),
        sectors=[s.code for s in directory.list_sectors(session=session)],
        mapping=_mapping(session),
        bodies=_bodies(session, end, long_outstanding_years),
        open_risks=_open_risks(session),
    )


def _meetings(session: Session, low: datetime | None, high: datetime) -> int:
    query = select(MeetingRow).where(
        col(MeetingRow.state).in_(HELD_STATES), col(MeetingRow.starts_at) < high
    )
    if low is not None:
        query = query.where(col(MeetingRow.starts_at) >= low)
    return len(session.exec(query).all())


def _issue_events(
    session: Session, actions: tuple[str, ...], low: datetime, high: datetime
) -> list[AuditEventRow]:
    rows = session.exec(
        select(AuditEventRow)
        .where(
            AuditEventRow.entity_type == "issue",
            col(AuditEventRow.action).in_(actions),
            col(AuditEventRow.occurred_at) >= low,
            col(AuditEventRow.occurred_at) < high,
        )
        .order_by(col(AuditEventRow.occurred_at))
    ).all()
    return list(rows)


def _issues(session: Session) -> dict[str, IssueRow]:
    return {row.id: row for row in session.exec(select(IssueRow)).all()}


def _themes(session: Session, low: datetime, high: datetime) -> list[ThemeActivity]:
    issues = _issues(session)
    names = {t.code: t.name for t in directory.list_themes(session=session)}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    fields = {
        "IssueRaised": "raised",
        "IssueResolved": "resolved",
        "EscalationApproved": "escalated",
        "DecisionRecorded": "decided",
    }
    for event in _issue_events(session, tuple(fields), low, high):
        issue = issues.get(event.entity_id)
        if issue is not None:
            counts[issue.theme_code][fields[event.action]] += 1
    return [
        ThemeActivity(theme=code, name=names.get(code, code), **dict(counts[code]))
        for code in sorted(counts)
    ]


def _median_resolution(session: Session, low: datetime, high: datetime) -> float | None:
    """Days from raising to resolution, for issues resolved in the period.

    Resolution is agreement by the focal points, or a task-force decision `resolved`.
    """
    raised = {
        e.entity_id: e.occurred_at
        for e in session.exec(
            select(AuditEventRow).where(
                AuditEventRow.entity_type == "issue", AuditEventRow.action == "IssueRaised"
            )
        ).all()
    }
    days = []
    for event in _issue_events(session, ("IssueResolved", "DecisionRecorded"), low, high):
        if event.action == "DecisionRecorded" and event.payload.get("outcome") != "resolved":
            continue
        if event.entity_id in raised:
            elapsed = event.occurred_at - raised[event.entity_id]
            days.append(elapsed.total_seconds() / 86_400)
    return round(statistics.median(days), 1) if days else None


def _decisions(session: Session, low: datetime, high: datetime) -> list[Decision]:
    issues = _issues(session)
    found = []
    for event in _issue_events(session, ("DecisionRecorded",), low, high):
        issue = issues.get(event.entity_id)
        if issue is None:
            continue
        found.append(
            Decision(
                on=event.occurred_at.date(),
                issue=issue.title,
                theme=issue.theme_code,
                outcome=str(event.payload.get("outcome", "")),
                text=str(event.payload.get("text", "")),
            )
        )
    return found


def _mapping(session: Session) -> list[MappingLine]:
    table = pivot(session=session)
    return [
        MappingLine(
            topic=row.topic,
            entities={sector: cell.entity for sector, cell in row.cells.items() if cell.entity},
        )
        for row in table.rows
    ]


def _pair(row: RecommendationRow) -> tuple[Acceptance, Implementation]:
    return Acceptance(row.acceptance), Implementation(row.implementation)


def _is_open(row: RecommendationRow) -> bool:
    acceptance, implementation = _pair(row)
    return acceptance in OPEN_ACCEPTANCE and implementation in OPEN_IMPLEMENTATION


def _bodies(session: Session, end: date, years: int) -> list[BodyFigures]:
    """Per source body, as the compliance dashboard computes it (docs/recommendations.md)."""
    rows = session.exec(select(RecommendationRow).order_by(col(RecommendationRow.source))).all()
    by_source: dict[str, list[RecommendationRow]] = defaultdict(list)
    for row in rows:
        by_source[row.source].append(row)
    cutoff = long_outstanding_cutoff(end, years)
    figures = []
    for source, recs in sorted(by_source.items()):
        pairs = Counter(_pair(r) for r in recs)
        figures.append(
            BodyFigures(
                source=source,
                total=len(recs),
                acceptance=dict(Counter(r.acceptance for r in recs)),
                implementation=dict(Counter(r.implementation for r in recs)),
                acceptance_rate=acceptance_rate(pairs),
                implementation_rate=implementation_rate(pairs),
                overdue=sum(1 for r in recs if is_overdue(*_pair(r), r.target_date, end)),
                long_outstanding=sum(1 for r in recs if _is_open(r) and r.issued_on <= cutoff),
            )
        )
    return figures


def _open_risks(session: Session) -> list[OpenRisk]:
    recs = {r.id: r for r in session.exec(select(RecommendationRow)).all()}
    open_by_risk: Counter[str] = Counter(
        link.risk_id
        for link in session.exec(select(RecommendationRiskRow)).all()
        if link.recommendation_id in recs and _is_open(recs[link.recommendation_id])
    )
    risks = session.exec(select(RiskRow).order_by(col(RiskRow.id))).all()
    return [
        OpenRisk(
            risk=r.id,
            title=r.title,
            residual_score=r.residual_score,
            open_recommendations=open_by_risk[r.id],
        )
        for r in risks
        if open_by_risk[r.id]
    ]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def render(report: CouncilReport, fmt: str, language: str) -> bytes:
    """The report as Markdown, HTML (a complete document) or an XLSX workbook."""
    from notifications.render import report_environment

    if fmt == "xlsx":
        return _xlsx(report, language)
    environment = report_environment(language)
    template = environment.get_template(f"report/council.{fmt}")
    context: dict[str, Any] = {
        "report": report,
        "totals": report.totals,
        "percent": _percent,
    }
    return template.render(**context).encode("utf-8")


def _xlsx(report: CouncilReport, language: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from notifications.render import gettext_for

    _ = gettext_for(language)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Key issues by thematic area")[:31]
    sheet.append([_("Theme"), _("Raised"), _("Resolved"), _("Escalated"), _("Decided")])
    for theme in report.themes:
        sheet.append([theme.name, theme.raised, theme.resolved, theme.escalated, theme.decided])
    totals = report.totals
    sheet.append([_("Total"), totals.raised, totals.resolved, totals.escalated, totals.decided])
    sheet.append([])
    in_period, since = report.meetings_in_period, report.meetings_since_inception
    median = report.median_days_to_resolution
    sheet.append(
        [_("Task-force meetings in the period: %(count)s") % {"count": in_period}, in_period]
    )
    sheet.append([_("Task-force meetings since inception: %(count)s") % {"count": since}, since])
    sheet.append([_("Median days to resolution: %(days)s") % {"days": median}, median])
    decisions = book.create_sheet(_("Main decisions")[:31])
    decisions.append([_("Date"), _("Key issue"), _("Theme"), _("Outcome"), _("Decision")])
    for d in report.decisions:
        decisions.append([d.on, d.issue, d.theme, d.outcome, d.text])
    mapping = book.create_sheet(_("Mapping table")[:31])
    mapping.append([_("Topic"), *report.sectors])
    for line in report.mapping:
        mapping.append([line.topic, *(line.entities.get(s, "") for s in report.sectors)])
    bodies = book.create_sheet(_("Oversight recommendations")[:31])
    bodies.append(
        [_("Source"), _("Total"), _("Acceptance rate"), _("Implementation rate"), _("Overdue"),
         _("Long-outstanding")]
    )  # fmt: skip
    for b in report.bodies:
        bodies.append(
            [b.source, b.total, b.acceptance_rate, b.implementation_rate, b.overdue,
             b.long_outstanding]
        )  # fmt: skip
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
