"""The mail outbox of an embedded server: the list, one message, and who may read them."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session

from iscflow.settings import Settings
from storage import outbox
from tests.support.people import People
from tests.web.conftest import screenshot, serious_violations, sign_in
from tests.web.seeding import raise_issues, signed_in_client


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As `iscflow up` runs it: the web interface shows the local mail sink's outbox."""
    return settings.model_copy(update={"embedded": True})


async def written_mail(engine: Engine, at_least: int) -> int:
    """Wait (polling, bounded) until the outbox holds `at_least` messages; the count."""
    for _ in range(600):
        with Session(engine) as session:
            _rows, total = outbox.list_outbox(session=session, limit=1)
        if total >= at_least:
            return total
        await asyncio.sleep(0.05)
    raise AssertionError(f"the outbox never reached {at_least} messages")


async def test_the_secretariat_reads_the_outbox_and_one_message(
    page: Page, base_url: str, web_people: People, engine: Engine
) -> None:
    await raise_issues(base_url, web_people, count=1)
    total = await written_mail(engine, 1)
    await sign_in(page, "secretariat@example.org", next_path="/outbox")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Mail outbox")
    table = page.get_by_role("table", name=re.compile(r"^\d+ messages?$"))
    await expect(table.get_by_role("row")).to_have_count(total + 1)
    assert await serious_violations(page) == []
    await screenshot(page, "outbox.en")

    link = table.get_by_role("rowheader").first.get_by_role("link")
    subject = (await link.inner_text()).strip()
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    await expect(page.locator("dl.facts")).to_contain_text("@example.org")
    await expect(page.locator("pre.mail-text")).to_contain_text("Captioning of meetings 0")
    assert await serious_violations(page) == []
    await screenshot(page, "outbox-message.en")

    await page.get_by_label("Language").select_option("ru")
    await page.get_by_role("button", name="Change").click()
    await expect(page.get_by_role("link", name="Назад к исходящим письмам")).to_be_visible()
    await screenshot(page, "outbox-message.ru")
    await page.get_by_role("link", name="Назад к исходящим письмам").click()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert await serious_violations(page) == []
    await screenshot(page, "outbox.ru")


async def test_the_outbox_filters_by_status(
    page: Page, base_url: str, web_people: People, engine: Engine
) -> None:
    await raise_issues(base_url, web_people, count=1)
    await written_mail(engine, 1)
    await sign_in(page, "admin@example.org", next_path="/outbox?status=digested")

    await expect(page.get_by_text("No message in the outbox matches this status.")).to_be_visible()
    await expect(page.get_by_label("Status")).to_have_value("digested")


async def test_only_the_secretariat_and_administrators_read_the_outbox(
    base_url: str, web_people: People, engine: Engine
) -> None:
    await raise_issues(base_url, web_people, count=1)
    await written_mail(engine, 1)
    with Session(engine) as session:
        rows, _total = outbox.list_outbox(session=session, limit=1)
    first = rows[0].id
    async with signed_in_client(base_url, "chair@example.org") as http:
        listing = await http.get("/outbox")
        message = await http.get(f"/outbox/{first}")
    async with signed_in_client(base_url, "admin@example.org") as http:
        allowed = await http.get(f"/outbox/{first}")
        unknown = await http.get("/outbox/999999")
        not_a_number = await http.get("/outbox/first")

    assert (listing.status_code, message.status_code) == (403, 403)
    assert allowed.status_code == 200
    assert (unknown.status_code, not_a_number.status_code) == (404, 404)
