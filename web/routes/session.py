"""Sign-in, sign-out, the language switcher and preferences."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from storage import directory, web_sessions
from storage.db import session_scope
from web.deps import (
    FormUserDep,
    OptionalUserDep,
    PageRefused,
    UserDep,
    WebStateDep,
    anonymous_csrf,
    local_path,
    request_locale,
    session_lifetime,
    set_flash,
)
from web.i18n import LANGUAGES, locale, supported_language
from web.rendering import render
from web.security import (
    ANONYMOUS_CSRF_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    new_secret,
    same_token,
    verify_password,
)

router = APIRouter(include_in_schema=False)

DIGESTS = ("immediate", "daily")


def _secure(request: Request, public_url: str) -> bool:
    return request.url.scheme == "https" or public_url.startswith("https://")


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    lang = request_locale(request)
    token = anonymous_csrf(request) or new_secret()
    response = render(
        request,
        "sign_in.html",
        user=None,
        locale=lang,
        csrf_token=token,
        status_code=status,
        title=lang.gettext("Sign in"),
        next_path=next_path,
        email=email,
        error=error,
    )
    response.set_cookie(
        ANONYMOUS_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, user: OptionalUserDep, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return _sign_in_page(request, next_path=local_path(next))


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    state: WebStateDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    lang = request_locale(request)
    next_path = local_path(next)
    if not same_token(anonymous_csrf(request), csrf_token):
        return _sign_in_page(
            request, next_path=next_path, email=email, status=403,
            error=lang.gettext("This form has expired. Please sign in again."),
        )  # fmt: skip
    now = datetime.now(UTC)
    secret = new_secret()
    with session_scope(state.engine) as session:
        user = directory.get_user_by_email(session=session, email=email.strip().lower())
        if user is None:
            user = directory.get_user_by_email(session=session, email=email.strip())
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.active:
            user = None
        else:
            web_sessions.create(
                session=session, secret=secret, user_id=user.id, csrf_token=new_secret(),
                now=now, expires_at=now + session_lifetime(state.settings),
            )  # fmt: skip
    if user is None:
        return _sign_in_page(
            request, next_path=next_path, email=email, status=401,
            error=lang.gettext("The e-mail address or the password is not right."),
        )  # fmt: skip
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="lax", path="/",
        secure=_secure(request, state.settings.public_url),
        max_age=int(session_lifetime(state.settings).total_seconds()),
    )  # fmt: skip
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE, path="/")
    return response


@router.post("/sign-out")
def sign_out(request: Request, user: FormUserDep, state: WebStateDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE, "")
    with session_scope(state.engine) as session:
        web_sessions.end(session=session, secret=secret)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_flash(response, user.locale.gettext("You are signed out."))
    return response


@router.post("/language")
def switch_language(
    request: Request,
    state: WebStateDep,
    user: OptionalUserDep,
    language: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = user.csrf_token if user is not None else anonymous_csrf(request)
    lang = user.locale if user is not None else request_locale(request)
    if not same_token(expected, csrf_token):
        raise PageRefused(
            403,
            lang.gettext("This form has expired"),
            lang.gettext("Reload the page and send the form again."),
        )
    if language not in LANGUAGES:
        raise PageRefused(400, lang.gettext("Unknown language"), language)
    if user is not None:
        with session_scope(state.engine) as session:
            directory.set_preferences(session=session, user_id=user.row.id, language=language)
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/", httponly=True
    )
    return response


@router.get("/preferences", response_class=HTMLResponse)
def preferences(request: Request, user: UserDep) -> HTMLResponse:
    return render(
        request, "preferences.html", user=user, title=user.locale.gettext("Preferences"),
        digests=DIGESTS, errors={},
    )  # fmt: skip


@router.post("/preferences", response_class=HTMLResponse)
def save_preferences(
    request: Request,
    state: WebStateDep,
    user: FormUserDep,
    language: Annotated[str, Form(max_length=16)] = "",
    digest: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    errors: dict[str, str] = {}
    if language not in LANGUAGES:
        errors["language"] = user.locale.gettext("Choose one of the six languages.")
    if digest not in DIGESTS:
        errors["digest"] = user.locale.gettext("Choose how often mail is sent.")
    if errors:
        return render(
            request, "preferences.html", user=user, status_code=422,
            title=user.locale.gettext("Preferences"), digests=DIGESTS, errors=errors,
        )  # fmt: skip
    with session_scope(state.engine) as session:
        directory.set_preferences(
            session=session, user_id=user.row.id, language=language, digest=digest
        )
    response = RedirectResponse("/preferences", status_code=303)
    set_flash(response, locale(supported_language(language)).gettext("Preferences saved."))
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/", httponly=True
    )
    return response
