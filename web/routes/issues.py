"""The issues pages: the list with filters, raising an issue, and the issue page with its forms."""

from __future__ import annotations

import math
import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.errors import ApiError
from api.rights import IssueAction, authorise
from domain.issues import IssueState, RaiseIssue
from iscflow.issue_commands import CommandRejected
from storage import directory, repository
from storage.models import IssueRow
from web.deps import FormUserDep, PageRefused, UserDep, WebStateDep, WebUser, set_flash
from web.issue_actions import VERBS, Refusal, perform, refusal_of, validation_refusal
from web.issue_view import issue_page, page_context
from web.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
STATES = [s.value for s in IssueState]


def _not_found(user: WebUser) -> PageRefused:
    return PageRefused(
        404,
        user.locale.gettext("No such issue"),
        user.locale.gettext("There is no issue at this address."),
    )


async def form_values(request: Request) -> dict[str, str]:
    """The posted fields as text (files and repeated fields are not used by these forms)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# -- the list ----------------------------------------------------------------------------------


@router.get("/issues", response_class=HTMLResponse)
def issue_list(
    request: Request,
    user: UserDep,
    state: WebStateDep,
    filter_state: Annotated[str, Query(alias="state", max_length=64)] = "",
    theme: Annotated[str, Query(max_length=64)] = "",
    sector: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[str, Query(max_length=12)] = "1",
) -> HTMLResponse:
    with Session(state.engine) as session:
        themes = directory.list_themes(session=session)
        sectors = directory.list_sectors(session=session)
        errors: dict[str, str] = {}
        if filter_state and filter_state not in STATES:
            errors["state"] = user.locale.gettext("Choose a state from the list.")
        if theme and theme not in {t.code for t in themes}:
            errors["theme"] = user.locale.gettext("Choose a theme from the list.")
        if sector and sector not in {s.code for s in sectors}:
            errors["sector"] = user.locale.gettext("Choose a sector from the list.")
        number = int(page) if page.isdecimal() and 0 < int(page) <= 100_000 else 0
        if not number:
            errors["page"] = user.locale.gettext("This page does not exist.")
        rows: list[IssueRow] = []
        total = 0
        if not errors:
            rows, total = repository.list_issues(
                session=session,
                state=filter_state or None,
                theme=theme or None,
                sector=sector or None,
                text=q.strip() or None,
                limit=PAGE_SIZE,
                offset=(number - 1) * PAGE_SIZE,
            )
    filters = {"state": filter_state, "theme": theme, "sector": sector, "q": q}
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "issues/list.html",
        user=user,
        status_code=422 if errors else 200,
        title=user.locale.gettext("Issues"),
        rows=rows,
        total=total,
        page=number or 1,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        filters=filters,
        filter_query=query,
        errors=errors,
        states=STATES,
        themes=themes,
        sectors=sectors,
        theme_names={t.code: t.name for t in themes},
        may_raise=_may_raise(user, state),
    )


def _may_raise(user: WebUser, state: WebStateDep) -> bool:
    try:
        authorise(IssueAction.RAISE, user.actor, state.settings.ladder, None)
    except ApiError:
        return False
    return bool(user.actor.themes)


# -- raising an issue --------------------------------------------------------------------------


def _new_form(
    request: Request,
    user: WebUser,
    state: WebStateDep,
    *,
    values: dict[str, str],
    refusal: Refusal | None = None,
) -> HTMLResponse:
    with Session(state.engine) as session:
        themes = [t for t in directory.list_themes(session=session) if t.code in user.actor.themes]
    return render(
        request,
        "issues/new.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=user.locale.gettext("Raise an issue"),
        themes=themes,
        values=values,
        refusal=refusal,
    )


def _require_raiser(user: WebUser, state: WebStateDep) -> None:
    if not _may_raise(user, state):
        raise PageRefused(
            403,
            user.locale.gettext("Not for your role"),
            user.locale.gettext("Only the focal points of a theme raise issues in it."),
        )


@router.get("/issues/new", response_class=HTMLResponse)
def new_issue(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    _require_raiser(user, state)
    values = {"title": "", "description": "", "theme": "", "request_id": str(uuid.uuid4())}
    if len(user.actor.themes) == 1:
        values["theme"] = next(iter(user.actor.themes))
    return _new_form(request, user, state, values=values)


def _request_id(given: str) -> str:
    """The id the form was given (so that sending it twice raises one issue), if it is one."""
    try:
        return str(uuid.UUID(given))
    except ValueError:
        return str(uuid.uuid4())


@router.post("/issues/new", response_class=HTMLResponse)
async def raise_issue(request: Request, user: FormUserDep, state: WebStateDep) -> Response:
    _require_raiser(user, state)
    form = await form_values(request)
    values = {k: form.get(k, "") for k in ("title", "description", "theme")}
    values["request_id"] = _request_id(form.get("request_id", ""))
    lang = user.locale
    with Session(state.engine) as session:
        known = directory.get_theme(session=session, code=values["theme"]) is not None
    if not known:
        refusal = Refusal(422, lang.gettext("Choose one of your themes."), field="theme")
        return _new_form(request, user, state, values=values, refusal=refusal)
    if values["theme"] not in user.actor.themes:
        refusal = Refusal(403, lang.gettext("You are not a focal point of this theme."), "theme")
        return _new_form(request, user, state, values=values, refusal=refusal)
    if user.row.sector_code is None:
        raise PageRefused(
            403,
            lang.gettext("Not for your role"),
            lang.gettext("Your account has no sector; ask an administrator to set it."),
        )
    try:
        command = RaiseIssue(
            issue_id=values["request_id"],
            title=values["title"],
            description=values["description"],
            theme=values["theme"],
            sector=user.row.sector_code,
        )
    except ValidationError as error:
        refusal = validation_refusal(error, lang)
        return _new_form(request, user, state, values=values, refusal=refusal)
    try:
        issue = await state.issues.raise_issue(user.actor, command)
    except CommandRejected as rejected:
        return _new_form(request, user, state, values=values, refusal=refusal_of(rejected, lang))
    response = RedirectResponse(f"/issues/{issue.id}", status_code=303)
    set_flash(response, lang.gettext("The issue is raised; the theme's focal points are told."))
    return response


# -- the issue page ----------------------------------------------------------------------------


def _issue_response(
    request: Request,
    user: WebUser,
    state: WebStateDep,
    issue_id: str,
    *,
    refusal: Refusal | None = None,
    form: str | None = None,
) -> HTMLResponse:
    page = issue_page(state.engine, issue_id, user, state.settings.ladder)
    if page is None:
        raise _not_found(user)
    return render(
        request,
        "issues/issue.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=page.row.title,
        **page_context(page, refusal, form),
    )


@router.get("/issues/{issue_id}", response_class=HTMLResponse)
def show_issue(request: Request, issue_id: str, user: UserDep, state: WebStateDep) -> HTMLResponse:
    return _issue_response(request, user, state, issue_id)


@router.post("/issues/{issue_id}/{verb}", response_class=HTMLResponse)
async def act_on_issue(
    request: Request, issue_id: str, verb: str, user: FormUserDep, state: WebStateDep
) -> Response:
    chosen = VERBS.get(verb)
    with Session(state.engine, expire_on_commit=False) as session:
        row = repository.get_issue(session=session, issue_id=issue_id)
    if row is None or chosen is None:
        raise _not_found(user)
    result = await perform(
        state.issues,
        verb=chosen,
        form=await form_values(request),
        actor=user.actor,
        ladder=state.settings.ladder,
        row=row,
        locale=user.locale,
    )
    if isinstance(result, Refusal):
        return _issue_response(request, user, state, issue_id, refusal=result, form=verb)
    anchor = "#comments" if verb == "comment" else ""
    response = RedirectResponse(f"/issues/{issue_id}{anchor}", status_code=303)
    set_flash(response, user.locale.gettext(chosen.done))
    return response
