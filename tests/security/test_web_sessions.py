"""Web sessions and secrets: cookie flags, expiry, password changes, weak secrets refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.app import create_app
from iscflow.directory import DirectoryError, set_password
from iscflow.settings import Settings
from storage.db import session_scope
from storage.models import UserRow, WebSessionRow
from tests.support.people import People, add_people

PASSWORD = "a long enough password"


@pytest.fixture
def people(engine: Engine) -> People:
    cast = add_people(engine)
    set_password(engine, user="chair", password=PASSWORD)
    return cast


async def _web(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine, client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        base = settings.public_url or "http://iscflow.test"
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            yield http


@pytest.fixture
async def web(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _web(settings, engine, client):
        yield http


async def _sign_in(http: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    form = await http.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return await http.post(
        "/sign-in",
        data={"email": "chair@example.org", "password": password, "csrf_token": token[1]},
    )


async def test_the_session_cookie_is_http_only_same_site_and_not_secure_over_plain_http(
    web: httpx.AsyncClient, people: People
) -> None:
    signed = await _sign_in(web)

    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("iscflow_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie


async def test_the_session_cookie_is_secure_when_the_site_is_served_over_https(
    settings: Settings, engine: Engine, client: Client, people: People
) -> None:
    tls = settings.model_copy(update={"public_url": "https://iscflow.example.org"})
    async for http in _web(tls, engine, client):
        signed = await _sign_in(http)
        assert "Secure" in signed.headers["set-cookie"]


async def test_passwords_are_stored_as_argon2_hashes(engine: Engine, people: People) -> None:
    with Session(engine) as session:
        chair = session.get(UserRow, "chair")
    assert chair is not None and chair.password_hash is not None
    assert chair.password_hash.startswith("$argon2id$")
    assert PASSWORD not in chair.password_hash


def test_short_passwords_and_unknown_users_are_refused(engine: Engine, people: People) -> None:
    with pytest.raises(DirectoryError, match="at least 10 characters"):
        set_password(engine, user="chair", password="short")
    with pytest.raises(DirectoryError, match="no user 'nobody'"):
        set_password(engine, user="nobody", password=PASSWORD)


async def test_an_expired_session_sends_the_user_back_to_sign_in(
    web: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    await _sign_in(web)
    assert (await web.get("/preferences")).status_code == 200

    with session_scope(engine) as session:
        for row in session.exec(select(WebSessionRow)).all():
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)

    expired = await web.get("/preferences")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/sign-in?next=%2Fpreferences"


async def test_a_new_password_ends_every_browser_session_of_the_user(
    web: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    await _sign_in(web)
    set_password(engine, user="chair@example.org", password="another long password")

    assert (await web.get("/preferences")).status_code == 303
    assert (await _sign_in(web)).status_code == 401  # the old password no longer works
    assert (await _sign_in(web, "another long password")).status_code == 303


async def test_sign_in_redirects_only_to_paths_of_this_site(
    web: httpx.AsyncClient, people: People
) -> None:
    form = await web.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = await web.post(
        "/sign-in",
        data={
            "email": "chair@example.org",
            "password": PASSWORD,
            "csrf_token": token[1],
            "next": "//evil.example/steal",
        },
    )
    assert (signed.status_code, signed.headers["location"]) == (303, "/")


@pytest.mark.parametrize("weak", ["changeme", "secret", "x" * 31])
def test_weak_secret_keys_are_refused(weak: str) -> None:
    with pytest.raises(ValidationError, match="at least 32 random characters"):
        Settings(secret_key=weak)  # type: ignore[arg-type]
