"""E-mail as the chair and the focal points meet it: delivered messages, their links, the outbox.

A focal point raises an issue and asks for its escalation through the API; the worker writes
the outbox rows and delivers them to a real SMTP sink. The tests read the messages from the
sink, follow the signed links they carry through the app, and check both the pages the links
lead to and what the API says afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine

from activities.mail import build_message, message_id
from domain.links import LinkPayload, sign
from domain.roles import Role
from iscflow.directory import add_user
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import Settings
from storage import outbox
from storage.db import session_scope
from tests.api.conftest import auth
from tests.support.people import People

ISSUES = "/api/v1/issues"
OUTBOX = "/api/v1/outbox"
PREFERENCES = "/api/v1/me/preferences"
PUBLIC_URL = "http://iscflow.test"
ACTION_URL = re.compile(r"http://iscflow\.test/actions/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
UNSUBSCRIBE = re.compile(r"^<http://iscflow\.test/preferences/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)>$")
WAIT_SECONDS = 20.0

RAISE = {
    "title": "Sign-language interpretation at WTDC",
    "description": "No budget line covers interpretation for deaf delegates.",
    "theme": "accessibility",
}
REASON = "The Sectors could not agree on who pays."

T = TypeVar("T")


# -- helpers ---------------------------------------------------------------------------------


def headers(people: People, who: str) -> dict[str, str]:
    return auth(getattr(people, who).token)


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `check` until it answers something truthy; fail after WAIT_SECONDS."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"waited {WAIT_SECONDS:.0f} s for {what}")
        await asyncio.sleep(0.1)


def mails_to(sink: MailSink, email: str, kind: str | None = None) -> list[EmailMessage]:
    return [
        m
        for m in sink.messages()
        if str(m["To"]) == email and (kind is None or str(m["X-Iscflow-Kind"]) == kind)
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    content: str = part.get_content()
    return content.replace("\r\n", "\n")  # SMTP line endings, as stored


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    content: str = part.get_content()
    return content.replace("\r\n", "\n")  # SMTP line endings, as stored


async def wait_for_mail(
    sink: MailSink, email: str, kind: str, *, issue_id: str | None = None, count: int = 1
) -> EmailMessage:
    """The `count`-th message of `kind` to `email` (about `issue_id`), once it has arrived."""

    async def arrived() -> EmailMessage | None:
        found = [
            m for m in mails_to(sink, email, kind) if issue_id is None or issue_id in text_of(m)
        ]
        return found[count - 1] if len(found) >= count else None

    return await eventually(arrived, f"message #{count} of kind {kind} to {email}")


def action_path(message: EmailMessage) -> str:
    """The path of the action link in the text part, e.g. /actions/<token>."""
    tokens = ACTION_URL.findall(text_of(message))
    assert len(tokens) == 1, text_of(message)
    return f"/actions/{tokens[0]}"


def preferences_path(message: EmailMessage) -> str:
    match = UNSUBSCRIBE.match(str(message["List-Unsubscribe"]))
    assert match, message["List-Unsubscribe"]
    return f"/preferences/{match.group(1)}"


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def payload_of(token: str) -> LinkPayload:
    body = token.split(".", 1)[0]
    return LinkPayload.model_validate_json(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def flip(text: str, index: int) -> str:
    """`text` with the character at `index` replaced by another base64url character."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


async def raise_issue(
    api: httpx.AsyncClient, people: People, *, who: str = "fp_access", **fields: Any
) -> str:
    r = await api.post(ISSUES, json={**RAISE, **fields}, headers=headers(people, who))
    assert r.status_code == 201, r.text
    issue_id: str = r.json()["id"]
    return issue_id


async def request_escalation(api: httpx.AsyncClient, people: People, issue_id: str) -> None:
    r = await api.post(
        f"{ISSUES}/{issue_id}/escalation-request",
        json={"reason": REASON},
        headers=headers(people, "fp_access"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "escalation_requested"


async def escalation_requested(api: httpx.AsyncClient, people: People, **fields: Any) -> str:
    """A fresh issue of fp_access, waiting for the chair's answer to its escalation request."""
    issue_id = await raise_issue(api, people, **fields)
    await request_escalation(api, people, issue_id)
    return issue_id


async def chair_link(
    api: httpx.AsyncClient, people: People, sink: MailSink, **fields: Any
) -> tuple[str, str]:
    """(issue id, path of the action link the chair received for its escalation request)."""
    issue_id = await escalation_requested(api, people, **fields)
    message = await wait_for_mail(
        sink, people.chair.email, "escalation_requested", issue_id=issue_id
    )
    return issue_id, action_path(message)


async def read_issue(api: httpx.AsyncClient, people: People, issue_id: str) -> dict[str, Any]:
    r = await api.get(f"{ISSUES}/{issue_id}", headers=headers(people, "auditor"))
    assert r.status_code == 200, r.text
    issue: dict[str, Any] = r.json()
    return issue


def actions(issue: dict[str, Any]) -> list[str]:
    return [a["action"] for a in issue["audit_trail"]]


async def outbox_items(
    api: httpx.AsyncClient, people: People, who: str = "secretariat", **params: Any
) -> list[dict[str, Any]]:
    r = await api.get(OUTBOX, params={"limit": 200, **params}, headers=headers(people, who))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def all_sent(api: httpx.AsyncClient, people: People, count: int) -> list[dict[str, Any]]:
    """The outbox, once `count` rows exist and every one is marked sent."""

    async def sent() -> list[dict[str, Any]] | None:
        items = await outbox_items(api, people)
        done = len(items) == count and all(i["status"] == "sent" for i in items)
        return items if done else None

    return await eventually(sent, f"{count} outbox rows marked sent")


async def set_preferences(
    api: httpx.AsyncClient, people: People, who: str, **body: str
) -> dict[str, Any]:
    r = await api.put(PREFERENCES, json=body, headers=headers(people, who))
    assert r.status_code == 200, r.text
    preferences: dict[str, Any] = r.json()
    return preferences


async def read_preferences(api: httpx.AsyncClient, people: People, who: str) -> dict[str, Any]:
    r = await api.get(PREFERENCES, headers=headers(people, who))
    assert r.status_code == 200, r.text
    preferences: dict[str, Any] = r.json()
    return preferences


def is_html(r: httpx.Response) -> None:
    assert r.headers["content-type"].startswith("text/html"), r.headers


# == the action link: approve =================================================================


async def test_action_link_shows_the_request_with_an_approve_and_a_return_form(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    r = await api.get(path)
    assert r.status_code == 200, r.text
    is_html(r)
    page = r.text
    assert f"Escalation request: {RAISE['title']}" in page
    assert REASON in page
    assert "Chair (Chair)" in page  # who the link acts for
    assert page.count('<form method="post">') == 2
    assert '<input type="hidden" name="decision" value="approve">' in page
    assert '<input type="hidden" name="decision" value="return">' in page
    assert 'name="reason" required' in page
    # Looking does not act.
    assert (await read_issue(api, people, issue_id))["state"] == "escalation_requested"


async def test_action_page_escapes_the_issue_title(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    title = "Budget <script>alert(1)</script> & more"
    _, path = await chair_link(api, people, mail_sink, title=title)
    r = await api.get(path)
    assert r.status_code == 200, r.text
    assert "<script>alert(1)</script>" not in r.text
    assert "Budget &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in r.text


async def test_approving_through_the_link_escalates_the_issue_as_the_chair(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    r = await api.post(path, data={"decision": "approve", "note": "On the agenda."})
    assert r.status_code == 200, r.text
    is_html(r)
    assert "<h1>Done</h1>" in r.text
    assert "The escalation request is approved. State of the issue: Escalated." in r.text
    assert f'href="{PUBLIC_URL}/issues/{issue_id}"' in r.text  # the issue's web page

    issue = await read_issue(api, people, issue_id)
    assert (issue["state"], issue["level"], issue["requested_level"]) == ("escalated", 1, None)
    approved = issue["audit_trail"][-1]
    assert (
        approved["action"],
        approved["actor_id"],
        approved["actor_role"],
        approved["from_state"],
        approved["to_state"],
    ) == ("EscalationApproved", "chair", "chair", "escalation_requested", "escalated")
    assert approved["payload"].get("note") == "On the agenda."
    assert actions(issue).count("EscalationApproved") == 1


# == single use ===============================================================================


@pytest.mark.parametrize("decision", ["approve", "return"])
async def test_second_use_of_an_action_link_answers_409_and_changes_nothing(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, decision: str
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    first = await api.post(path, data={"decision": decision, "reason": "Talk again."})
    assert first.status_code == 200, first.text
    before = await read_issue(api, people, issue_id)

    again = await api.get(path)
    assert again.status_code == 409, again.text
    is_html(again)
    assert "This link was already used" in again.text
    assert "Each action link works once." in again.text
    for body in ({"decision": "approve"}, {"decision": "return", "reason": "Once more."}):
        r = await api.post(path, data=body)
        assert r.status_code == 409, r.text
        assert "This link was already used" in r.text

    after = await read_issue(api, people, issue_id)
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert after["audit_trail"] == before["audit_trail"]


async def test_two_simultaneous_uses_of_one_link_act_once(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    answers = await asyncio.gather(
        api.post(path, data={"decision": "approve"}),
        api.post(path, data={"decision": "return", "reason": "Talk again."}),
    )
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    issue = await read_issue(api, people, issue_id)
    decided = [a for a in actions(issue) if a in {"EscalationApproved", "EscalationReturned"}]
    assert len(decided) == 1
    done = next(r for r in answers if r.status_code == 200)
    assert ("approved" if decided == ["EscalationApproved"] else "returned") in done.text


# == the action link: return ==================================================================


async def test_returning_through_the_link_with_a_reason_reopens_the_issue(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    r = await api.post(path, data={"decision": "return", "reason": "  Talk to BDT first.  "})
    assert r.status_code == 200, r.text
    assert "<h1>Done</h1>" in r.text
    assert "returned to the focal points. State of the issue: Open." in r.text

    issue = await read_issue(api, people, issue_id)
    assert (issue["state"], issue["level"], issue["requested_level"]) == ("open", 0, None)
    returned = issue["audit_trail"][-1]
    assert (returned["action"], returned["actor_id"], returned["actor_role"]) == (
        "EscalationReturned",
        "chair",
        "chair",
    )
    assert returned["payload"]["reason"] == "Talk to BDT first."
    assert "EscalationApproved" not in actions(issue)


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "return"},
        {"decision": "return", "reason": "   "},
        {"decision": "maybe", "reason": "Why not."},
    ],
    ids=["return-without-reason", "return-with-blank-reason", "unknown-decision"],
)
async def test_invalid_decision_answers_422_and_leaves_the_link_usable(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, body: dict[str, str]
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    before = await read_issue(api, people, issue_id)
    r = await api.post(path, data=body)
    assert r.status_code == 422, r.text
    is_html(r)
    assert "Nothing was done" in r.text
    assert "Choose approve, or return with a reason." in r.text
    after = await read_issue(api, people, issue_id)
    assert (after["state"], after["audit_trail"]) == ("escalation_requested", before["audit_trail"])
    # The refused attempt did not use the link up.
    assert (await api.get(path)).status_code == 200


# == links that cannot be honoured ============================================================


def _tampered(token: str, how: str, key: bytes) -> str:
    body, mac = token.split(".", 1)
    payload = payload_of(token)
    match how:
        case "signature-flipped":
            return f"{body}.{flip(mac, len(mac) // 2)}"
        case "payload-flipped":
            return f"{flip(body, len(body) // 2)}.{mac}"
        case "payload-forged":
            # Same signature, payload naming another user.
            forged = payload.model_copy(update={"user_id": "secretariat"})
            return f"{sign(forged, key).split('.', 1)[0]}.{mac}"
        case "signature-cut":
            return f"{body}.{mac[:-8]}"
        case "no-signature":
            return body
        case "other-key":
            return sign(payload, b"another-key-entirely-" * 2)
        case "preferences-purpose":
            return sign(payload.model_copy(update={"purpose": "preferences"}), key)
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "signature-flipped",
        "payload-flipped",
        "payload-forged",
        "signature-cut",
        "no-signature",
        "other-key",
        "preferences-purpose",
    ],
)
async def test_tampered_action_link_answers_400_and_changes_nothing(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, settings: Settings, how: str
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    bad = f"/actions/{_tampered(token_of(path), how, settings.signing_key())}"
    assert bad != path
    before = await read_issue(api, people, issue_id)

    r = await api.get(bad)
    assert r.status_code == 400, r.text
    is_html(r)
    assert "This link cannot be used" in r.text
    assert "it was altered or cut short" in r.text
    r = await api.post(bad, data={"decision": "approve"})
    assert r.status_code == 400, r.text
    assert "This link cannot be used" in r.text

    after = await read_issue(api, people, issue_id)
    assert (after["state"], after["audit_trail"]) == ("escalation_requested", before["audit_trail"])
    # The genuine link still works.
    assert (await api.get(path)).status_code == 200


async def test_preferences_link_used_on_actions_answers_400(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, _ = await chair_link(api, people, mail_sink)
    message = await wait_for_mail(mail_sink, people.chair.email, "escalation_requested")
    wrong = f"/actions/{token_of(preferences_path(message))}"
    r = await api.get(wrong)
    assert r.status_code == 400, r.text
    assert "This link cannot be used" in r.text
    r = await api.post(wrong, data={"decision": "approve"})
    assert r.status_code == 400, r.text
    assert (await read_issue(api, people, issue_id))["state"] == "escalation_requested"


async def test_action_link_used_on_preferences_answers_400(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    _, path = await chair_link(api, people, mail_sink)
    wrong = f"/preferences/{token_of(path)}"
    r = await api.get(wrong)
    assert r.status_code == 400, r.text
    assert "This link cannot be used" in r.text
    r = await api.post(wrong, data={"digest": "daily"})
    assert r.status_code == 400, r.text
    assert await read_preferences(api, people, "chair") == {
        "language": "en",
        "digest": "immediate",
    }


async def test_expired_action_link_answers_410(
    api: httpx.AsyncClient,
    people: People,
    mail_sink: MailSink,
    settings: Settings,
    commands: IssueCommands,
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    issue = await commands.current(issue_id)
    assert issue is not None and issue.escalation_requested_at is not None
    request = int(issue.escalation_requested_at.timestamp() * 1_000_000)
    assert payload_of(token_of(path)).request == request  # the same request as the mail's
    expired = LinkPayload(
        purpose="escalation",
        user_id="chair",
        issue_id=issue_id,
        request=request,
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    stale = f"/actions/{sign(expired, settings.signing_key())}"
    before = await read_issue(api, people, issue_id)

    r = await api.get(stale)
    assert r.status_code == 410, r.text
    is_html(r)
    assert "This link cannot be used" in r.text
    assert "This link has expired; use the application instead." in r.text
    r = await api.post(stale, data={"decision": "approve"})
    assert r.status_code == 410, r.text

    after = await read_issue(api, people, issue_id)
    assert (after["state"], after["audit_trail"]) == ("escalation_requested", before["audit_trail"])


# == links whose request was answered otherwise ===============================================


async def test_link_for_a_request_already_approved_through_the_api_answers_409(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, path = await chair_link(api, people, mail_sink)
    r = await api.post(
        f"{ISSUES}/{issue_id}/escalation-request/approve",
        json={},
        headers=headers(people, "chair"),
    )
    assert r.status_code == 200, r.text

    page = await api.get(path)
    assert page.status_code == 409, page.text
    is_html(page)
    assert "This request was already handled" in page.text
    assert "State of the issue: Escalated." in page.text
    r = await api.post(path, data={"decision": "approve"})
    assert r.status_code == 409, r.text
    assert "This request was already handled" in r.text

    issue = await read_issue(api, people, issue_id)
    assert issue["state"] == "escalated"
    assert actions(issue).count("EscalationApproved") == 1


async def test_link_of_an_earlier_request_does_not_answer_a_later_one(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, old = await chair_link(api, people, mail_sink)
    r = await api.post(
        f"{ISSUES}/{issue_id}/escalation-request/return",
        json={"reason": "Talk again."},
        headers=headers(people, "chair"),
    )
    assert r.status_code == 200, r.text
    await request_escalation(api, people, issue_id)
    second = await wait_for_mail(
        mail_sink, people.chair.email, "escalation_requested", issue_id=issue_id, count=2
    )
    new = action_path(second)
    assert new != old

    r = await api.post(old, data={"decision": "approve"})
    assert r.status_code == 409, r.text
    assert "This request was already handled" in r.text
    assert (await read_issue(api, people, issue_id))["state"] == "escalation_requested"

    r = await api.post(new, data={"decision": "approve"})
    assert r.status_code == 200, r.text
    assert (await read_issue(api, people, issue_id))["state"] == "escalated"


async def test_executive_approves_the_second_level_through_the_link(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id, chair_path = await chair_link(api, people, mail_sink)
    r = await api.post(
        f"{ISSUES}/{issue_id}/escalation-request/approve",
        json={},
        headers=headers(people, "chair"),
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        f"{ISSUES}/{issue_id}/decision",
        json={"outcome": "escalated_further", "text": "Beyond the task force."},
        headers=headers(people, "chair"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["requested_level"]) == ("escalation_requested", 2)
    message = await wait_for_mail(
        mail_sink, people.executive.email, "escalation_requested", issue_id=issue_id
    )
    path = action_path(message)

    # The chair's unused link answered the level-1 request, not this one.
    stale = await api.get(chair_path)
    assert stale.status_code == 409, stale.text
    assert "This request was already handled" in stale.text

    page = await api.get(path)
    assert page.status_code == 200, page.text
    assert "Executive (Coordination Committee)" in page.text  # name (role)
    r = await api.post(path, data={"decision": "approve"})
    assert r.status_code == 200, r.text
    issue = await read_issue(api, people, issue_id)
    assert (issue["state"], issue["level"]) == ("escalated", 2)
    last = issue["audit_trail"][-1]
    assert (last["action"], last["actor_id"], last["actor_role"]) == (
        "EscalationApproved",
        "executive",
        "executive",
    )


# == the delivered message ====================================================================


async def test_delivered_mail_carries_list_headers_and_both_parts(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, settings: Settings
) -> None:
    issue_id, _ = await chair_link(api, people, mail_sink)
    message = await wait_for_mail(mail_sink, people.chair.email, "escalation_requested")
    assert str(message["To"]) == people.chair.email
    assert str(message["From"]) == settings.mail.from_address
    assert str(message["Auto-Submitted"]) == "auto-generated"
    assert str(message["Precedence"]) == "bulk"
    assert str(message["X-Iscflow-Kind"]) == "escalation_requested"
    assert str(message["List-Id"]) == f"ISC-TF notifications <{settings.mail.list_id}>"
    assert UNSUBSCRIBE.match(str(message["List-Unsubscribe"]))
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(message["Content-Language"]) == "en"
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text, html = text_of(message), html_of(message)
    assert RAISE["title"] in text and RAISE["title"] in html
    assert f"{PUBLIC_URL}/issues/{issue_id}" in text  # the issue's web page
    # The same action link in both parts, and the preferences link in the footer of both.
    assert len(ACTION_URL.findall(text)) == 1
    assert set(ACTION_URL.findall(html)) == set(ACTION_URL.findall(text))
    preferences_url = f"{PUBLIC_URL}{preferences_path(message)}"
    assert preferences_url in text and preferences_url in html


async def test_message_id_is_stable_and_unique_per_outbox_row(
    api: httpx.AsyncClient,
    people: People,
    mail_sink: MailSink,
    settings: Settings,
    engine: Engine,
) -> None:
    await escalation_requested(api, people)
    raised = await wait_for_mail(mail_sink, people.fp_access_d.email, "issue_raised")
    requested = await wait_for_mail(mail_sink, people.chair.email, "escalation_requested")
    items = await all_sent(api, people, 2)
    by_kind = {i["kind"]: i for i in items}
    assert set(by_kind) == {"issue_raised", "escalation_requested"}

    ids = {}
    for message, kind in ((raised, "issue_raised"), (requested, "escalation_requested")):
        with session_scope(engine) as session:
            row = outbox.get_outbox(session=session, outbox_id=by_kind[kind]["id"])
        assert row is not None
        expected = message_id(row, settings.mail)
        # The generator folds the long header ("Message-ID:" CRLF " <...>"); unfolded, the
        # leading white space is CFWS that RFC 5322 allows before the msg-id.
        assert str(message["Message-ID"]).strip() == expected
        # Deterministic: building the message again gives the same id.
        assert message_id(row, settings.mail) == expected
        assert build_message(row, settings.mail)["Message-ID"] == expected
        assert re.fullmatch(rf"<[0-9a-f]{{40}}@{re.escape(settings.mail.list_id)}>", expected)
        ids[kind] = expected
    assert ids["issue_raised"] != ids["escalation_requested"]
    # Each row was delivered once.
    assert len(mail_sink.messages()) == 2


async def test_mail_is_written_in_the_recipients_language(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    assert await set_preferences(api, people, "fp_access_d", language="ar") == {
        "language": "ar",
        "digest": "immediate",
    }
    issue_id = await escalation_requested(api, people)
    arabic = await wait_for_mail(mail_sink, people.fp_access_d.email, "issue_raised")
    english = await wait_for_mail(mail_sink, people.chair.email, "escalation_requested")

    assert str(arabic["Content-Language"]) == "ar"
    html = html_of(arabic)
    assert '<html lang="ar" dir="rtl">' in html
    assert issue_id in text_of(arabic)
    assert "Dear" not in text_of(arabic)  # not the English template

    assert str(english["Content-Language"]) == "en"
    assert '<html lang="en" dir="ltr">' in html_of(english)
    assert 'dir="rtl"' not in html_of(english)

    items = await outbox_items(api, people)
    languages = {(i["recipient"], i["language"]) for i in items}
    assert languages == {(people.fp_access_d.email, "ar"), (people.chair.email, "en")}


# == preferences through the API ==============================================================


async def test_preferences_answer_200_and_keep_what_is_not_sent(
    api: httpx.AsyncClient, people: People
) -> None:
    assert await read_preferences(api, people, "chair") == {
        "language": "en",
        "digest": "immediate",
    }
    assert await set_preferences(api, people, "chair", language="fr") == {
        "language": "fr",
        "digest": "immediate",
    }
    assert await set_preferences(api, people, "chair", digest="daily") == {
        "language": "fr",
        "digest": "daily",
    }
    assert await set_preferences(api, people, "chair") == {"language": "fr", "digest": "daily"}
    assert await read_preferences(api, people, "chair") == {"language": "fr", "digest": "daily"}
    # One user's preferences are theirs alone.
    assert await read_preferences(api, people, "secretariat") == {
        "language": "en",
        "digest": "immediate",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "xx"}, "language"),
        ({"language": "EN"}, "language"),
        ({"digest": "weekly"}, "digest"),
        ({"language": "fr", "colour": "blue"}, "colour"),
        ({"user_id": "secretariat", "digest": "daily"}, "user_id"),
    ],
    ids=["language-xx", "language-uppercase", "digest-weekly", "extra-field", "user-id"],
)
async def test_invalid_preferences_answer_422_naming_the_field(
    api: httpx.AsyncClient, people: People, body: dict[str, str], field: str
) -> None:
    r = await api.put(PREFERENCES, json=body, headers=headers(people, "chair"))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == [field]
    assert field in error["message"]
    assert await read_preferences(api, people, "chair") == {
        "language": "en",
        "digest": "immediate",
    }


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_preferences_without_a_token_answer_401(api: httpx.AsyncClient, method: str) -> None:
    r = await api.request(method, PREFERENCES, json={"digest": "daily"})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


# == preferences through the link in a mail ===================================================


async def fp_access_d_preferences_link(
    api: httpx.AsyncClient, people: People, sink: MailSink
) -> str:
    """The preferences path from the List-Unsubscribe header of a mail to fp_access_d."""
    await raise_issue(api, people)
    message = await wait_for_mail(sink, people.fp_access_d.email, "issue_raised")
    path = preferences_path(message)
    payload = payload_of(token_of(path))
    assert (payload.purpose, payload.user_id) == ("preferences", "fp_access_d")
    assert f"{PUBLIC_URL}{path}" in text_of(message)
    return path


async def test_preferences_link_shows_the_users_form(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    path = await fp_access_d_preferences_link(api, people, mail_sink)
    r = await api.get(path)
    assert r.status_code == 200, r.text
    is_html(r)
    page = r.text
    assert "E-mail preferences for Fp Access D" in page
    assert '<form method="post">' in page
    assert '<select id="language" name="language">' in page
    assert '<select id="digest" name="digest">' in page
    for code in ("ar", "zh", "en", "fr", "ru", "es"):
        assert f'<option value="{code}"' in page
    assert '<option value="en" selected' in page
    assert '<option value="immediate" selected>' in page
    assert "Your preferences are saved." not in page


async def test_preferences_form_post_saves_language_and_digest(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    path = await fp_access_d_preferences_link(api, people, mail_sink)
    r = await api.post(path, data={"language": "fr", "digest": "daily"})
    assert r.status_code == 200, r.text
    assert "Vos préférences sont enregistrées." in r.text  # in the language just chosen
    assert '<option value="fr" selected' in r.text
    assert '<option value="daily" selected>' in r.text
    assert await read_preferences(api, people, "fp_access_d") == {
        "language": "fr",
        "digest": "daily",
    }
    # Nobody else's preferences moved.
    assert await read_preferences(api, people, "fp_access") == {
        "language": "en",
        "digest": "immediate",
    }


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_one_click_unsubscribe_switches_to_the_daily_digest(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, encoding: str
) -> None:
    await set_preferences(api, people, "fp_access_d", language="es")
    path = await fp_access_d_preferences_link(api, people, mail_sink)
    # What a mail client sends for RFC 8058: exactly this one field, in either encoding.
    if encoding == "urlencoded":
        r = await api.post(
            path,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    else:
        r = await api.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert r.status_code == 200, r.text
    assert "Sus preferencias se han guardado." in r.text  # the user's language
    assert await read_preferences(api, people, "fp_access_d") == {
        "language": "es",
        "digest": "daily",
    }


async def test_preferences_form_with_an_unknown_value_answers_422_and_saves_nothing(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    path = await fp_access_d_preferences_link(api, people, mail_sink)
    for body in ({"language": "xx", "digest": "daily"}, {"language": "fr", "digest": "weekly"}):
        r = await api.post(path, data=body)
        assert r.status_code == 422, r.text
        assert "Nothing was saved" in r.text
    assert await read_preferences(api, people, "fp_access_d") == {
        "language": "en",
        "digest": "immediate",
    }


@pytest.mark.parametrize("how", ["signature-flipped", "payload-forged", "other-key"])
async def test_tampered_preferences_link_answers_400_and_saves_nothing(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, settings: Settings, how: str
) -> None:
    path = await fp_access_d_preferences_link(api, people, mail_sink)
    bad = f"/preferences/{_tampered(token_of(path), how, settings.signing_key())}"
    r = await api.get(bad)
    assert r.status_code == 400, r.text
    assert "This link cannot be used" in r.text
    r = await api.post(bad, data={"language": "fr", "digest": "daily"})
    assert r.status_code == 400, r.text
    r = await api.post(
        bad,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400, r.text
    for who in ("fp_access_d", "secretariat"):
        assert await read_preferences(api, people, who) == {
            "language": "en",
            "digest": "immediate",
        }


async def test_expired_preferences_link_answers_410(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    expired = LinkPayload(
        purpose="preferences",
        user_id="fp_access_d",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    path = f"/preferences/{sign(expired, settings.signing_key())}"
    r = await api.get(path)
    assert r.status_code == 410, r.text
    assert "This link has expired" in r.text
    r = await api.post(path, data={"digest": "daily"})
    assert r.status_code == 410, r.text
    assert (await read_preferences(api, people, "fp_access_d"))["digest"] == "immediate"


# == the daily digest holds mail ==============================================================


async def test_daily_digest_user_gets_no_immediate_mail_but_a_held_row(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, engine: Engine
) -> None:
    add_user(
        engine,
        name="Fp Access R",
        email="fp_access_r@example.org",
        role=Role.FOCAL_POINT,
        sector="ITU-R",
        themes=("accessibility",),
        user_id="fp_access_r",
        now=datetime.now(UTC),
    )
    await set_preferences(api, people, "fp_access_d", digest="daily")
    issue_id = await raise_issue(api, people)

    # The immediate colleague is told about the same event…
    await wait_for_mail(mail_sink, "fp_access_r@example.org", "issue_raised", issue_id=issue_id)

    async def delivered() -> list[dict[str, Any]] | None:
        items = await outbox_items(api, people)
        return items if any(i["status"] == "sent" for i in items) else None

    items = await eventually(delivered, "the immediate row to be marked sent")
    by_recipient = {i["recipient"]: i for i in items}
    assert set(by_recipient) == {"fp_access_r@example.org", people.fp_access_d.email}
    assert by_recipient["fp_access_r@example.org"]["status"] == "sent"

    # …the digest reader's row waits for the digest.
    held = await outbox_items(api, people, status="held")
    assert [
        (i["recipient"], i["kind"], i["status"], i["attempts"], i["sent_at"]) for i in held
    ] == [(people.fp_access_d.email, "issue_raised", "held", 0, None)]
    assert held[0]["id"] == by_recipient[people.fp_access_d.email]["id"]
    await asyncio.sleep(0.5)  # a send, were one started, would have arrived by now
    assert mails_to(mail_sink, people.fp_access_d.email) == []
    assert [str(m["To"]) for m in mail_sink.messages()] == ["fp_access_r@example.org"]


# == the outbox API ===========================================================================


@pytest.mark.parametrize("who", ["secretariat", "admin"])
async def test_outbox_lists_notifications_with_their_delivery_status(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, who: str
) -> None:
    await escalation_requested(api, people)
    chair_mail = await wait_for_mail(mail_sink, people.chair.email, "escalation_requested")
    await all_sent(api, people, 2)

    r = await api.get(OUTBOX, headers=headers(people, who))
    assert r.status_code == 200, r.text
    listing = r.json()
    assert (listing["total"], listing["limit"], listing["offset"]) == (2, 50, 0)
    items = listing["items"]
    # Newest first.
    assert [(i["kind"], i["recipient"]) for i in items] == [
        ("escalation_requested", people.chair.email),
        ("issue_raised", people.fp_access_d.email),
    ]
    assert items[0]["id"] > items[1]["id"]
    for item in items:
        assert item["status"] == "sent"
        assert item["attempts"] >= 1
        assert item["last_error"] is None
        assert item["language"] == "en"
        assert item["sent_at"] is not None and item["created_at"] is not None
        assert "body_text" not in item
    assert items[0]["subject"] == str(chair_mail["Subject"])

    paged = await api.get(OUTBOX, params={"limit": 1, "offset": 1}, headers=headers(people, who))
    assert paged.status_code == 200, paged.text
    assert [i["id"] for i in paged.json()["items"]] == [items[1]["id"]]
    assert paged.json()["total"] == 2


async def test_outbox_message_returns_both_bodies(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink
) -> None:
    issue_id = await escalation_requested(api, people)
    message = await wait_for_mail(mail_sink, people.chair.email, "escalation_requested")
    items = await all_sent(api, people, 2)
    entry = next(i for i in items if i["kind"] == "escalation_requested")

    r = await api.get(f"{OUTBOX}/{entry['id']}", headers=headers(people, "admin"))
    assert r.status_code == 200, r.text
    found = r.json()
    assert {k: found[k] for k in entry} == entry
    assert found["body_text"].strip() == text_of(message).strip()
    assert found["body_html"].strip() == html_of(message).strip()
    assert issue_id in found["body_text"]
    assert action_path(message) in found["body_text"]
    assert found["body_html"].lstrip().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("who", ["fp_access", "chair", "executive", "auditor"])
async def test_outbox_answers_403_to_other_roles(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, who: str
) -> None:
    await raise_issue(api, people)
    items = await all_sent(api, people, 1)
    for url in (OUTBOX, f"{OUTBOX}/{items[0]['id']}", f"{OUTBOX}/999999"):
        r = await api.get(url, headers=headers(people, who))
        assert r.status_code == 403, r.text
        error = r.json()["error"]
        assert error["code"] == "permission_denied"
        assert "secretariat" in error["message"]


async def test_outbox_without_a_token_answers_401(api: httpx.AsyncClient) -> None:
    for url in (OUTBOX, f"{OUTBOX}/1"):
        r = await api.get(url)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthorized"


async def test_unknown_outbox_message_answers_404(api: httpx.AsyncClient, people: People) -> None:
    r = await api.get(f"{OUTBOX}/999999", headers=headers(people, "secretariat"))
    assert r.status_code == 404, r.text
    error = r.json()["error"]
    assert error["code"] == "not_found"
    assert "999999" in error["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
    ],
    ids=["status-bogus", "limit-0", "limit-201", "offset-negative"],
)
async def test_invalid_outbox_query_answers_422_naming_the_parameter(
    api: httpx.AsyncClient, people: People, params: dict[str, Any], field: str
) -> None:
    r = await api.get(OUTBOX, params=params, headers=headers(people, "secretariat"))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == [field]
