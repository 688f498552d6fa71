"""`iscflow bench dashboard`: the compliance dashboard endpoint against hand-written SQL.

The database gets N recommendations (sources, years, themes, priorities, owners and both
state axes spread out; each linked to up to two risks of a register of 300) and an audit
trail of M rows, by bulk inserts. The project answers `GET /api/v1/dashboard?by=…` over HTTP
(uvicorn in this process, a real bearer token). The baseline is one hand-written SQL
statement per view (and one for its total), run on the driver connection, that gives the
same figures: the benchmark checks they are equal.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, insert, text

from bench.api_latency import serve_api
from bench.audit_trail import BareClock, generate
from bench.report import emit, machine, progress, ratio
from bench.stack import Stack, open_stack
from domain.compliance import GroupBy, long_outstanding_cutoff
from domain.organisation import THEMES
from domain.recommendation_terms import (
    ACCEPTING,
    DONE,
    OPEN_ACCEPTANCE,
    OPEN_IMPLEMENTATION,
    UNDER_WAY,
    Acceptance,
    Implementation,
    Priority,
    SourceBody,
)
from storage.db import session_scope
from storage.models import RecommendationRiskRow, RecommendationRow, RiskRow, UserRow

DEFAULT_SIZE = 100_000
QUICK_SIZE = 5_000
DEFAULT_AUDIT_ROWS = 1_000_000
QUICK_AUDIT_ROWS = 20_000
RISKS = 300
OWNERS = 60
REPEATS = 5
TARGET_RATIO = 2.0
AS_OF = date(2026, 6, 30)
BATCH = 10_000
VIEWS = (GroupBy.SOURCE, GroupBy.YEAR, GroupBy.THEME, GroupBy.PRIORITY, GroupBy.OWNER, GroupBy.ALL)
GROUP_SQL = {
    GroupBy.SOURCE: "source",
    GroupBy.YEAR: "report_year",
    GroupBy.THEME: "theme_code",
    GroupBy.PRIORITY: "priority",
    GroupBy.OWNER: "owner_id",
    GroupBy.ALL: "'all'",
}


# -- the data ---------------------------------------------------------------------------------


def _states(rng: random.Random) -> tuple[Acceptance, Implementation]:
    acceptance = rng.choices(list(Acceptance), weights=(10, 55, 15, 12, 8))[0]
    if acceptance not in ACCEPTING:
        return acceptance, Implementation.NOT_STARTED
    return acceptance, rng.choices(list(Implementation), weights=(20, 30, 15, 25, 5, 5))[0]


def populate(engine: Engine, size: int, seed: int = 191) -> None:
    """Owners, the risk register, `size` recommendations and their risk links."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    themes = [t.code for t in THEMES]
    owners = [f"bench-owner-{n:03d}" for n in range(OWNERS)]
    users = [
        {"id": o, "name": o, "email": f"{o}@bench.example.org", "role": "focal_point"}
        | {"language": "en", "digest": "immediate", "active": True, "created_at": now}
        for o in owners
    ]
    risks = []
    for n in range(RISKS):
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        residual = (max(1, likelihood - 1), max(1, impact - rng.randint(0, 2)))
        risks.append(
            {"id": f"R-{n:04d}", "title": f"Risk {n}", "description": "Benchmark risk."}
            | {"owner_id": rng.choice(owners), "treatment": "Mitigate.", "version": 1}
            | {"inherent_likelihood": likelihood, "inherent_impact": impact}
            | {"residual_likelihood": residual[0], "residual_impact": residual[1]}
            | {"inherent_score": likelihood * impact, "residual_score": residual[0] * residual[1]}
            | {"created_at": now, "updated_at": now}
        )
    with session_scope(engine) as session:
        session.execute(insert(UserRow.__table__), users)  # type: ignore[attr-defined]
        session.execute(insert(RiskRow.__table__), risks)  # type: ignore[attr-defined]
    recommendations: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for n in range(size):
        source = rng.choice(list(SourceBody))
        year = rng.randint(2012, 2026)
        issued = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
        acceptance, implementation = _states(rng)
        rec_id = f"rec-{source.value}-{year}-{n // 10}-{n % 10 + 1}"
        recommendations.append(
            {"id": rec_id, "source": source.value, "symbol": f"{year}/{n // 10}"}
            | {"number": n % 10 + 1, "report_year": year, "issued_on": issued}
            | {"title": f"Recommendation {n}", "text": "Benchmark recommendation."}
            | {"addressee": "executive_head", "owner_id": rng.choice(owners)}
            | {"theme_code": rng.choice(themes), "priority": rng.choice(list(Priority)).value}
            | {"target_date": issued + timedelta(days=rng.randint(90, 1500))}
            | {"acceptance": acceptance.value, "implementation": implementation.value}
            | {"progress": 0, "version": 1, "created_at": now, "updated_at": now}
        )
        for risk in rng.sample(range(RISKS), rng.choice((0, 1, 1, 2))):
            links.append({"recommendation_id": rec_id, "risk_id": f"R-{risk:04d}"})
        if len(recommendations) >= BATCH or n == size - 1:
            with session_scope(engine) as session:
                table = RecommendationRow.__table__  # type: ignore[attr-defined]
                session.execute(insert(table), recommendations)
                if links:
                    link_table = RecommendationRiskRow.__table__  # type: ignore[attr-defined]
                    session.execute(insert(link_table), links)
            recommendations.clear()
            links.clear()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # the planner's statistics, as a live database has them


# -- the hand-written SQL ---------------------------------------------------------------------


def _in(values: Any) -> str:
    return "(" + ", ".join(f"'{v.value}'" for v in sorted(values)) + ")"


def _equals(column: str, value: Any) -> str:
    return f"{column} = '{value.value}'"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def view_sql(by: GroupBy, dialect: str) -> str:
    """One statement: every figure of every group of the view."""
    age = (
        "(:as_of - issued_on)"
        if dialect == "postgresql"
        else "CAST(julianday(:as_of) - julianday(issued_on) AS INTEGER)"
    )
    is_open = (
        f"acceptance IN {_in(OPEN_ACCEPTANCE)} AND implementation IN {_in(OPEN_IMPLEMENTATION)}"
    )
    accepting = f"acceptance IN {_in(ACCEPTING)}"
    per_state = ", ".join(
        [f"SUM({_flag(_equals('acceptance', a))}) AS a_{a.value}" for a in Acceptance]
        + [f"SUM({_flag(_equals('implementation', i))}) AS i_{i.value}" for i in Implementation]
    )
    return f"""
WITH r AS (
  SELECT {GROUP_SQL[by]} AS grp, id, acceptance, implementation, issued_on, target_date,
         {_flag(is_open)} AS is_open
  FROM recommendation
),
counts AS (
  SELECT grp, COUNT(*) AS total, SUM(is_open) AS open, {per_state},
    SUM({_flag(accepting)}) AS accepting,
    SUM({_flag("acceptance <> 'under_consideration'")}) AS decided,
    SUM({_flag(f"{accepting} AND implementation IN {_in(DONE)}")}) AS done,
    SUM({_flag(f"{accepting} AND implementation = 'verified'")}) AS verified,
    SUM({_flag(f"{accepting} AND implementation IN {_in(UNDER_WAY)} AND target_date < :as_of")})
      AS overdue,
    SUM({_flag("is_open = 1 AND issued_on <= :cutoff")}) AS long_outstanding
  FROM r GROUP BY grp
),
ages AS (
  SELECT grp, {age} AS age,
    ROW_NUMBER() OVER (PARTITION BY grp ORDER BY issued_on DESC) AS rn,
    COUNT(*) OVER (PARTITION BY grp) AS n
  FROM r WHERE is_open = 1
),
medians AS (
  SELECT grp, AVG(1.0 * age) AS median_age FROM ages
  WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY grp
),
exposure AS (
  SELECT grp, SUM(residual_score) AS exposure FROM (
    SELECT DISTINCT r.grp, k.id, k.residual_score
    FROM r JOIN recommendation_risk rr ON rr.recommendation_id = r.id
           JOIN risk k ON k.id = rr.risk_id
    WHERE r.is_open = 1
  ) d GROUP BY grp
)
SELECT c.*, m.median_age, e.exposure
FROM counts c LEFT JOIN medians m ON m.grp = c.grp LEFT JOIN exposure e ON e.grp = c.grp
ORDER BY c.grp
"""


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the statement in the shape the API answers with."""
    return {
        "group": str(row["grp"]),
        "total": int(row["total"]),
        "open": int(row["open"]),
        "acceptance": {a.value: int(row[f"a_{a.value}"]) for a in Acceptance},
        "implementation": {i.value: int(row[f"i_{i.value}"]) for i in Implementation},
        "acceptance_rate": _rate(int(row["accepting"]), int(row["decided"])),
        "implementation_rate": _rate(int(row["done"]), int(row["accepting"])),
        "verified_rate": _rate(int(row["verified"]), int(row["accepting"])),
        "overdue": int(row["overdue"]),
        "long_outstanding": int(row["long_outstanding"]),
        "median_age_days": None if row["median_age"] is None else float(row["median_age"]),
        "residual_exposure": int(row["exposure"] or 0),
    }


def hand_written(engine: Engine, by: GroupBy, years: int) -> dict[str, Any]:
    """The view by plain SQL: its groups, then its total."""
    params: dict[str, Any] = {"as_of": AS_OF, "cutoff": long_outstanding_cutoff(AS_OF, years)}
    if engine.dialect.name != "postgresql":
        params = {k: v.isoformat() for k, v in params.items()}
    with engine.connect() as conn:
        rows = conn.execute(text(view_sql(by, engine.dialect.name)), params).mappings().all()
        groups = [_figures(dict(r)) for r in rows]
        total = groups
        if by is not GroupBy.ALL:
            statement = text(view_sql(GroupBy.ALL, engine.dialect.name))
            total = [_figures(dict(r)) for r in conn.execute(statement, params).mappings()]
    return {"groups": groups, "total": total[0] if total else None}


# -- comparing and timing ---------------------------------------------------------------------


def same_figures(api: dict[str, Any], sql: dict[str, Any]) -> bool:
    def normal(view: dict[str, Any]) -> list[dict[str, Any]]:
        # The order of groups is left to each database's collation: compare them sorted.
        rows = [*sorted(view["groups"], key=lambda g: g["group"]), view["total"]]
        return [
            {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}
            for row in rows
            if row is not None
        ]

    return normal(api) == normal(sql)


def _median_seconds(samples: list[float]) -> float:
    return statistics.median(samples)


async def _time_views(stack: Stack, years: int) -> dict[str, Any]:
    token = stack.cast.chair.token
    project: dict[str, list[float]] = {}
    baseline: dict[str, list[float]] = {}
    matches: dict[str, bool] = {}
    async with (
        serve_api(stack, stack.settings) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=300) as http,
    ):
        headers = {"Authorization": f"Bearer {token}"}
        for by in VIEWS:
            params = {"by": by.value, "as_of": AS_OF.isoformat()}
            answer: dict[str, Any] = {}
            for repeat in range(REPEATS + 1):  # the first of each is a warm-up
                started = time.perf_counter()
                response = await http.get("/api/v1/dashboard", params=params, headers=headers)
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                answer = response.json()
                started = time.perf_counter()
                sql = await asyncio.to_thread(hand_written, stack.engine, by, years)
                sql_elapsed = time.perf_counter() - started
                if repeat:
                    project.setdefault(by.value, []).append(elapsed)
                    baseline.setdefault(by.value, []).append(sql_elapsed)
            matches[by.value] = same_figures(answer, sql)
    return {"project": project, "baseline": baseline, "matches": matches}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def run(
    *, size: int = DEFAULT_SIZE, audit_rows: int = DEFAULT_AUDIT_ROWS, database_url: str | None
) -> dict[str, Any]:
    async with open_stack("dashboard", database_url=database_url) as stack:
        progress(f"dashboard: {size} recommendations, {audit_rows} audit rows")
        started = time.perf_counter()
        await asyncio.to_thread(populate, stack.engine, size)
        await asyncio.to_thread(generate, stack.engine, audit_rows, BareClock())
        generate_seconds = time.perf_counter() - started
        years = stack.settings.recommendations.policy.long_outstanding_years
        progress(f"dashboard: data ready in {generate_seconds:.0f} s; timing {len(VIEWS)} views")
        timed = await _time_views(stack, years)
        project = {v: _median_seconds(s) for v, s in timed["project"].items()}
        baseline = {v: _median_seconds(s) for v, s in timed["baseline"].items()}
        total_project, total_baseline = sum(project.values()), sum(baseline.values())
        figure = ratio(total_project, total_baseline)
        worst = max(project[v] / baseline[v] for v in project)
        return {
            "benchmark": "dashboard",
            "database": stack.database,
            "size": size,
            "audit_rows": audit_rows,
            "unit": "ms per view (median of 5)",
            "generate_seconds": round(generate_seconds, 1),
            "project": {"views_ms": {v: _ms(s) for v, s in project.items()}}
            | {"all_views_ms": _ms(total_project)},
            "baseline": {"views_ms": {v: _ms(s) for v, s in baseline.items()}}
            | {"all_views_ms": _ms(total_baseline)},
            "figures_match": all(timed["matches"].values()),
            "mismatched_views": [v for v, same in timed["matches"].items() if not same],
            "ratio": figure,
            "worst_view_ratio": round(worst, 3) if math.isfinite(worst) else worst,
            "target": f"ratio <= {TARGET_RATIO}",
            "target_met": figure <= TARGET_RATIO and all(timed["matches"].values()),
            "machine": machine(),
        }


def main(*, size: int, audit_rows: int, database_url: str | None) -> None:
    emit(asyncio.run(run(size=size, audit_rows=audit_rows, database_url=database_url)))
