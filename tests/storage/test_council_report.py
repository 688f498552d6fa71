"""The report to Council: every figure recomputed independently from the tables."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import ClassVar

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from domain.issues import (
    AddComment,
    ApproveEscalation,
    DecisionOutcome,
    Issue,
    IssueEvent,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
)
from iscflow.report import CouncilReport, build_report, render
from notifications.render import LANGUAGES
from storage import mapping, meetings, repository
from storage.db import session_scope
from storage.models import RecommendationRiskRow, RecommendationRow, RiskRow
from tests.support.people import People

START, END = date(2026, 1, 1), date(2026, 3, 31)
BEFORE = datetime(2025, 12, 10, 9, tzinfo=UTC)
IN_PERIOD = datetime(2026, 2, 2, 9, tzinfo=UTC)


def _drive(
    engine: Engine, people: People, issue_id: str, theme: str, at: datetime, steps: str
) -> None:
    """Raise an issue at `at`; then r=resolve, e=escalate+approve, d=decide (a day apart)."""
    fp = people.fp_access.actor if theme == "accessibility" else people.fp_gender.actor
    sector = "ITU-T" if theme == "accessibility" else "GS"
    issue, event = Issue.raise_issue(
        RaiseIssue(issue_id=issue_id, title=f"Issue {issue_id}", description="d", theme=theme,
                   sector=sector),
        fp, at,
    )  # fmt: skip
    events: list[tuple[Issue, IssueEvent]] = [(issue, event)]
    when = at
    for step in steps:
        when += timedelta(days=1)
        if step == "c":
            events.append(issue.handle(AddComment(body="noted"), fp, when))
        if step == "r":
            events.append(issue.handle(ResolveIssue(resolution="agreed"), fp, when))
        if step == "e":
            events.append(issue.handle(RequestEscalation(reason="r"), fp, when))
            issue = events[-1][0]
            when += timedelta(hours=1)
            events.append(issue.handle(ApproveEscalation(), people.chair.actor, when))
        if step == "d":
            events.append(
                issue.handle(
                    RecordDecision(outcome=DecisionOutcome.RESOLVED, text=f"Decided {issue_id}"),
                    people.chair.actor, when,
                )
            )  # fmt: skip
        issue = events[-1][0]
    for snapshot, recorded in events:
        repository.record_issue_event(
            engine=engine, issue=snapshot, event=recorded, recorded_at=when
        )


@pytest.fixture
def data(engine: Engine, people: People) -> None:
    _drive(engine, people, "old", "accessibility", BEFORE, "r")  # all before the period
    _drive(engine, people, "a1", "accessibility", IN_PERIOD, "cr")
    _drive(engine, people, "a2", "accessibility", IN_PERIOD, "ed")
    _drive(engine, people, "g1", "gender", IN_PERIOD + timedelta(days=3), "e")
    _drive(engine, people, "late", "gender", datetime(2026, 4, 5, tzinfo=UTC), "r")  # after it
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        for number, when in ((38, BEFORE), (39, IN_PERIOD), (40, IN_PERIOD + timedelta(days=20))):
            meetings.record_history(
                session=session, number=number, title=f"M{number}", starts_at=when, now=now
            )
        mapping.upsert_entry(
            session=session, topic="Climate change", sector="ITU-T", entity="SG 5", now=now,
            actor=("secretariat", "secretariat"),
        )  # fmt: skip
        session.add(RiskRow(
            id="R1", title="Data loss", description="d", owner_id="chair", inherent_likelihood=4,
            inherent_impact=5, residual_likelihood=2, residual_impact=4, inherent_score=20,
            residual_score=8, treatment="mitigate", created_at=now, updated_at=now,
        ))  # fmt: skip
        specs = [
            ("JIU", 1, "accepted", "in_progress", date(2026, 2, 1), date(2019, 5, 1)),
            ("JIU", 2, "accepted", "verified", None, date(2024, 1, 1)),
            ("JIU", 3, "not_accepted", "not_started", None, date(2024, 1, 1)),
            ("IMAC", 1, "under_consideration", "not_started", None, date(2025, 6, 1)),
            ("IMAC", 2, "partially_accepted", "implemented", date(2026, 6, 1), date(2025, 6, 1)),
        ]
        for source, n, acceptance, implementation, target, issued in specs:
            session.add(RecommendationRow(
                id=f"rec-{source}-X-{n}", source=source, symbol="X", number=n,
                report_year=issued.year, issued_on=issued, title=f"{source} {n}", text="t",
                addressee="executive_head", owner_id="fp_access", theme_code="accessibility",
                priority="high", target_date=target, acceptance=acceptance,
                implementation=implementation, version=1, created_at=now, updated_at=now,
            ))  # fmt: skip
        session.flush()
        session.add(RecommendationRiskRow(recommendation_id="rec-JIU-X-1", risk_id="R1"))


def _report(engine: Engine) -> CouncilReport:
    with Session(engine) as session:
        return build_report(
            session=session, start=START, end=END, now=datetime(2026, 4, 1, tzinfo=UTC)
        )


def _count(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


@pytest.mark.usefixtures("data")
def test_issue_figures_match_an_independent_count_of_the_audit_trail(engine: Engine) -> None:
    report = _report(engine)
    low, high = "2026-01-01", "2026-04-01"
    expected = _count(
        engine,
        f"""SELECT i.theme_code, a.action, COUNT(*) FROM audit_event a
            JOIN issue i ON i.id = a.entity_id
            WHERE a.entity_type = 'issue' AND a.occurred_at >= '{low}' AND a.occurred_at < '{high}'
            GROUP BY i.theme_code, a.action""",
    )
    names = {"IssueRaised": "raised", "IssueResolved": "resolved",
             "EscalationApproved": "escalated", "DecisionRecorded": "decided"}  # fmt: skip
    independent: dict[tuple[str, str], int] = {
        (str(theme), names[str(action)]): int(str(n)) for theme, action, n in expected
        if action in names
    }  # fmt: skip
    mine = {
        (t.theme, field): getattr(t, field)
        for t in report.themes
        for field in ("raised", "resolved", "escalated", "decided")
        if getattr(t, field)
    }
    assert mine == independent
    assert (report.totals.raised, report.totals.resolved) == (3, 1)
    assert (report.totals.escalated, report.totals.decided) == (2, 1)


@pytest.mark.usefixtures("data")
def test_meetings_decisions_and_resolution_time(engine: Engine) -> None:
    report = _report(engine)
    assert (report.meetings_in_period, report.meetings_since_inception) == (2, 3)
    assert [d.issue for d in report.decisions] == ["Issue a2"]
    # a1 was resolved two days after it was raised, a2 decided two days and an hour after.
    assert report.median_days_to_resolution == pytest.approx((2 + 2 + 1 / 24) / 2, abs=0.1)


@pytest.mark.usefixtures("data")
def test_recommendation_figures_follow_the_jiu_formulas(engine: Engine) -> None:
    bodies = {b.source: b for b in _report(engine).bodies}
    jiu, imac = bodies["JIU"], bodies["IMAC"]
    # JIU: 2 accepted of 3 decided; of the 2 accepted, 1 verified.
    assert (jiu.total, jiu.acceptance_rate, jiu.implementation_rate) == (3, 2 / 3, 1 / 2)
    assert (jiu.overdue, jiu.long_outstanding) == (1, 1)
    # IMAC: 1 partially accepted of 1 decided; implemented (claimed) counts as implemented.
    assert (imac.acceptance_rate, imac.implementation_rate, imac.overdue) == (1.0, 1.0, 0)
    assert [
        (r.risk, r.open_recommendations, r.residual_score) for r in _report(engine).open_risks
    ] == [("R1", 1, 8)]


@pytest.mark.usefixtures("data")
def test_the_xlsx_has_the_same_figures(engine: Engine) -> None:
    report = _report(engine)
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", "en")))
    issues = list(book.worksheets[0].iter_rows(values_only=True))
    assert issues[0] == ("Theme", "Raised", "Resolved", "Escalated", "Decided")
    by_name = {row[0]: row[1:] for row in issues[1:] if row and row[0]}
    for theme in report.themes:
        assert by_name[theme.name] == (theme.raised, theme.resolved, theme.escalated, theme.decided)
    assert by_name["Total"] == (3, 1, 2, 1)
    recs = {
        row[0]: row[1:]
        for row in book["Oversight recommendations"].iter_rows(min_row=2, values_only=True)
    }
    assert recs["JIU"][:2] == (3, pytest.approx(2 / 3))


class _Checker(HTMLParser):
    VOID: ClassVar[frozenset[str]] = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_html_is_a_well_formed_document_in_every_language(
    engine: Engine, language: str
) -> None:
    page = render(_report(engine), "html", language).decode()
    checker = _Checker()
    checker.feed(page)
    assert page.startswith("<!DOCTYPE html>") or page.lstrip().startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.stack == []
    assert checker.seen.count("h1") == 1 and "caption" in checker.seen
    assert f'lang="{language}"' in page
    assert ('dir="rtl"' in page) == (language == "ar")


@pytest.mark.usefixtures("data")
def test_the_markdown_report_has_the_seed_reports_sections(engine: Engine) -> None:
    page = render(_report(engine), "md", "en").decode()
    headings = (
        "## 1. Introduction",
        "## 2. Coordination within the secretariat",
        "## 3. Coordination with members",
        "## 4. Oversight recommendations",
    )
    for heading in headings:
        assert heading in page
    assert "| Climate change |" in page
