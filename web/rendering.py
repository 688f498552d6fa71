"""Jinja2 environments, one per language, and the function that renders a page."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from web.deps import WebUser, app_state, read_flash
from web.i18n import LANGUAGE_NAMES, LANGUAGES, Locale, locale
from web.nav import items_for
from web.security import CSRF_FIELD, FLASH_COOKIE

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment(language: str) -> Environment:
    lang = locale(language)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "svg"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lang.gettext, lang.ngettext, newstyle=True
    )
    env.filters.update(
        datetime=lang.when,
        date=lang.day,
        number=lang.number,
        percent=lang.percent,
        # A value whose English label is in the catalogs (a state, a role, a priority).
        label=lambda value: lang.gettext(str(value)),
    )
    env.globals.update(
        language=lang.language,
        direction=lang.direction,
        language_names=LANGUAGE_NAMES,
        languages=LANGUAGES,
        csrf_field=CSRF_FIELD,
    )
    return env


def render(
    request: Request,
    name: str,
    *,
    user: WebUser | None,
    locale: Locale | None = None,
    csrf_token: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render `name` for `user` (or an anonymous visitor, in `locale`) as an HTML response."""
    if locale is None:
        if user is None:
            raise ValueError("an anonymous page needs a locale")
        locale = user.locale
    state = app_state(request)
    flash = read_flash(request.cookies.get(FLASH_COOKIE))
    nav = items_for(user.actor.role, embedded=state.embedded) if user is not None else []
    path = request.url.path
    here = path + (f"?{request.url.query}" if request.url.query else "")
    values = {
        "request": request,
        "user": user,
        "nav": nav,
        "path": path,
        "here": here,
        "here_quoted": quote(here, safe=""),
        "csrf_token": user.csrf_token if user is not None else csrf_token,
        "flash": flash,
        **context,
    }
    html = environment(locale.language).get_template(name).render(values)
    response = HTMLResponse(html, status_code=status_code)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
