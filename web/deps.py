"""The signed-in user of a page, CSRF checks and flash messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine
from sqlmodel import Session

from api.deps import AppState
from domain.roles import Actor, Role
from iscflow.issue_commands import IssueCommands
from iscflow.meeting_commands import MeetingCommands
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.settings import Settings
from storage import directory, web_sessions
from storage.models import UserRow
from web.i18n import Locale, locale, supported_language
from web.security import (
    ANONYMOUS_CSRF_COOKIE,
    CSRF_FIELD,
    FLASH_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    same_token,
)


@dataclass(frozen=True)
class WebState:
    """What page handlers need from the application."""

    settings: Settings
    engine: Engine
    issues: IssueCommands
    meetings: MeetingCommands
    recommendations: RecommendationCommands

    @property
    def embedded(self) -> bool:
        return self.settings.embedded


def app_state(request: Request) -> WebState:
    api: AppState = request.app.state.iscflow
    return WebState(
        settings=api.settings,
        engine=api.engine,
        issues=api.commands,
        meetings=api.meetings,
        recommendations=request.app.state.recommendations,
    )


WebStateDep = Annotated[WebState, Depends(app_state)]


@dataclass(frozen=True)
class WebUser:
    row: UserRow
    actor: Actor
    csrf_token: str
    locale: Locale

    @property
    def role(self) -> Role:
        return self.actor.role


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in user; answered with a redirect to sign-in."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageRefused(Exception):
    """A page or form the user may not use (403), or a bad form (400): an HTML error page."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        self.status_code = status_code
        self.title = title
        self.message = message


def request_locale(request: Request, user: UserRow | None = None) -> Locale:
    """The user's preferred language; before sign-in, the cookie, then Accept-Language."""
    if user is not None:
        return locale(supported_language(user.language))
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen:
        return locale(supported_language(chosen))
    header = request.headers.get("accept-language", "")
    first = header.split(",", 1)[0].split(";", 1)[0]
    return locale(supported_language(first))


def current_user(request: Request, state: WebStateDep) -> WebUser | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    with Session(state.engine, expire_on_commit=False) as session:
        found = web_sessions.find(session=session, secret=secret, now=datetime.now(UTC))
        if found is None:
            return None
        row, user = found
        actor = directory.actor_for(session=session, user=user)
        session.expunge(user)
    return WebUser(
        row=user, actor=actor, csrf_token=row.csrf_token, locale=request_locale(request, user)
    )


def signed_in(request: Request, user: Annotated[WebUser | None, Depends(current_user)]) -> WebUser:
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return user


OptionalUserDep = Annotated[WebUser | None, Depends(current_user)]
UserDep = Annotated[WebUser, Depends(signed_in)]


async def checked_form(request: Request, user: UserDep) -> WebUser:
    """The signed-in user of a form post whose CSRF token matches their session's."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not same_token(user.csrf_token, given if isinstance(given, str) else None):
        raise PageRefused(
            403,
            user.locale.gettext("This form has expired"),
            user.locale.gettext("Reload the page and send the form again."),
        )
    return user


FormUserDep = Annotated[WebUser, Depends(checked_form)]


def anonymous_csrf(request: Request) -> str:
    return request.cookies.get(ANONYMOUS_CSRF_COOKIE) or ""


def require_role(user: WebUser, *roles: Role) -> None:
    if user.role not in roles:
        raise PageRefused(
            403,
            user.locale.gettext("Not for your role"),
            user.locale.gettext("Your role may not use this page."),
        )


def set_flash(response: Response, message: str) -> None:
    """A one-time message shown by the next page (translated by the caller)."""
    response.set_cookie(
        FLASH_COOKIE, quote(message), max_age=60, path="/", httponly=True, samesite="lax"
    )


def read_flash(value: str | None) -> str | None:
    return unquote(value) if value else None


def session_lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.web_session_hours)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
