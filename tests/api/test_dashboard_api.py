"""The compliance dashboard over HTTP, and its CSV and XLSX exports of the same view."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.api.conftest import auth
from tests.support.people import People

TODAY = date.today()


def rec(source: str, number: int, tag: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": source,
        "symbol": f"{source.upper()}/{tag}",  # business keys are unique on the test server
        "number": number,
        "issued_on": (TODAY - timedelta(days=100 * number)).isoformat(),
        "title": f"Recommendation {number}",
        "text": "Text.",
        "owner": "fp_access",
        "theme": "accessibility",
    }
    values.update(changes)
    return values


@pytest.fixture
async def recorded(api: httpx.AsyncClient, people: People) -> None:
    past = (TODAY - timedelta(days=10)).isoformat()
    tag = uuid.uuid4().hex[:8]
    for body in (
        rec("jiu", 1, tag, acceptance="accepted", implementation="implemented"),
        rec("jiu", 2, tag, acceptance="accepted", target_date=past),
        rec("jiu", 3, tag, acceptance="not_accepted", justification="Out of mandate."),
        rec("jiu", 4, tag),
        rec(
            "imac",
            1,
            tag,
            acceptance="partially_accepted",
            implementation="in_progress",
            progress=20,
        ),
    ):
        response = await api.post(
            "/api/v1/recommendations", json=body, headers=auth(people.secretariat.token)
        )
        assert response.status_code == 201, response.text


@pytest.mark.usefixtures("recorded")
async def test_the_view_by_source_counts_both_axes_and_computes_the_rates(
    api: httpx.AsyncClient, people: People
) -> None:
    response = await api.get("/api/v1/dashboard?by=source", headers=auth(people.fp_gender.token))

    view = response.json()
    assert (view["by"], view["as_of"], view["long_outstanding_years"]) == (
        "source",
        TODAY.isoformat(),
        5,
    )
    groups = {g["group"]: g for g in view["groups"]}
    jiu = groups["jiu"]
    assert (jiu["total"], jiu["open"], jiu["overdue"]) == (4, 3, 1)
    assert jiu["acceptance"]["accepted"] == 2 and jiu["acceptance"]["under_consideration"] == 1
    assert jiu["implementation"]["implemented"] == 1
    assert jiu["acceptance_rate"] == pytest.approx(2 / 3)  # 2 accepted of 3 decided
    assert jiu["implementation_rate"] == pytest.approx(1 / 2)  # 1 implemented of 2 accepted
    assert jiu["median_age_days"] == 200.0  # open: issued 100, 200 and 400 days ago
    assert groups["imac"]["acceptance_rate"] == 1.0
    assert view["total"]["total"] == 5


@pytest.mark.usefixtures("recorded")
async def test_a_filtered_view_says_how_it_was_filtered(
    api: httpx.AsyncClient, people: People
) -> None:
    response = await api.get(
        "/api/v1/dashboard?by=priority&source=imac", headers=auth(people.chair.token)
    )

    view = response.json()
    assert view["filters"] == {"source": "imac"}
    assert [(g["group"], g["total"]) for g in view["groups"]] == [("medium", 1)]


@pytest.mark.usefixtures("recorded")
async def test_exports_carry_the_same_figures_as_the_view(
    api: httpx.AsyncClient, people: People
) -> None:
    headers = auth(people.auditor.token)
    view = (await api.get("/api/v1/dashboard?by=source", headers=headers)).json()
    as_csv = await api.get("/api/v1/dashboard/export.csv?by=source", headers=headers)
    as_xlsx = await api.get("/api/v1/dashboard/export.xlsx?by=source", headers=headers)

    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [r["source"] for r in rows] == ["imac", "jiu", "all"]
    assert int(rows[1]["total"]) == view["groups"][1]["total"]
    assert float(rows[1]["acceptance_rate"]) == pytest.approx(view["groups"][1]["acceptance_rate"])
    assert int(rows[1]["implementation:implemented"]) == 1

    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0][:3] == ["source", "total", "open"]
    assert [row[0] for row in table[1:]] == ["imac", "jiu", "all"]
    assert table[2][1] == 4 and isinstance(table[2][1], int)


@pytest.mark.parametrize(("query", "field"), [("by=colour", "by"), ("as_of=0001-01-01", "as_of")])
async def test_an_unknown_grouping_or_day_is_refused(
    api: httpx.AsyncClient, people: People, query: str, field: str
) -> None:
    response = await api.get(f"/api/v1/dashboard?{query}", headers=auth(people.chair.token))

    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == field
