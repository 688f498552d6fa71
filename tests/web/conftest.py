"""Web fixtures: the real app served by uvicorn, a real worker, Debian's Chromium.

The server, the worker and the Playwright driver share the test's event loop, so the page
handlers use the same Temporal client as the worker, and a test can await both.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from iscflow.directory import set_password
from iscflow.settings import Settings
from tests.support.people import People

PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SERIOUS = {"serious", "critical"}


def chromium_path() -> str:
    """Debian's Chromium (`.ci/run` installs it); PLAYWRIGHT_CHROMIUM overrides."""
    for candidate in (os.environ.get("PLAYWRIGHT_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Chromium is not installed: apt-get install chromium")
    return found


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    """Web tests run on SQLite; storage and workflow tests cover both engines."""
    yield sqlite_engine


@pytest.fixture
def web_people(people: People, engine: Engine) -> People:
    """The cast, each with a password for the sign-in page."""
    for user in people.all().values():
        set_password(engine, user=user.actor.id, password=PASSWORD)
    return people


@pytest.fixture
async def base_url(
    settings: Settings, engine: Engine, client: Client, worker: None
) -> AsyncIterator[str]:
    app = create_app(settings, engine=engine, client=client)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    # Per test: Playwright objects belong to the event loop that made them, and every test
    # has its own loop (shared with its worker and server).
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser, base_url: str) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def sign_in(page: Page, email: str, password: str = PASSWORD, next_path: str = "/") -> None:
    await page.goto(f"/sign-in?next={next_path}")
    await page.get_by_label(re.compile("e-mail", re.I)).fill(email)
    await page.get_by_label(re.compile("password", re.I)).fill(password)
    await page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    await page.wait_for_load_state()


@dataclass(frozen=True)
class AxeFinding:
    rule: str
    impact: str
    targets: list[str]


async def serious_violations(page: Page) -> list[AxeFinding]:
    """axe-core's serious and critical findings on the page as it is now."""
    results = await Axe().run(page)
    return [
        AxeFinding(v["id"], v["impact"], [str(n["target"]) for n in v["nodes"]])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


async def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot under tests/artifacts/ (ignored by git) for reviewers."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
