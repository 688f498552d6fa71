"""The compliance dashboard's figures, computed the way the JIU computes them (pure).

The storage layer counts recommendations per group and per pair of states in SQL; these
functions turn counts into rates. See docs/recommendations.md for the formulas.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.recommendation_policy import years_after
from domain.recommendation_terms import (
    ACCEPTING,
    DONE,
    OPEN_ACCEPTANCE,
    OPEN_IMPLEMENTATION,
    UNDER_WAY,
    Acceptance,
    Implementation,
)

StatePairs = Mapping[tuple[Acceptance, Implementation], int]


class GroupBy(StrEnum):
    """The dimensions the dashboard breaks figures down by."""

    SOURCE = "source"
    YEAR = "year"  # of the report
    THEME = "theme"
    PRIORITY = "priority"
    OWNER = "owner"
    ALL = "all"


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def acceptance_rate(pairs: StatePairs) -> float | None:
    """(accepted + partially accepted) / recommendations with a decision on acceptance."""
    decided = sum(n for (a, _), n in pairs.items() if a is not Acceptance.UNDER_CONSIDERATION)
    accepted = sum(n for (a, _), n in pairs.items() if a in ACCEPTING)
    return _share(accepted, decided)


def implementation_rate(pairs: StatePairs) -> float | None:
    """(implemented + verified) / (accepted + partially accepted)."""
    accepted = sum(n for (a, _), n in pairs.items() if a in ACCEPTING)
    done = sum(n for (a, i), n in pairs.items() if a in ACCEPTING and i in DONE)
    return _share(done, accepted)


def verified_rate(pairs: StatePairs) -> float | None:
    """verified / (accepted + partially accepted): implementation the body has confirmed."""
    accepted = sum(n for (a, _), n in pairs.items() if a in ACCEPTING)
    verified = sum(
        n for (a, i), n in pairs.items() if a in ACCEPTING and i is Implementation.VERIFIED
    )
    return _share(verified, accepted)


def open_count(pairs: StatePairs) -> int:
    return sum(
        n for (a, i), n in pairs.items() if a in OPEN_ACCEPTANCE and i in OPEN_IMPLEMENTATION
    )


def is_overdue(
    acceptance: Acceptance, implementation: Implementation, target: date | None, as_of: date
) -> bool:
    """Accepted, not yet implemented, and its target date is before `as_of`."""
    return (
        acceptance in ACCEPTING
        and implementation in UNDER_WAY
        and target is not None
        and target < as_of
    )


def long_outstanding_cutoff(as_of: date, years: int) -> date:
    """Open recommendations issued on or before this day are long-outstanding on `as_of`."""
    return years_after(as_of, -years)


def median_age_days(issued: Iterable[date], as_of: date) -> float | None:
    """The median number of days since issue, or None when there is nothing to measure."""
    ages = [(as_of - day).days for day in issued]
    return float(statistics.median(ages)) if ages else None


class GroupFigures(BaseModel):
    """One row of the dashboard: the recommendations sharing one value of the grouping."""

    model_config = ConfigDict(frozen=True)

    group: str
    total: int
    open: int
    acceptance: dict[Acceptance, int]
    implementation: dict[Implementation, int]
    acceptance_rate: float | None
    implementation_rate: float | None
    verified_rate: float | None
    overdue: int
    long_outstanding: int
    median_age_days: float | None
    residual_exposure: int


def figures(
    group: str,
    pairs: StatePairs,
    *,
    overdue: int,
    long_outstanding: int,
    open_issued: Iterable[date],
    residual_scores: Iterable[int],
    as_of: date,
) -> GroupFigures:
    """Assemble a group's row from its counts, the issue dates of its open recommendations,
    and the residual scores of the distinct risks those open recommendations mitigate."""
    return GroupFigures(
        group=group,
        total=sum(pairs.values()),
        open=open_count(pairs),
        acceptance={a: sum(n for (x, _), n in pairs.items() if x is a) for a in Acceptance},
        implementation={i: sum(n for (_, y), n in pairs.items() if y is i) for i in Implementation},
        acceptance_rate=acceptance_rate(pairs),
        implementation_rate=implementation_rate(pairs),
        verified_rate=verified_rate(pairs),
        overdue=overdue,
        long_outstanding=long_outstanding,
        median_age_days=median_age_days(open_issued, as_of),
        residual_exposure=sum(residual_scores),
    )
