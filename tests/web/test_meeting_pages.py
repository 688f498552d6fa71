"""Meeting pages in Chromium and over HTTP: the secretariat prepares a meeting, records its
decisions and minutes; the server refuses what a page does not offer.

Meeting numbers are drawn at random: the Temporal dev server (so the workflow id
`meeting-<n>`) is shared by every test of the run.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from domain.issues import ApproveEscalation, RaiseIssue, RequestEscalation
from domain.meetings import AddItem, ItemKind, MarkHeld, ScheduleMeeting, SendAgenda
from iscflow.issue_commands import IssueCommands
from iscflow.meeting_commands import MeetingCommands
from iscflow.settings import Settings
from storage import directory, meetings, repository
from storage.db import session_scope
from tests.support.people import People
from tests.web.conftest import screenshot, serious_violations, sign_in
from tests.web.journey import csrf_of, press, signed_in, tab_to, type_into
from web.i18n import TIMEZONE


def _number() -> int:
    return 1000 + uuid.uuid4().int % 1_000_000


async def _escalated_issue(commands: IssueCommands, people: People, title: str) -> str:
    """An accessibility issue escalated to the task force by its focal point and the chair."""
    issue_id = str(uuid.uuid4())
    raised = RaiseIssue(
        issue_id=issue_id, title=title, description="The focal points could not agree.",
        theme="accessibility", sector="ITU-T",
    )  # fmt: skip
    await commands.raise_issue(people.fp_access.actor, raised)
    await commands.send(issue_id, people.fp_access.actor, RequestEscalation(reason="No budget."))
    issue = await commands.send(issue_id, people.chair.actor, ApproveEscalation(note="For TF."))
    assert issue.state.value == "escalated"
    return issue_id


def _local(moment: datetime) -> str:
    """A `datetime-local` value in Geneva time."""
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")


async def _no_serious_violations(page: Page) -> None:
    found = await serious_violations(page)
    assert found == [], found


async def test_the_secretariat_prepares_a_meeting_and_records_its_decisions_by_keyboard(
    page: Page, web_people: People, commands: IssueCommands, engine: Engine
) -> None:
    issue_id = await _escalated_issue(commands, web_people, "Captioning budget for Council")
    number = _number()
    await sign_in(page, "secretariat@example.org", next_path="/meetings")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Task-force meetings")
    await _no_serious_violations(page)
    await screenshot(page, "meetings.en")

    # Scheduling (a date-and-time field is filled directly: its segments are per locale).
    await page.get_by_label("Number").fill(str(number))
    await page.get_by_label("Date and time (Geneva)").fill(
        _local(datetime.now(UTC) + timedelta(days=30))
    )
    await page.get_by_label("Place", exact=True).fill("Geneva, Tower room")
    await page.get_by_role("button", name="Schedule the meeting").click()
    await expect(page).to_have_url(re.compile(rf"/meetings/{number}$"))
    await expect(page.get_by_role("status")).to_have_text(f"Meeting {number} is scheduled.")
    agenda = page.locator("#agenda tbody")
    # The escalated issue is on the agenda from the start.
    await expect(agenda.locator("tr").first).to_contain_text("Captioning budget for Council")
    await _no_serious_violations(page)
    await screenshot(page, "meeting-scheduled.en")

    # From here on, only the keyboard: Tab, typing and Enter.
    await type_into(page, page.get_by_label("Subject", exact=True), "Accessibility week plans")
    await press(page, page.get_by_role("button", name="Add the theme update"))
    await expect(page.get_by_role("status")).to_have_text("The item is on the agenda.")
    await expect(agenda.locator("tr").nth(1)).to_contain_text("Accessibility week plans")
    await press(
        page, page.get_by_role("button", name=re.compile("^Move up.*Accessibility week plans"))
    )
    await expect(agenda.locator("tr").first).to_contain_text("Accessibility week plans")
    await press(page, page.get_by_role("button", name="Send the agenda now"))
    await expect(page.locator("#meeting-state")).to_have_text("Agenda sent")
    # The agenda is out: it can no longer change, and the page no longer offers it.
    await expect(page.get_by_role("button", name=re.compile("^Move (up|down)"))).to_have_count(0)
    await press(page, page.get_by_role("button", name="Record that the meeting was held"))
    await expect(page.locator("#meeting-state")).to_have_text("Held")
    await _no_serious_violations(page)
    await screenshot(page, "meeting-held.en")

    issue_form = page.locator("section.decision", has_text="Captioning budget for Council")
    await tab_to(page, issue_form.get_by_label("Decision", exact=True))  # "Resolved" is first
    await type_into(page, issue_form.get_by_label("Decision text"), "Fund captioning in 2026.")
    await press(page, issue_form.get_by_role("button", name=re.compile("^Record the decision")))
    await expect(page.get_by_role("status")).to_have_text(
        "The decision is recorded and delivered to the issue."
    )
    theme_form = page.locator("section.decision", has_text="Accessibility week plans")
    await type_into(page, theme_form.get_by_label("Decision text"), "Noted.")
    await press(page, theme_form.get_by_role("button", name=re.compile("^Record the decision")))
    await expect(page.get_by_text("Every item has its decision.")).to_be_visible()
    await press(page, page.get_by_role("button", name="Record the minutes"))
    await expect(page.locator("#meeting-state")).to_have_text("Minutes recorded")
    await expect(agenda).to_contain_text("Fund captioning in 2026.")

    with Session(engine) as session:
        issue = repository.get_issue(session=session, issue_id=issue_id)
        assert issue is not None
        assert (issue.state, issue.decision_outcome, issue.decision) == (
            "decided", "resolved", "Fund captioning in 2026.",
        )  # fmt: skip
        trail = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        decided = [a for a in trail if a.to_state == "decided"]
        assert [(a.actor_id, a.from_state) for a in decided] == [("secretariat", "escalated")]
        assert decided[0].payload["reference"].startswith(f"meeting-{number}/")
        row = meetings.get_meeting(session=session, number=number)
        assert row is not None and row.state == "minutes_recorded"

    # The same pages in Arabic, right to left.
    await page.get_by_label("Language", exact=True).select_option("ar")
    await page.get_by_role("button", name="Change").click()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("#meeting-state")).to_have_text("سُجّل المحضر")
    await _no_serious_violations(page)
    await screenshot(page, "meeting-minutes.ar")
    await page.goto("/meetings")
    await expect(page.get_by_role("heading", level=1)).to_have_text("اجتماعات فرقة العمل")
    await _no_serious_violations(page)
    await screenshot(page, "meetings.ar")


@pytest.fixture
def meeting_commands(client: Client, settings: Settings) -> MeetingCommands:
    return MeetingCommands.from_settings(client, settings)


async def _scheduled(meeting_commands: MeetingCommands, people: People, *, to: str = "") -> int:
    """A meeting with a theme update on its agenda, advanced to `to` if given."""
    number = _number()
    secretariat = people.secretariat.actor
    await meeting_commands.schedule(
        secretariat,
        ScheduleMeeting(
            number=number, title=f"ISC-TF meeting {number}",
            starts_at=datetime.now(UTC) + timedelta(days=40), place="Geneva",
        ),
    )  # fmt: skip
    theme = AddItem(item_kind=ItemKind.THEME_UPDATE, title="Gender update", theme="gender")
    await meeting_commands.send(number, secretariat, theme)
    if to == "held":
        await meeting_commands.send(number, secretariat, SendAgenda())
        await meeting_commands.send(number, secretariat, MarkHeld())
    return number


async def test_the_server_refuses_what_the_meeting_page_does_not_offer(
    base_url: str, web_people: People, meeting_commands: MeetingCommands, engine: Engine
) -> None:
    number = await _scheduled(meeting_commands, web_people)
    path = f"/meetings/{number}"
    async with (
        signed_in(base_url, "fp_access@example.org") as fp,
        signed_in(base_url, "secretariat@example.org") as secretariat,
    ):
        offered = (await fp.get(path)).text
        assert f'action="{path}/send-agenda"' not in offered
        assert f'action="{path}/agenda"' not in offered
        assert f'action="{path}/send-agenda"' in (await secretariat.get(path)).text

        token = await csrf_of(fp, path)
        wrong_role = await fp.post(f"{path}/send-agenda", data={"csrf_token": token})
        assert wrong_role.status_code == 403
        assert "Your role, or your ownership of this record, does not allow this step." in (
            wrong_role.text
        )

        token = await csrf_of(secretariat, path)
        too_early = await secretariat.post(f"{path}/held", data={"csrf_token": token})
        assert too_early.status_code == 409
        assert "This step is not possible in the current state: Scheduled." in too_early.text

        no_subject = await secretariat.post(
            f"{path}/agenda",
            data={"csrf_token": token, "kind": "theme_update", "theme": "gender", "title": " "},
        )
        assert no_subject.status_code == 422
        assert re.search(
            r'id="add-theme-title"[^>]*aria-invalid="true"'
            r' aria-describedby="add-theme-title-error"',
            no_subject.text,
        )
        assert 'id="add-theme-title-error"' in no_subject.text

        in_the_past = await secretariat.post(
            "/meetings",
            data={"csrf_token": token, "number": str(_number()),
                  "starts_at": _local(datetime.now(UTC) - timedelta(days=1))},
        )  # fmt: skip
        assert in_the_past.status_code == 422
        assert re.search(r'id="schedule-starts_at"[^>]*aria-invalid="true"', in_the_past.text)

        forged = await secretariat.post(f"{path}/send-agenda", data={"csrf_token": "forged"})
        assert forged.status_code == 403
        assert "This form has expired" in forged.text
        missing = await secretariat.post(f"{path}/send-agenda", data={})
        assert missing.status_code == 403

    with Session(engine) as session:
        row = meetings.get_meeting(session=session, number=number)
        assert row is not None and row.state == "scheduled"
        items = meetings.agenda(session=session, number=number)
        assert [i.title for i in items] == ["Gender update"]
        assert len(meetings.list_meetings(session=session)[0]) == 1


async def test_a_refused_decision_is_shown_in_arabic_next_to_its_field(
    page: Page, web_people: People, meeting_commands: MeetingCommands, engine: Engine
) -> None:
    number = await _scheduled(meeting_commands, web_people, to="held")
    with session_scope(engine) as session:
        directory.set_preferences(session=session, user_id="chair", language="ar")
    await sign_in(page, "chair@example.org", next_path=f"/meetings/{number}")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    form = page.locator("section.decision")
    # The chair records decisions too; a theme update is noted or deferred, nothing else.
    options = form.locator("select[name=outcome] option")
    await expect(options).to_have_count(2)
    await _no_serious_violations(page)
    await screenshot(page, "meeting-decisions.ar")

    await form.get_by_role("button").click()  # no decision text
    text = form.locator("textarea[name=text]")
    await expect(text).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{await text.get_attribute('aria-describedby')}")
    await expect(error).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("text")
    await _no_serious_violations(page)
    await screenshot(page, "meeting-refused.ar")
    with Session(engine) as session:
        items = meetings.agenda(session=session, number=number)
        assert [i.outcome for i in items] == [None]
