"""Numbers typed into the web pages: a Unicode digit that is no decimal is refused, not a 500.

`"¹".isdigit()` is true but `int("¹")` raises: checked with `isdigit`, a superscript one in a
form field or a query parameter once reached `int` and answered 500. Digits of other scripts
that `int` reads (Arabic-Indic ones) remain numbers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from iscflow.directory import set_password
from iscflow.settings import Settings
from tests.support.people import People

PASSWORD = "a long enough password"
SUPERSCRIPT_ONE = "\u00b9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def secretariat(
    settings: Settings, engine: Engine, client: Client, people: People, worker: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The web pages of the embedded stack (which shows the outbox), signed in."""
    set_password(engine, user="secretariat", password=PASSWORD)
    app = create_app(settings.model_copy(update={"embedded": True}), engine=engine, client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://iscflow.test") as web:
            form = await web.get("/sign-in")
            token = CSRF.search(form.text)
            assert token is not None
            signed = await web.post(
                "/sign-in",
                data={"email": "secretariat@example.org", "password": PASSWORD,
                      "csrf_token": token[1]},
            )  # fmt: skip
            assert signed.status_code in {200, 303}, signed.text[:300]
            yield web


async def test_a_superscript_meeting_number_is_refused_with_422(
    secretariat: httpx.AsyncClient,
) -> None:
    page = await secretariat.get("/meetings")
    token = CSRF.search(page.text)
    assert token is not None

    response = await secretariat.post(
        "/meetings",
        data={"number": SUPERSCRIPT_ONE, "starts_at": "2031-03-03T09:00", "csrf_token": token[1]},
    )

    assert response.status_code == 422, response.text[:300]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/outbox?page={SUPERSCRIPT_ONE}", 200),  # the first page
        (f"/outbox/{SUPERSCRIPT_ONE}", 404),
        (f"/issues?page={SUPERSCRIPT_ONE}", 422),  # "this page does not exist"
        (f"/recommendations?page={SUPERSCRIPT_ONE}", 422),
        ("/issues?page=\u0661", 200),  # Arabic-Indic one: a page number
    ],
)
async def test_a_superscript_digit_in_a_page_address_is_not_a_server_error(
    secretariat: httpx.AsyncClient, path: str, expected: int
) -> None:
    response = await secretariat.get(path)
    assert response.status_code == expected, response.text[:300]
