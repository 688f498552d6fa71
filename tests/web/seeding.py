"""Data for the dashboard and reference pages, recorded through the HTTP API as users would,
and an HTTP client signed in through the web form (for refusals checked without a browser)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx

from tests.support.people import People
from tests.web.conftest import PASSWORD

TODAY = date.today()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def recommendation(source: str, number: int, tag: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": source,
        "symbol": f"{source.upper()}/{tag}",
        "number": number,
        "issued_on": (TODAY - timedelta(days=400 * number)).isoformat(),
        "title": f"Recommendation {number}",
        "text": "Text.",
        "owner": "fp_access",
        "theme": "accessibility",
    }
    values.update(changes)
    return values


async def record_recommendations(base_url: str, people: People) -> None:
    """Five recommendations: JIU's in every acceptance state, one of IMAC in progress.

    JIU 1 (implemented) and 2 (accepted, overdue) are JIU's accepted ones: its rate is 50 %.
    Open on the day: JIU 1 and IMAC 1 (issued 400 days ago), JIU 2 (800), JIU 4 (1,600).
    """
    past = (TODAY - timedelta(days=10)).isoformat()
    tag = uuid.uuid4().hex[:8]
    bodies = (
        recommendation("jiu", 1, tag, acceptance="accepted", implementation="implemented"),
        recommendation("jiu", 2, tag, acceptance="accepted", target_date=past),
        recommendation("jiu", 3, tag, acceptance="not_accepted", justification="Out of mandate."),
        recommendation("jiu", 4, tag),
        recommendation("imac", 1, tag, acceptance="partially_accepted",
                       implementation="in_progress", progress=20),
    )  # fmt: skip
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
        for body in bodies:
            response = await api.post(
                "/api/v1/recommendations", json=body, headers=bearer(people.secretariat.token)
            )
            assert response.status_code == 201, response.text


async def raise_issues(base_url: str, people: People, count: int = 2) -> list[str]:
    """`count` key issues in accessibility, raised by its focal point; their ids."""
    ids = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
        for n in range(count):
            response = await api.post(
                "/api/v1/issues",
                json={"title": f"Captioning of meetings {n}", "description": "Needed.",
                      "theme": "accessibility"},
                headers=bearer(people.fp_access.token),
            )  # fmt: skip
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return ids


@asynccontextmanager
async def signed_in_client(base_url: str, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a web session, signed in through the sign-in form."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        form = await http.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        signed = await http.post(
            "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert signed.status_code == 303, signed.text
        yield http
