"""The secretariat moves a meeting from its page; a date in the past is refused on its field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from iscflow.meeting_commands import MeetingCommands
from iscflow.settings import Settings
from storage import meetings
from tests.support.people import People
from tests.web.conftest import serious_violations, sign_in
from tests.web.test_meeting_pages import _local, _scheduled


@pytest.fixture
def meeting_commands(client: Client, settings: Settings) -> MeetingCommands:
    return MeetingCommands.from_settings(client, settings)


async def test_the_secretariat_moves_a_meeting_and_a_past_date_is_refused(
    page: Page, web_people: People, meeting_commands: MeetingCommands, engine: Engine
) -> None:
    number = await _scheduled(meeting_commands, web_people)
    await sign_in(page, "secretariat@example.org", next_path=f"/meetings/{number}")
    when = page.get_by_label("Date and time (Geneva)")

    await when.fill(_local(datetime.now(UTC) - timedelta(days=2)))
    await page.get_by_role("button", name="Move the meeting").click()
    await expect(when).to_have_attribute("aria-invalid", "true")
    assert await serious_violations(page) == []

    later = (datetime.now(UTC) + timedelta(days=60)).replace(second=0, microsecond=0)
    await when.fill(_local(later))
    await page.get_by_label("Place", exact=True).fill("Geneva, Popov room")
    await page.get_by_role("button", name="Move the meeting").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile("The meeting is moved"))
    with Session(engine) as session:
        row = meetings.get_meeting(session=session, number=number)
    assert row is not None
    assert (row.starts_at, row.place) == (later, "Geneva, Popov room")


async def test_a_focal_point_is_not_offered_the_move_and_the_server_refuses_it(
    page: Page, web_people: People, meeting_commands: MeetingCommands, engine: Engine
) -> None:
    number = await _scheduled(meeting_commands, web_people)
    await sign_in(page, "fp_access@example.org", next_path=f"/meetings/{number}")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert await page.get_by_role("button", name="Move the meeting").count() == 0

    csrf = await page.locator('input[name="csrf_token"]').first.get_attribute("value")
    answer = await page.request.post(
        f"/meetings/{number}/reschedule",
        form={"csrf_token": csrf or "", "starts_at": "2030-01-01T10:00"},
    )
    assert answer.status == 403
    with Session(engine) as session:
        row = meetings.get_meeting(session=session, number=number)
    assert row is not None and row.starts_at.year != 2030
