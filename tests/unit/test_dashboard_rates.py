"""The dashboard's rates, computed as the JIU computes them, on a table made by hand."""

from __future__ import annotations

from datetime import date

import pytest

from domain.compliance import (
    acceptance_rate,
    figures,
    implementation_rate,
    is_overdue,
    long_outstanding_cutoff,
    median_age_days,
    open_count,
    verified_rate,
)
from domain.recommendation_terms import Acceptance as A
from domain.recommendation_terms import Implementation as I

# Ten recommendations of one body, by hand:
TABLE = {
    (A.UNDER_CONSIDERATION, I.NOT_STARTED): 2,
    (A.ACCEPTED, I.VERIFIED): 2,
    (A.ACCEPTED, I.IMPLEMENTED): 1,
    (A.ACCEPTED, I.IN_PROGRESS): 1,
    (A.PARTIALLY_ACCEPTED, I.NOT_STARTED): 1,
    (A.PARTIALLY_ACCEPTED, I.NOT_IMPLEMENTED): 1,
    (A.NOT_ACCEPTED, I.NOT_STARTED): 1,
    (A.NOT_RELEVANT, I.NOT_STARTED): 1,
}


def test_acceptance_rate_counts_decided_recommendations_only() -> None:
    # accepted 4 + partially accepted 2, over 10 - 2 under consideration
    assert acceptance_rate(TABLE) == pytest.approx(6 / 8)


def test_implementation_rate_counts_claimed_and_verified_over_accepted() -> None:
    # implemented 1 + verified 2, over accepted 4 + partially accepted 2; the closure stays
    # in the denominator
    assert implementation_rate(TABLE) == pytest.approx(3 / 6)


def test_verified_rate_counts_only_what_the_body_confirmed() -> None:
    assert verified_rate(TABLE) == pytest.approx(2 / 6)


def test_open_means_undecided_or_accepted_and_not_yet_verified_or_closed() -> None:
    assert open_count(TABLE) == 2 + 1 + 1 + 1


def test_rates_without_a_denominator_are_unknown_not_zero() -> None:
    undecided = {(A.UNDER_CONSIDERATION, I.NOT_STARTED): 3}
    assert acceptance_rate(undecided) is None
    assert implementation_rate(undecided) is None
    assert acceptance_rate({}) is None


def test_a_group_row_adds_up() -> None:
    row = figures(
        "jiu",
        TABLE,
        overdue=1,
        long_outstanding=2,
        open_issued=[date(2020, 1, 1), date(2021, 1, 1), date(2024, 12, 31)],
        residual_scores=[12, 4],
        as_of=date(2025, 1, 1),
    )

    assert row.total == 10
    assert row.acceptance[A.ACCEPTED] == 4 and row.acceptance[A.PARTIALLY_ACCEPTED] == 2
    assert row.implementation[I.NOT_STARTED] == 5
    assert sum(row.implementation.values()) == sum(row.acceptance.values()) == 10
    assert row.median_age_days == 366 + 365 + 365 + 365  # 1 Jan 2021 to 1 Jan 2025
    assert row.residual_exposure == 16


def test_median_age_of_an_even_number_is_the_mean_of_the_middle_two() -> None:
    assert median_age_days([date(2025, 1, 1), date(2024, 12, 22)], date(2025, 1, 11)) == 15.0
    assert median_age_days([], date(2025, 1, 1)) is None


def test_overdue_is_accepted_not_implemented_and_past_its_target() -> None:
    day = date(2025, 3, 1)
    assert is_overdue(A.ACCEPTED, I.IN_PROGRESS, date(2025, 2, 28), day)
    assert not is_overdue(A.ACCEPTED, I.IN_PROGRESS, date(2025, 3, 1), day)
    assert not is_overdue(A.ACCEPTED, I.IMPLEMENTED, date(2025, 2, 28), day)
    assert not is_overdue(A.UNDER_CONSIDERATION, I.NOT_STARTED, date(2025, 2, 28), day)
    assert not is_overdue(A.ACCEPTED, I.NOT_STARTED, None, day)


def test_long_outstanding_cutoff_is_n_years_back() -> None:
    assert long_outstanding_cutoff(date(2025, 3, 1), 5) == date(2020, 3, 1)
    assert long_outstanding_cutoff(date(2024, 2, 29), 1) == date(2023, 2, 28)
