"""Pages reached from e-mail links: approve or return an escalation; e-mail preferences.

The signed link is the credential (no session, no CSRF token): it names its user, and the
page speaks that user's language. An action link works once and only for the request it was
sent about.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlmodel import Session

from domain.issues import ApproveEscalation, Issue, IssueCommand, IssueState, ReturnEscalation
from domain.links import LinkError, LinkPayload, verify
from iscflow.issue_commands import CommandRejected
from storage import directory, outbox, repository
from storage.db import session_scope
from storage.models import UserRow
from web.deps import WebState, WebStateDep, request_locale
from web.i18n import LANGUAGES, Locale, _, locale, supported_language
from web.issue_actions import VERBS, refusal_of
from web.rendering import render

router = APIRouter(include_in_schema=False)

LINK_ERRORS = {
    "tampered": (400, _("This link is not valid: it was altered or cut short.")),
    "expired": (410, _("This link has expired; use the application instead.")),
}
DIGESTS = ("immediate", "daily")


def _language_of(user: UserRow | None, request: Request) -> Locale:
    """The link's user's language; the browser's when the link names nobody we know."""
    if user is None:
        return request_locale(request)
    return locale(supported_language(user.language))


def _message(
    request: Request,
    lang: Locale,
    *,
    title: str,
    message: str,
    status_code: int,
    tone: str = "",
    issue_url: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "issues/link_message.html",
        user=None,
        locale=lang,
        status_code=status_code,
        title=title,
        message=message,
        tone=tone,
        issue_url=issue_url,
        language_switch=False,
    )


def _refused(request: Request, error: LinkError) -> HTMLResponse:
    lang = request_locale(request)
    status, message = LINK_ERRORS[error.reason]
    return _message(
        request, lang, title=lang.gettext("This link cannot be used"),
        message=lang.gettext(message), status_code=status, tone="refused",
    )  # fmt: skip


def _verify(state: WebState, token: str, purpose: str) -> LinkPayload:
    return verify(token, state.settings.signing_key(), datetime.now(UTC), purpose=purpose)


def _user(state: WebState, user_id: str) -> UserRow | None:
    with Session(state.engine, expire_on_commit=False) as session:
        user = directory.get_user(session=session, user_id=user_id)
        session.expunge_all()
    return user


def _now_state(lang: Locale, issue: Issue) -> str:
    return lang.gettext("State of the issue: %(state)s.") % {
        "state": lang.gettext(issue.state.value)
    }


async def _pending_request(
    request: Request, state: WebState, payload: LinkPayload, lang: Locale
) -> Issue | HTMLResponse:
    """The issue, if the link's escalation request is still waiting; else a refusal page."""
    assert payload.issue_id is not None
    issue_url = f"{state.settings.public_url}/issues/{payload.issue_id}"
    with session_scope(state.engine) as session:
        used = outbox.link_used(session=session, link_id=payload.link_id)
    if used:
        return _message(
            request, lang, title=lang.gettext("This link was already used"),
            message=lang.gettext(
                "Each action link works once. The request it carried has been answered."
            ),
            status_code=409, tone="refused", issue_url=issue_url,
        )  # fmt: skip
    issue = await state.issues.current(payload.issue_id)
    if issue is None:
        return _message(
            request, lang, title=lang.gettext("No such issue"),
            message=lang.gettext("There is no issue at this address."), status_code=404,
        )  # fmt: skip
    requested = issue.escalation_requested_at
    current = int(requested.timestamp() * 1_000_000) if requested else None
    if issue.state is not IssueState.ESCALATION_REQUESTED or current != payload.request:
        return _message(
            request, lang, title=lang.gettext("This request was already handled"),
            message=_now_state(lang, issue), status_code=409, tone="refused",
            issue_url=issue_url,
        )  # fmt: skip
    return issue


@router.get("/actions/{token}", response_class=HTMLResponse)
async def action_page(token: str, request: Request, state: WebStateDep) -> HTMLResponse:
    try:
        payload = _verify(state, token, "escalation")
    except LinkError as error:
        return _refused(request, error)
    user = _user(state, payload.user_id)
    lang = _language_of(user, request)
    found = await _pending_request(request, state, payload, lang)
    if isinstance(found, HTMLResponse):
        return found
    with Session(state.engine, expire_on_commit=False) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{found.id}")
        theme = directory.get_theme(session=session, code=found.theme)
    reason = next(
        (a.payload.get("reason") or a.payload.get("text") for a in reversed(audit)
         if a.to_state == IssueState.ESCALATION_REQUESTED.value),
        None,
    )  # fmt: skip
    level = found.ladder.level(found.requested_level or found.level + 1)
    return render(
        request, "issues/link_action.html", user=None, locale=lang,
        title=lang.gettext("Escalation request: %(title)s") % {"title": found.title},
        issue=found, theme_name=theme.name if theme else found.theme, link_user=user,
        level_name=level.name, reason=reason, language_switch=False,
    )  # fmt: skip


@router.post("/actions/{token}", response_class=HTMLResponse)
async def take_action(
    token: str,
    request: Request,
    state: WebStateDep,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        payload = _verify(state, token, "escalation")
    except LinkError as error:
        return _refused(request, error)
    user = _user(state, payload.user_id)
    lang = _language_of(user, request)
    if decision not in {"approve", "return"} or (decision == "return" and not reason.strip()):
        return _unusable(request, lang)
    try:
        command: IssueCommand = (
            ApproveEscalation(note=note.strip() or None)
            if decision == "approve"
            else ReturnEscalation(reason=reason.strip())
        )
    except ValidationError:
        return _unusable(request, lang)
    found = await _pending_request(request, state, payload, lang)
    if isinstance(found, HTMLResponse):
        return found
    if user is None or not user.active:
        return _message(
            request, lang, title=lang.gettext("Not allowed"),
            message=lang.gettext("This account is not active."), status_code=403,
            tone="refused",
        )  # fmt: skip
    with session_scope(state.engine) as session:
        actor = directory.actor_for(session=session, user=user)
        claimed = outbox.claim_link(
            session=session, link_id=payload.link_id, user_id=user.id,
            issue_id=found.id, now=datetime.now(UTC),
        )  # fmt: skip
    if not claimed:
        # Another use of the link claimed it first: answer as for a used link.
        again = await _pending_request(request, state, payload, lang)
        if isinstance(again, HTMLResponse):
            return again
        return _message(
            request, lang, title=lang.gettext("This link was already used"),
            message=lang.gettext(
                "Each action link works once. The request it carried has been answered."
            ),
            status_code=409, tone="refused",
        )  # fmt: skip
    try:
        issue = await state.issues.send(found.id, actor, command)
    except CommandRejected as rejected:
        if rejected.status >= 500:
            with session_scope(state.engine) as session:
                outbox.release_link(session=session, link_id=payload.link_id)
        return _message(
            request, lang, title=lang.gettext("Nothing was done"),
            message=refusal_of(rejected, lang).message, status_code=rejected.status,
            tone="refused",
        )  # fmt: skip
    done = lang.gettext(VERBS[decision].done)
    return _message(
        request, lang, title=lang.gettext("Done"), message=f"{done} {_now_state(lang, issue)}",
        status_code=200, tone="done",
        issue_url=f"{state.settings.public_url}/issues/{issue.id}",
    )  # fmt: skip


def _unusable(request: Request, lang: Locale) -> HTMLResponse:
    return _message(
            request, lang, title=lang.gettext("Nothing was done"),
            message=lang.gettext("Choose approve, or return with a reason."),
            status_code=422, tone="refused",
        )  # fmt: skip


def _preferences(
    request: Request, user: UserRow, *, saved: bool, status_code: int = 200
) -> HTMLResponse:
    lang = _language_of(user, request)
    return render(
        request, "issues/link_preferences.html", user=None, locale=lang,
        status_code=status_code,
        title=lang.gettext("E-mail preferences for %(name)s") % {"name": user.name},
        link_user=user, saved=saved, digests=DIGESTS, language_switch=False,
    )  # fmt: skip


def _no_such_user(request: Request, lang: Locale) -> HTMLResponse:
    return _message(
        request, lang, title=lang.gettext("Unknown account"),
        message=lang.gettext("This link belongs to an account that no longer exists."),
        status_code=404, tone="refused",
    )  # fmt: skip


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences_page(token: str, request: Request, state: WebStateDep) -> HTMLResponse:
    try:
        payload = _verify(state, token, "preferences")
    except LinkError as error:
        return _refused(request, error)
    user = _user(state, payload.user_id)
    if user is None:
        return _no_such_user(request, request_locale(request))
    return _preferences(request, user, saved=False)


@router.post("/preferences/{token}", response_class=HTMLResponse)
def save_preferences(
    token: str,
    request: Request,
    state: WebStateDep,
    language: Annotated[str | None, Form(max_length=16)] = None,
    digest: Annotated[str | None, Form(max_length=16)] = None,
    one_click: Annotated[str | None, Form(alias="List-Unsubscribe", max_length=16)] = None,
) -> HTMLResponse:
    """The preferences form, and RFC 8058 one-click unsubscribe (switches to the digest)."""
    try:
        payload = _verify(state, token, "preferences")
    except LinkError as error:
        return _refused(request, error)
    if one_click == "One-Click":
        language, digest = None, "daily"
    if (language is not None and language not in LANGUAGES) or (
        digest is not None and digest not in DIGESTS
    ):
        lang = _language_of(_user(state, payload.user_id), request)
        return _message(
            request, lang, title=lang.gettext("Nothing was saved"),
            message=lang.gettext("Choose one of the six languages and how often mail is sent."),
            status_code=422, tone="refused",
        )  # fmt: skip
    with session_scope(state.engine) as session:
        user = directory.set_preferences(
            session=session, user_id=payload.user_id, language=language, digest=digest
        )
        if user is not None:
            session.flush()  # write the change before the row leaves the session
            session.expunge(user)
    if user is None:
        return _no_such_user(request, request_locale(request))
    return _preferences(request, user, saved=True)
