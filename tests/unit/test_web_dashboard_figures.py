"""The dashboard page's pure helpers: age bands of open recommendations, the filters it reads."""

from __future__ import annotations

from datetime import date

from domain.compliance import GroupBy
from web.routes.dashboard import age_bands, read_query

AS_OF = date(2025, 3, 3)


def test_ages_fall_in_whole_year_bands_up_to_long_outstanding() -> None:
    issued = [
        date(2025, 1, 1),  # 2 months
        date(2024, 3, 3),  # exactly 1 year
        date(2023, 3, 4),  # a day short of 2 years
        date(2020, 3, 3),  # exactly 5 years: long-outstanding
        date(2001, 1, 1),
    ]

    assert age_bands(issued, AS_OF, 5) == [(0, 1), (1, 2), (2, 0), (3, 0), (5, 2)]


def test_a_short_long_outstanding_period_drops_the_bands_beyond_it() -> None:
    assert age_bands([date(2023, 1, 1)], AS_OF, 2) == [(0, 0), (1, 0), (2, 1)]
    assert age_bands([], AS_OF, 1) == [(0, 0), (1, 0)]


def test_filters_left_blank_are_not_applied() -> None:
    query, errors = read_query({"by": "theme", "source": "", "year": " 2020 "})

    assert errors == {}
    assert (query.by, query.source, query.year) == (GroupBy.THEME, None, 2020)


def test_unreadable_filters_are_named_and_the_others_kept() -> None:
    query, errors = read_query({"by": "colour", "year": "last", "source": "jiu"})

    assert set(errors) == {"by", "year"}
    assert (query.by, query.year, query.source) == (GroupBy.SOURCE, None, "jiu")
