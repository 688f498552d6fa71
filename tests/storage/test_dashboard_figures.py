"""Dashboard figures from SQL, checked against a second computation written here, plainly.

Two hundred recommendations with random (seeded) sources, years, themes, priorities, owners,
states, dates and risks, on SQLite and PostgreSQL; every grouping and a few filters.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from domain.compliance import GroupBy, GroupFigures
from domain.recommendation_terms import SourceBody
from storage.dashboard import compliance_view
from storage.db import session_scope
from storage.models import RecommendationRiskRow, RecommendationRow, RiskRow
from storage.recommendations import RecommendationFilter
from tests.support.people import People

AS_OF = date(2025, 3, 14)
YEARS = 5
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
OWNERS = {"fp_access": "accessibility", "fp_access_d": "accessibility", "fp_gender": "gender"}
RESIDUAL = {"R-1": 12, "R-2": 6, "R-3": 2, "R-4": 20}
# Which (acceptance, implementation) pairs the lifecycle can produce.
PAIRS = [
    ("under_consideration", "not_started"),
    ("accepted", "not_started"),
    ("accepted", "in_progress"),
    ("accepted", "implemented"),
    ("accepted", "verified"),
    ("accepted", "overtaken_by_events"),
    ("partially_accepted", "in_progress"),
    ("partially_accepted", "verified"),
    ("partially_accepted", "not_implemented"),
    ("not_accepted", "not_started"),
    ("not_relevant", "not_started"),
]


def _dataset(seed: int = 191) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    rng = random.Random(seed)
    rows, links = [], {}
    for n in range(200):
        owner = rng.choice(sorted(OWNERS))
        acceptance, implementation = rng.choice(PAIRS)
        issued = date(rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28))
        target = rng.choice([None, issued + timedelta(days=rng.randint(30, 1500))])
        rec_id = f"rec-test-{n}"
        rows.append(
            {
                "id": rec_id,
                "source": rng.choice(list(SourceBody)).value,
                "symbol": f"T/{n}",
                "number": 1,
                "report_year": issued.year,
                "issued_on": issued,
                "title": f"Recommendation {n}",
                "text": "Text.",
                "addressee": "executive_head",
                "owner_id": owner,
                "theme_code": OWNERS[owner],
                "priority": rng.choice(["high", "medium", "low"]),
                "target_date": target
                if target is None or target <= AS_OF + timedelta(400)
                else None,
                "acceptance": acceptance,
                "implementation": implementation,
                "progress": 0,
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        links[rec_id] = rng.sample(sorted(RESIDUAL), rng.randint(0, 2))
    return rows, links


@pytest.fixture
def dataset(engine: Engine, people: People) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    rows, links = _dataset()
    with session_scope(engine) as session:
        for risk_id, residual in RESIDUAL.items():
            session.add(
                RiskRow(
                    id=risk_id,
                    title=risk_id,
                    description="-",
                    owner_id="chair",
                    inherent_likelihood=5,
                    inherent_impact=5,
                    residual_likelihood=1,
                    residual_impact=residual,
                    inherent_score=25,
                    residual_score=residual,
                    treatment="-",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        session.add_all(RecommendationRow(**row) for row in rows)
        session.flush()
        session.add_all(
            RecommendationRiskRow(recommendation_id=rec_id, risk_id=risk_id)
            for rec_id, risk_ids in links.items()
            for risk_id in risk_ids
        )
    return rows, links


# -- the second computation -----------------------------------------------------------------


def _is_open(row: dict[str, Any]) -> bool:
    if row["acceptance"] in ("not_accepted", "not_relevant"):
        return False
    return row["implementation"] in ("not_started", "in_progress", "implemented")


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def _by_hand(rows: list[dict[str, Any]], links: dict[str, list[str]]) -> dict[str, Any]:
    accepted = [r for r in rows if r["acceptance"] in ("accepted", "partially_accepted")]
    decided = [r for r in rows if r["acceptance"] != "under_consideration"]
    done = [r for r in accepted if r["implementation"] in ("implemented", "verified")]
    verified = [r for r in accepted if r["implementation"] == "verified"]
    open_rows = [r for r in rows if _is_open(r)]
    cutoff = date(AS_OF.year - YEARS, AS_OF.month, AS_OF.day)
    risks = {risk for r in open_rows for risk in links[r["id"]]}
    return {
        "total": len(rows),
        "open": len(open_rows),
        "acceptance_rate": len(accepted) / len(decided) if decided else None,
        "implementation_rate": len(done) / len(accepted) if accepted else None,
        "verified_rate": len(verified) / len(accepted) if accepted else None,
        "overdue": sum(
            1
            for r in accepted
            if r["implementation"] in ("not_started", "in_progress")
            and r["target_date"] is not None
            and r["target_date"] < AS_OF
        ),
        "long_outstanding": sum(1 for r in open_rows if r["issued_on"] <= cutoff),
        "median_age_days": _median([(AS_OF - r["issued_on"]).days for r in open_rows]),
        "residual_exposure": sum(RESIDUAL[risk] for risk in risks),
        "acceptance": _count(rows, "acceptance"),
        "implementation": _count(rows, "implementation"),
    }


def _count(rows: list[dict[str, Any]], column: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row[column]] += 1
    return dict(counts)


def _as_computed(figures: GroupFigures) -> dict[str, Any]:
    values = figures.model_dump(mode="json", exclude={"group"})
    for axis in ("acceptance", "implementation"):
        values[axis] = {state: n for state, n in values[axis].items() if n}
    return values


KEYS: dict[GroupBy, Callable[[dict[str, Any]], str]] = {
    GroupBy.SOURCE: lambda r: r["source"],
    GroupBy.YEAR: lambda r: str(r["report_year"]),
    GroupBy.THEME: lambda r: r["theme_code"],
    GroupBy.PRIORITY: lambda r: r["priority"],
    GroupBy.OWNER: lambda r: r["owner_id"],
}


def _expected(
    rows: list[dict[str, Any]], links: dict[str, list[str]], by: GroupBy
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[KEYS[by](row)].append(row)
    return {key: _by_hand(members, links) for key, members in groups.items()}


def _approx(values: dict[str, Any]) -> dict[str, Any]:
    return {k: pytest.approx(v) if isinstance(v, float) else v for k, v in values.items()}


@pytest.mark.parametrize("by", list(KEYS))
def test_every_grouping_matches_the_second_computation(
    engine: Engine, dataset: tuple[list[dict[str, Any]], dict[str, list[str]]], by: GroupBy
) -> None:
    rows, links = dataset
    with Session(engine) as session:
        groups, total = compliance_view(
            session=session, by=by, where=RecommendationFilter(), as_of=AS_OF, years=YEARS
        )

    expected = _expected(rows, links, by)
    assert [g.group for g in groups] == sorted(
        expected, key=lambda k: int(k) if by is GroupBy.YEAR else k
    )
    for figures in groups:
        assert _as_computed(figures) == _approx(expected[figures.group]), figures.group
    assert total is not None
    assert _as_computed(total) == _approx(_by_hand(rows, links))


@pytest.mark.parametrize(
    ("where", "keep"),
    [
        (RecommendationFilter(source="jiu"), lambda r: r["source"] == "jiu"),
        (RecommendationFilter(year=2019), lambda r: r["report_year"] == 2019),
        (
            RecommendationFilter(theme="accessibility", priority="high"),
            lambda r: r["theme_code"] == "accessibility" and r["priority"] == "high",
        ),
        (RecommendationFilter(owner="fp_gender"), lambda r: r["owner_id"] == "fp_gender"),
    ],
)
def test_filtered_views_match_the_second_computation(
    engine: Engine,
    dataset: tuple[list[dict[str, Any]], dict[str, list[str]]],
    where: RecommendationFilter,
    keep: Callable[[dict[str, Any]], bool],
) -> None:
    rows, links = dataset
    chosen = [r for r in rows if keep(r)]
    with Session(engine) as session:
        groups, total = compliance_view(
            session=session, by=GroupBy.SOURCE, where=where, as_of=AS_OF, years=YEARS
        )

    assert chosen, "the filter should keep some rows"
    assert total is not None and _as_computed(total) == _approx(_by_hand(chosen, links))
    assert sum(g.total for g in groups) == len(chosen)


def test_an_empty_view_has_no_rows_and_no_total(engine: Engine, people: People) -> None:
    with Session(engine) as session:
        groups, total = compliance_view(
            session=session, by=GroupBy.THEME, where=RecommendationFilter(), as_of=AS_OF, years=5
        )
    assert (groups, total) == ([], None)


def test_filtered_counts_use_the_dashboard_indexes(sqlite_engine: Engine, people: People) -> None:
    plans = {}
    queries = {
        "theme": "theme_code = 'gender'",
        "owner": "owner_id = 'fp_gender'",
        "source": "source = 'jiu' AND report_year = 2020",
        "priority": "priority = 'high'",
    }
    with sqlite_engine.connect() as conn:
        for name, where in queries.items():
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT acceptance, implementation, count(*) "
                    f"FROM recommendation WHERE {where} GROUP BY acceptance, implementation"
                )
            ).all()
            plans[name] = " ".join(str(step[-1]) for step in plan)

    assert "ix_recommendation_theme_states" in plans["theme"]
    assert "ix_recommendation_owner_states" in plans["owner"]
    assert "ix_recommendation_source_year" in plans["source"]
    assert "ix_recommendation_priority_states" in plans["priority"]
