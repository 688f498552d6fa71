"""Helpers for page journeys: moving by keyboard alone, and HTTP clients signed in by form."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
from playwright.async_api import Locator, Page

from tests.web.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def tab_to(page: Page, target: Locator, *, limit: int = 400) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("node => node === document.activeElement"):
            return
    raise AssertionError(f"{target} is not reachable with Tab")


async def type_into(page: Page, target: Locator, text: str) -> None:
    await tab_to(page, target)
    await page.keyboard.type(text)


async def press(page: Page, target: Locator) -> None:
    """Reach a button with Tab and press Enter; wait for the page it leads to."""
    await tab_to(page, target)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


@contextlib.asynccontextmanager
async def signed_in(base_url: str, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with a web session, signed in through the sign-in form."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        form = await http.get("/sign-in")
        token = CSRF.search(form.text)
        assert token is not None
        signed = await http.post(
            "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert signed.status_code == 303, signed.text
        yield http


async def csrf_of(http: httpx.AsyncClient, path: str) -> str:
    """The session's CSRF token, as the page at `path` carries it in its forms."""
    page = await http.get(path)
    assert page.status_code == 200, page.text
    token = CSRF.search(page.text)
    assert token is not None
    return token[1]
