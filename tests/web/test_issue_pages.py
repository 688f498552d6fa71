"""The issues area in a real browser: waiting for me, the list, raising, the issue page, the
approval queue and the pages of e-mail links; and, over HTTP, that the server refuses what the
pages do not offer."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from domain.issues import (
    AddComment,
    ApproveEscalation,
    Issue,
    RaiseIssue,
    RequestEscalation,
    SetDeadline,
)
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from storage import directory, repository
from storage.db import session_scope
from storage.models import CommentRow
from tests.api.test_mail_and_links import action_path, preferences_path, wait_for_mail
from tests.support.people import People
from tests.web.conftest import PASSWORD, screenshot, serious_violations, sign_in

MAX_TABS = 60


# -- helpers ---------------------------------------------------------------------------------


async def raised(
    commands: IssueCommands, people: People, title: str, *, who: str = "fp_access"
) -> Issue:
    author = getattr(people, who)
    theme = next(iter(author.actor.themes))
    sector = {"fp_access": "ITU-T", "fp_access_d": "ITU-D", "fp_gender": "GS"}[who]
    command = RaiseIssue(
        issue_id=str(uuid.uuid4()),
        title=title,
        description=f"{title}: the facts.",
        theme=theme,
        sector=sector,
    )
    return await commands.raise_issue(author.actor, command)


async def escalation_requested(commands: IssueCommands, people: People, title: str) -> Issue:
    issue = await raised(commands, people, title)
    return await commands.send(
        issue.id, people.fp_access.actor, RequestEscalation(reason=f"No agreement on {title}.")
    )


def set_language(engine: Engine, user_id: str, language: str) -> None:
    with session_scope(engine) as session:
        directory.set_preferences(session=session, user_id=user_id, language=language)


async def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus (keyboard only, as a person would)."""
    handle = await target.element_handle()
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        if await page.evaluate("(el) => document.activeElement === el", handle):
            return
    pytest.fail(f"Tab never reached {target}")


async def keyboard_sign_in(page: Page, email: str) -> None:
    await tab_to(page, page.get_by_label("E-mail address"))
    await page.keyboard.type(email)
    await tab_to(page, page.get_by_label("Password"))
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")


async def clean(page: Page, name: str) -> None:
    """No serious or critical axe finding on the page; a screenshot for reviewers."""
    assert await serious_violations(page) == [], name
    await screenshot(page, name)


def version_and_comments(engine: Engine, issue_id: str) -> tuple[int, str, int]:
    with Session(engine) as session:
        row = repository.get_issue(session=session, issue_id=issue_id)
        assert row is not None
        count = len(session.exec(select(CommentRow).where(CommentRow.issue_id == issue_id)).all())
        return row.version, row.state, count


# == journeys in the browser ===================================================================


async def test_a_focal_point_raises_an_issue_and_comments_with_the_keyboard_only(
    page: Page, web_people: People, engine: Engine
) -> None:
    await page.goto("/")
    await keyboard_sign_in(page, "fp_access@example.org")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Waiting for me")

    await tab_to(page, page.get_by_role("link", name="Raise an issue"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Raise an issue")
    await expect(page.get_by_label("Theme")).to_have_value("accessibility")  # their only theme
    await tab_to(page, page.get_by_label("Title"))
    await page.keyboard.type("Captions for the webcasts")
    await tab_to(page, page.get_by_label("Description"))
    await page.keyboard.type("Council webcasts have no live captions.")
    await tab_to(page, page.get_by_role("button", name="Raise the issue"))
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Captions for the webcasts")
    await expect(page.get_by_role("status")).to_have_text(
        "The issue is raised; the theme's focal points are told."
    )
    await expect(page.locator("#issue-state")).to_have_text("Open")
    issue_id = page.url.rsplit("/", 1)[1]

    await tab_to(page, page.get_by_label("Your comment"))
    await page.keyboard.type("BDT can lend its captioning contract.")
    await tab_to(page, page.get_by_role("button", name="Add the comment"))
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("status")).to_have_text("Your comment is added.")
    comments = page.get_by_role("region", name="Comments")
    await expect(comments.get_by_text("BDT can lend its captioning contract.")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    await expect(timeline.get_by_role("listitem")).to_have_count(2)
    await expect(timeline.get_by_role("listitem").nth(1)).to_contain_text("Comment added")
    await expect(timeline.get_by_role("listitem").nth(1)).to_contain_text("Fp Access")
    with Session(engine) as session:
        stored = repository.list_comments(session=session, issue_id=issue_id)
    assert [(c.author_id, c.body) for c in stored] == [
        ("fp_access", "BDT can lend its captioning contract.")
    ]


async def test_the_chair_approves_from_the_queue_and_returns_through_the_mail_link(
    page: Page,
    browser: Browser,
    base_url: str,
    web_people: People,
    engine: Engine,
    commands: IssueCommands,
    mail_sink: MailSink,
) -> None:
    set_language(engine, "chair", "fr")  # the link page speaks the chair's language
    first = await escalation_requested(commands, web_people, "Shared interpretation budget")
    second = await escalation_requested(commands, web_people, "Website migration calendar")

    await sign_in(page, "chair@example.org", next_path="/approvals")
    await expect(page.get_by_role("heading", level=1)).to_have_text("File d'approbation")
    request = page.get_by_role("region", name="Shared interpretation budget")
    await request.get_by_label("Note (facultative)").fill("Pour la 40e réunion.")
    await request.get_by_role("button", name=re.compile("^Approuver l'escalade")).click()
    await expect(page.get_by_role("status")).to_contain_text("Shared interpretation budget")
    await expect(page.get_by_role("region", name="Shared interpretation budget")).to_have_count(0)
    await expect(page.get_by_role("region", name="Website migration calendar")).to_have_count(1)
    approved = await commands.current(first.id)
    assert approved is not None
    assert (approved.state.value, approved.level) == ("escalated", 1)

    message = await wait_for_mail(
        mail_sink, "chair@example.org", "escalation_requested", issue_id=second.id
    )
    link = await browser.new_context(base_url=base_url)
    outside = await link.new_page()  # no session: the link alone acts
    try:
        await outside.goto(action_path(message))
        await expect(outside.locator("html")).to_have_attribute("lang", "fr")
        await expect(outside.get_by_role("heading", level=1)).to_have_text(
            "Demande d'escalade : Website migration calendar"
        )
        await outside.get_by_label("Motif du renvoi (obligatoire)").fill("Voir d'abord avec BDT.")
        await outside.get_by_role("button", name="Renvoyer aux points focaux").click()
        await expect(outside.get_by_role("heading", level=1)).to_have_text("Fait")
        await expect(outside.get_by_text("État de la question : Ouverte.")).to_be_visible()
    finally:
        await link.close()
    returned = await commands.current(second.id)
    assert returned is not None
    assert returned.state.value == "open"
    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{second.id}")
    assert (audit[-1].action, audit[-1].actor_id, audit[-1].payload["reason"]) == (
        "EscalationReturned",
        "chair",
        "Voir d'abord avec BDT.",
    )

    # The returned issue now waits for its focal points on their home page.
    await page.goto("/")
    await page.get_by_role("button", name="Se déconnecter").click()
    await sign_in(page, "fp_access@example.org")
    returned_table = page.get_by_role("table", name=re.compile("sent back"))
    await expect(returned_table).to_contain_text("Website migration calendar")
    await expect(returned_table).to_contain_text("Voir d'abord avec BDT.")


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_every_issue_page_is_free_of_serious_accessibility_violations(
    page: Page,
    web_people: People,
    engine: Engine,
    commands: IssueCommands,
    mail_sink: MailSink,
    language: str,
) -> None:
    for user_id in ("fp_access", "fp_access_d", "chair", "secretariat", "auditor"):
        set_language(engine, user_id, language)
    pending = await escalation_requested(commands, web_people, "Accessible meeting rooms")
    discussed = await raised(commands, web_people, "Sign language at WTDC")
    await commands.send(
        discussed.id, web_people.fp_access_d.actor, AddComment(body="ITU-D agrees.")
    )
    message = await wait_for_mail(
        mail_sink, "chair@example.org", "escalation_requested", issue_id=pending.id
    )
    raised_mail = await wait_for_mail(mail_sink, "fp_access_d@example.org", "issue_raised")

    await sign_in(page, "fp_access@example.org")
    await expect(page.locator("html")).to_have_attribute(
        "dir", "rtl" if language == "ar" else "ltr"
    )
    await clean(page, f"issues-home-focal-point.{language}")
    await page.goto("/issues")
    await expect(page.get_by_role("table")).to_be_visible()
    await clean(page, f"issues-list.{language}")
    await page.goto("/issues?state=open&q=sign")
    await expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)
    await page.goto("/issues/new")
    await clean(page, f"issues-new.{language}")
    await page.goto(f"/issues/{discussed.id}")
    await clean(page, f"issue-focal-point.{language}")
    await page.goto("/issues/new")
    await page.locator("form.stacked button[type=submit]").click()  # empty form: the browser
    await expect(page.locator("#new-title:invalid")).to_have_count(1)  # asks for the title

    for who, pages in (
        ("chair", ["/", "/approvals", f"/issues/{pending.id}"]),
        ("secretariat", ["/"]),
        ("auditor", ["/"]),
    ):
        await page.context.clear_cookies()
        await sign_in(page, f"{who}@example.org")
        for path in pages:
            await page.goto(path)
            name = "home" if path == "/" else path.strip("/").split("/")[0]
            await clean(page, f"issues-{name}-{who}.{language}")

    await page.context.clear_cookies()
    await page.goto(action_path(message))
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await clean(page, f"link-action.{language}")
    await page.goto(preferences_path(raised_mail))
    await clean(page, f"link-preferences.{language}")


# == the server refuses what the pages do not offer ============================================


@asynccontextmanager
async def signed_in(base_url: str, email: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An HTTP client with a session of `email`, and the session's CSRF token."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        form = await http.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        r = await http.post(
            "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert r.status_code == 303, r.text
        page = await http.get("/preferences")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        yield http, csrf[1]


async def test_a_role_the_page_offers_no_form_to_is_refused_with_403(
    base_url: str, web_people: People, engine: Engine, commands: IssueCommands
) -> None:
    issue = await raised(commands, web_people, "Gender parity on panels", who="fp_gender")
    async with signed_in(base_url, "auditor@example.org") as (http, csrf):
        page = await http.get(f"/issues/{issue.id}")
        assert page.status_code == 200
        assert 'action="/issues/' not in page.text  # the auditor is offered no form
        before = version_and_comments(engine, issue.id)
        for verb, data in (
            ("comment", {"body": "Looks fine."}),
            ("resolve", {"resolution": "Done."}),
            ("withdraw", {"reason": "Not mine."}),
        ):
            r = await http.post(f"/issues/{issue.id}/{verb}", data={**data, "csrf_token": csrf})
            assert r.status_code == 403, (verb, r.text)
            assert "Your role or themes do not allow this action." in r.text
            assert 'role="alert"' in r.text
        assert (await http.get("/approvals")).status_code == 403
        r = await http.post(
            "/issues/new",
            data={"title": "Audit", "description": "x", "theme": "gender", "csrf_token": csrf},
        )
        assert r.status_code == 403
    assert version_and_comments(engine, issue.id) == before

    # A focal point of another theme neither sees a comment form nor may comment.
    async with signed_in(base_url, "fp_access@example.org") as (http, csrf):
        page = await http.get(f"/issues/{issue.id}")
        assert f'action="/issues/{issue.id}/comment"' not in page.text
        r = await http.post(
            f"/issues/{issue.id}/comment", data={"body": "Me too.", "csrf_token": csrf}
        )
        assert r.status_code == 403
        r = await http.post(
            "/issues/new",
            data={
                "title": "Not my theme",
                "description": "x",
                "theme": "gender",
                "csrf_token": csrf,
            },
        )
        assert r.status_code == 403
        assert "You are not a focal point of this theme." in r.text
    assert version_and_comments(engine, issue.id) == before


async def test_a_step_the_state_does_not_allow_is_refused_with_409_naming_the_state(
    base_url: str, web_people: People, engine: Engine, commands: IssueCommands
) -> None:
    issue = await escalation_requested(commands, web_people, "Duplicate mailing lists")
    async with signed_in(base_url, "fp_access@example.org") as (http, csrf):
        page = await http.get(f"/issues/{issue.id}")
        assert f'action="/issues/{issue.id}/resolve"' not in page.text  # not offered now
        before = version_and_comments(engine, issue.id)
        r = await http.post(
            f"/issues/{issue.id}/resolve", data={"resolution": "Merged.", "csrf_token": csrf}
        )
    assert r.status_code == 409, r.text
    assert "This action is not possible now: the issue is Escalation requested." in r.text
    assert version_and_comments(engine, issue.id) == before


async def test_invalid_data_is_refused_with_422_naming_the_field(
    base_url: str, web_people: People, engine: Engine, commands: IssueCommands
) -> None:
    issue = await escalation_requested(commands, web_people, "Hybrid meeting tooling")
    async with signed_in(base_url, "fp_access@example.org") as (http, csrf):
        before = version_and_comments(engine, issue.id)
        r = await http.post(f"/issues/{issue.id}/comment", data={"body": "  ", "csrf_token": csrf})
        assert r.status_code == 422, r.text
        assert (
            'id="comment-body" name="body" required maxlength="10000" aria-invalid="true" '
            'aria-describedby="comment-body-error"' in r.text
        )
        assert '<p class="field-error" id="comment-body-error">Fill in this field.</p>' in r.text
        r = await http.post(
            "/issues/new",
            data={"title": "ab", "description": "Short.", "theme": "accessibility",
                  "csrf_token": csrf},
        )  # fmt: skip
        assert r.status_code == 422, r.text
        assert 'aria-describedby="new-title-error"' in r.text
        assert "Give a title of at least 3 characters." in r.text
        assert 'value="ab"' in r.text  # what was typed is kept
    assert version_and_comments(engine, issue.id) == before

    # A rule only the workflow knows: a new deadline goes with a referral back only.
    async with signed_in(base_url, "chair@example.org") as (http, csrf):
        r = await http.post(
            f"/approvals/{issue.id}/approve", data={"note": "For the 40th.", "csrf_token": csrf}
        )
        assert r.status_code == 303, r.text
        escalated = version_and_comments(engine, issue.id)
        r = await http.post(
            f"/issues/{issue.id}/decision",
            data={"outcome": "resolved", "text": "Use the new tool.", "new_deadline": "2999-01-04",
                  "csrf_token": csrf},
        )  # fmt: skip
        assert r.status_code == 422, r.text
        assert "A new deadline applies only to a decision that refers the issue back." in r.text
        assert 'aria-describedby="decision-deadline-error"' in r.text
        assert "Use the new tool." in r.text  # the form keeps the text
    assert version_and_comments(engine, issue.id) == escalated
    assert escalated[1] == "escalated"


async def test_a_form_without_the_csrf_token_is_refused_with_403(
    base_url: str, web_people: People, engine: Engine, commands: IssueCommands
) -> None:
    issue = await raised(commands, web_people, "Glossary in six languages")
    async with signed_in(base_url, "fp_access@example.org") as (http, _csrf):
        before = version_and_comments(engine, issue.id)
        for data in ({"body": "Forged."}, {"body": "Forged.", "csrf_token": "not-the-token"}):
            r = await http.post(f"/issues/{issue.id}/comment", data=data)
            assert r.status_code == 403, r.text
            assert "This form has expired" in r.text
        r = await http.post(
            "/issues/new",
            data={"title": "Forged issue", "description": "x", "theme": "accessibility"},
        )
        assert r.status_code == 403
    assert version_and_comments(engine, issue.id) == before
    with Session(engine) as session:
        titles = [row.title for row in repository.list_issues(session=session)[0]]
    assert titles == ["Glossary in six languages"]


async def test_a_successful_post_redirects_with_a_flash_and_sending_a_raise_twice_makes_one_issue(
    base_url: str, web_people: People, engine: Engine
) -> None:
    async with signed_in(base_url, "fp_access@example.org") as (http, csrf):
        form = await http.get("/issues/new")
        request_id = re.search(r'name="request_id" value="([^"]+)"', form.text)
        assert request_id is not None
        data = {
            "title": "Alt text for photos",
            "description": "Photos on the website lack alt text.",
            "theme": "accessibility",
            "request_id": request_id[1],
            "csrf_token": csrf,
        }
        first = await http.post("/issues/new", data=data)
        again = await http.post("/issues/new", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/issues/{request_id[1]}"
    with Session(engine) as session:
        assert repository.list_issues(session=session)[1] == 1


# == waiting for me ============================================================================


async def home_of(base_url: str, email: str) -> str:
    async with signed_in(base_url, email) as (http, _csrf):
        r = await http.get("/")
    assert r.status_code == 200, r.text
    return r.text


def section(html: str, heading: str) -> str:
    """The HTML of the home page's section whose heading is `heading` ('' if absent)."""
    found = re.search(
        rf"<h2 id=\"[a-z]+-heading\">{re.escape(heading)}</h2>(.*?)</section>", html, re.S
    )
    return found[1] if found else ""


async def test_waiting_for_me_lists_what_each_role_has_to_act_on(
    base_url: str, web_people: People, commands: IssueCommands
) -> None:
    soon = await raised(commands, web_people, "Deadline this week")
    await commands.send(
        soon.id,
        web_people.secretariat.actor,
        SetDeadline(deadline=datetime.now(UTC) + timedelta(days=2)),
    )
    later = await raised(commands, web_people, "Deadline in a fortnight")
    await escalation_requested(commands, web_people, "Waiting for the chair")
    approved = await escalation_requested(commands, web_people, "Waiting for a meeting")
    await commands.send(approved.id, web_people.chair.actor, ApproveEscalation())

    focal = await home_of(base_url, "fp_access@example.org")
    due = section(focal, "Discussions nearing their deadline")
    assert "Deadline this week" in due
    assert "Deadline in a fortnight" not in due and later.id not in due
    other = await home_of(base_url, "fp_gender@example.org")
    assert "Deadline this week" not in other  # not their theme

    chair = await home_of(base_url, "chair@example.org")
    assert "Waiting for the chair" in section(
        chair, "Escalation requests waiting for your approval"
    )
    assert "Waiting for a meeting" in section(
        chair, "Escalated issues waiting for a decision at your level"
    )
    executive = await home_of(base_url, "executive@example.org")
    assert "No escalation request waits for you." in executive  # level 1 is the chair's

    secretariat = await home_of(base_url, "secretariat@example.org")
    meeting = section(secretariat, "Escalated issues waiting for a meeting")
    assert "Waiting for a meeting" in meeting
    assert "Waiting for the chair" not in meeting

    auditor = await home_of(base_url, "auditor@example.org")
    recent = section(auditor, "Recent activity")
    assert f'href="/issues/{approved.id}"' in recent
    assert "Escalation approved" in recent
    assert "Chair</bdi> (Chair)" in recent
