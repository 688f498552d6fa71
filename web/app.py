"""Mount the web interface on the application: pages, static files, error pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web.deps import PageRefused, SignInRequired, current_user, request_locale
from web.rendering import render
from web.routes import (
    approvals,
    dashboard,
    home,
    issues,
    links,
    meetings,
    oversight,
    reference,
    risks,
    session,
)

STATIC = Path(__file__).parent / "static"

ROUTERS = (
    session.router,
    home.router,
    issues.router,
    approvals.router,
    links.router,
    dashboard.router,
    reference.router,
    meetings.router,
    oversight.router,
    risks.router,
)


def install_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(f"/sign-in?next={quote(error.next_path, safe='')}", 303)

    @app.exception_handler(PageRefused)
    async def _refused(request: Request, error: PageRefused) -> Response:
        from web.deps import app_state

        user = current_user(request, app_state(request))
        return render(
            request,
            "error.html",
            user=user,
            locale=user.locale if user else request_locale(request),
            status_code=error.status_code,
            title=error.title,
            message=error.message,
        )
