"""Inputs at the edge of what the API computes with are refused, never a server error."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import auth
from tests.support.people import People


@pytest.mark.parametrize("path", ["/api/v1/issues", "/api/v1/meetings", "/api/v1/outbox"])
async def test_an_enormous_offset_answers_422_naming_it(
    api: httpx.AsyncClient, people: People, path: str
) -> None:
    r = await api.get(path, params={"offset": 10**20}, headers=auth(people.secretariat.token))
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["offset"]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [("0001-01-01", "2026-01-01", "from"), ("2026-01-01", "9999-12-31", "to")],
)
async def test_a_report_outside_the_supported_years_answers_422(
    api: httpx.AsyncClient, people: People, start: str, end: str, field: str
) -> None:
    r = await api.get(
        "/api/v1/reports/council",
        params={"from": start, "to": end},
        headers=auth(people.secretariat.token),
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field


async def test_a_report_answers_200_with_markdown(api: httpx.AsyncClient, people: People) -> None:
    r = await api.get(
        "/api/v1/reports/council",
        params={"from": "2026-01-01", "to": "2026-12-31", "format": "md", "lang": "fr"},
        headers=auth(people.chair.token),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    assert "## 1. Introduction" in r.text


async def test_a_focal_point_may_not_produce_the_report(
    api: httpx.AsyncClient, people: People
) -> None:
    r = await api.get(
        "/api/v1/reports/council",
        params={"from": "2026-01-01", "to": "2026-12-31"},
        headers=auth(people.fp_access.token),
    )
    assert r.status_code == 403
