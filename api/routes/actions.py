"""Pages reached from e-mail links: approve or return an escalation; mail preferences."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import AppState, AppStateDep
from api.pages import message_page, page
from domain.issues import ApproveEscalation, Issue, IssueCommand, IssueState, ReturnEscalation
from domain.links import LinkError, LinkPayload, verify
from iscflow.issue_commands import CommandRejected
from notifications.render import LANGUAGES
from storage import directory, outbox, repository
from storage.db import session_scope

router = APIRouter(include_in_schema=False)

LANGUAGE_NAMES = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}
LINK_ERRORS = {"tampered": 400, "expired": 410}


def _refused(request: Request, error: LinkError) -> HTMLResponse:
    return message_page(
        request,
        title="This link cannot be used",
        message=error.message,
        status_code=LINK_ERRORS[error.reason],
        tone="refused",
    )


def _no_such_user(request: Request) -> HTMLResponse:
    return message_page(
        request,
        title="Unknown account",
        message="This link belongs to an account that no longer exists.",
        status_code=404,
        tone="refused",
    )


def _verify(state: AppState, token: str, purpose: str) -> LinkPayload:
    return verify(token, state.settings.signing_key(), datetime.now(UTC), purpose=purpose)


async def _pending_request(
    request: Request, state: AppState, payload: LinkPayload
) -> Issue | HTMLResponse:
    """The issue, if the link's escalation request is still waiting; else a refusal page."""
    assert payload.issue_id is not None
    issue_url = f"{state.settings.public_url}/api/v1/issues/{payload.issue_id}"
    with session_scope(state.engine) as session:
        used = outbox.link_used(session=session, link_id=payload.link_id)
    if used:
        return message_page(
            request,
            title="This link was already used",
            message="Each action link works once. The request it carried has been answered.",
            status_code=409,
            tone="refused",
            issue_url=issue_url,
        )
    issue = await state.commands.current(payload.issue_id)
    if issue is None:
        return message_page(
            request, title="Unknown issue", message="No such issue.", status_code=404
        )
    requested = issue.escalation_requested_at
    current = int(requested.timestamp() * 1_000_000) if requested else None
    if issue.state is not IssueState.ESCALATION_REQUESTED or current != payload.request:
        return message_page(
            request,
            title="This request was already handled",
            message=f"The issue is now {issue.state.value.replace('_', ' ')}.",
            status_code=409,
            tone="refused",
            issue_url=issue_url,
        )
    return issue


@router.get("/actions/{token}", response_class=HTMLResponse)
async def action_page(token: str, request: Request, state: AppStateDep) -> HTMLResponse:
    try:
        payload = _verify(state, token, "escalation")
    except LinkError as error:
        return _refused(request, error)
    found = await _pending_request(request, state, payload)
    if isinstance(found, HTMLResponse):
        return found
    with session_scope(state.engine) as session:
        user = directory.get_user(session=session, user_id=payload.user_id)
        audit = repository.list_audit(session=session, stream=f"issue-{found.id}")
        row = repository.get_issue(session=session, issue_id=found.id)
    reason = next(
        (a.payload.get("reason") or a.payload.get("text") for a in reversed(audit)
         if a.to_state == IssueState.ESCALATION_REQUESTED.value),
        None,
    )  # fmt: skip
    level = found.ladder.level(found.requested_level or found.level + 1)
    return page(
        request, "action.html", title=found.title, issue=row, user=user,
        level_name=level.name, reason=reason,
    )  # fmt: skip


@router.post("/actions/{token}", response_class=HTMLResponse)
async def take_action(
    token: str,
    request: Request,
    state: AppStateDep,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        payload = _verify(state, token, "escalation")
    except LinkError as error:
        return _refused(request, error)
    if decision not in {"approve", "return"} or (decision == "return" and not reason.strip()):
        return message_page(
            request,
            title="Nothing was done",
            message="Choose approve, or return with a reason.",
            status_code=422,
            tone="refused",
        )
    found = await _pending_request(request, state, payload)
    if isinstance(found, HTMLResponse):
        return found
    with session_scope(state.engine) as session:
        user = directory.get_user(session=session, user_id=payload.user_id)
        if user is None or not user.active:
            return message_page(
                request, title="Not allowed", message="This account is not active.",
                status_code=403, tone="refused",
            )  # fmt: skip
        actor = directory.actor_for(session=session, user=user)
        claimed = outbox.claim_link(
            session=session, link_id=payload.link_id, user_id=user.id,
            issue_id=found.id, now=datetime.now(UTC),
        )  # fmt: skip
    if not claimed:
        return await _pending_request(request, state, payload)  # type: ignore[return-value]
    command: IssueCommand = (
        ApproveEscalation(note=note.strip() or None)
        if decision == "approve"
        else ReturnEscalation(reason=reason.strip())
    )
    try:
        issue = await state.commands.send(found.id, actor, command)
    except CommandRejected as rejected:
        if rejected.status >= 500:
            with session_scope(state.engine) as session:
                outbox.release_link(session=session, link_id=payload.link_id)
        return message_page(
            request, title="Nothing was done", message=rejected.message,
            status_code=rejected.status, tone="refused",
        )  # fmt: skip
    done = "approved" if decision == "approve" else "returned to the focal points"
    return message_page(
        request,
        title="Done",
        message=f"The escalation request is {done}. The issue is now "
        f"{issue.state.value.replace('_', ' ')}.",
        status_code=200,
        tone="done",
        issue_url=f"{state.settings.public_url}/api/v1/issues/{issue.id}",
    )


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences_page(token: str, request: Request, state: AppStateDep) -> HTMLResponse:
    try:
        payload = _verify(state, token, "preferences")
    except LinkError as error:
        return _refused(request, error)
    with session_scope(state.engine) as session:
        user = directory.get_user(session=session, user_id=payload.user_id)
    if user is None:
        return _no_such_user(request)
    return page(
        request, "preferences.html", title="E-mail preferences", user=user, saved=False,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )  # fmt: skip


@router.post("/preferences/{token}", response_class=HTMLResponse)
def save_preferences(
    token: str,
    request: Request,
    state: AppStateDep,
    language: Annotated[str | None, Form()] = None,
    digest: Annotated[str | None, Form()] = None,
    one_click: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
) -> HTMLResponse:
    """The preferences form, and RFC 8058 one-click unsubscribe (switches to the digest)."""
    try:
        payload = _verify(state, token, "preferences")
    except LinkError as error:
        return _refused(request, error)
    if one_click == "One-Click":
        language, digest = None, "daily"
    if (language is not None and language not in LANGUAGES) or (
        digest is not None and digest not in {"immediate", "daily"}
    ):
        return message_page(
            request, title="Nothing was saved", message="Unknown language or frequency.",
            status_code=422, tone="refused",
        )  # fmt: skip
    with session_scope(state.engine) as session:
        user = directory.set_preferences(
            session=session, user_id=payload.user_id, language=language, digest=digest
        )
    if user is None:
        return _no_such_user(request)
    return page(
        request, "preferences.html", title="E-mail preferences", user=user, saved=True,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )  # fmt: skip
