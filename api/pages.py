"""Server-rendered pages: Jinja2 templates under api/templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def message_page(
    request: Request,
    *,
    title: str,
    message: str,
    status_code: int,
    tone: str = "",
    issue_url: str | None = None,
) -> HTMLResponse:
    return page(
        request,
        "message.html",
        status_code=status_code,
        title=title,
        message=message,
        tone=tone,
        issue_url=issue_url,
    )
