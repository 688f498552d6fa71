"""Reference pages: the ISCG mapping table, the Council report download, the mail outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.routes.mail import OutboxStatus
from api.routes.reports import EARLIEST, LATEST, MEDIA, READERS
from domain.roles import Role
from iscflow.report import build_report
from iscflow.report import render as render_report
from storage import directory, mapping, outbox
from web.deps import PageRefused, UserDep, WebStateDep, WebUser, require_role
from web.i18n import LANGUAGES, Locale, _
from web.rendering import render

router = APIRouter(include_in_schema=False)

FORMATS = {"md": _("Markdown"), "html": _("Web page (HTML)"), "xlsx": _("Excel workbook")}
OUTBOX_STATUSES: dict[OutboxStatus, str] = {
    "pending": _("Waiting to be sent"),
    "sent": _("Sent"),
    "retrying": _("Failed, will be tried again"),
    "held": _("Held for the daily digest"),
    "digested": _("Sent in a daily digest"),
}
MAIL_READERS = (Role.SECRETARIAT, Role.ADMIN)
PAGE_SIZE = 50


def _field(params: Any, name: str, limit: int = 200) -> str:
    value = params.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


# The mapping table.


@router.get("/mapping", response_class=HTMLResponse)
def mapping_table(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    params = request.query_params
    topic = _field(params, "topic")
    theme = _field(params, "theme", 64) or None
    sector = _field(params, "sector", 16) or None
    with Session(state.engine) as session:
        themes = {t.code: t.name for t in directory.list_themes(session=session)}
        sectors = {s.code: s.name for s in directory.list_sectors(session=session)}
        entries = mapping.list_entries(session=session, topic=topic, theme=theme, sector=sector)
    return render(
        request, "reference/mapping.html", user=user, title=user.locale.gettext("Mapping table"),
        entries=entries, themes=themes, sectors=sectors,
        given={"topic": topic, "theme": theme or "", "sector": sector or ""},
    )  # fmt: skip


# The report to Council.


@dataclass(frozen=True)
class ReportRequest:
    start: date
    end: date
    format: str
    language: str


def _day(lang: Locale, text: str, name: str, errors: dict[str, str]) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = lang.gettext("Enter a date, for example 2021-03-31.")
        return None
    if not EARLIEST <= day <= LATEST:
        errors[name] = lang.gettext("Enter a date between %(first)s and %(last)s.") % {
            "first": lang.day(EARLIEST),
            "last": lang.day(LATEST),
        }
        return None
    return day


def read_report_request(
    lang: Locale, params: dict[str, str]
) -> tuple[ReportRequest | None, dict[str, str]]:
    """The report asked for, or the reason each field cannot be used (by field name)."""
    errors: dict[str, str] = {}
    start = _day(lang, params.get("from", "").strip(), "from", errors)
    end = _day(lang, params.get("to", "").strip(), "to", errors)
    if start is not None and end is not None and end < start:
        errors["to"] = lang.gettext("The end of the period comes before its start.")
    fmt = params.get("format", "")
    if fmt not in FORMATS:
        errors["format"] = lang.gettext("Choose one of the formats.")
    language = params.get("lang", "")
    if language not in LANGUAGES:
        errors["lang"] = lang.gettext("Choose one of the six languages.")
    if errors or start is None or end is None:
        return None, errors
    return ReportRequest(start, end, fmt, language), {}


def _report_form(
    request: Request, user: WebUser, given: dict[str, str], errors: dict[str, str]
) -> HTMLResponse:
    return render(
        request, "reference/reports.html", user=user, status_code=422 if errors else 200,
        title=user.locale.gettext("Reports"), given=given, errors=errors, formats=FORMATS,
    )  # fmt: skip


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, user: UserDep) -> HTMLResponse:
    require_role(user, *READERS)
    today = datetime.now(UTC).date()
    given = {
        "from": date(today.year, 1, 1).isoformat(),
        "to": today.isoformat(),
        "format": "html",
        "lang": user.locale.language,
    }
    return _report_form(request, user, given, {})


@router.get("/reports/council", response_class=Response)
def council_report(request: Request, user: UserDep, state: WebStateDep) -> Response:
    require_role(user, *READERS)
    params = request.query_params
    given = {k: _field(params, k, 40) for k in ("from", "to", "format", "lang")}
    asked, errors = read_report_request(user.locale, given)
    if asked is None:
        return _report_form(request, user, given, errors)
    with Session(state.engine) as session:
        report = build_report(
            session=session,
            start=asked.start,
            end=asked.end,
            now=datetime.now(UTC),
            long_outstanding_years=state.settings.recommendations.policy.long_outstanding_years,
        )
    name = f"iscflow-council-{asked.start.isoformat()}-{asked.end.isoformat()}.{asked.format}"
    return Response(
        render_report(report, asked.format, asked.language),
        media_type=MEDIA[asked.format],
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


# The mail outbox (embedded mode only: the local mail sink is what it shows).


def _mail_reader(user: WebUser, embedded: bool) -> None:
    if not embedded:
        raise PageRefused(
            404,
            user.locale.gettext("Page not found"),
            user.locale.gettext("The mail outbox is shown only when iscflow runs on its own."),
        )
    require_role(user, *MAIL_READERS)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_list(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    _mail_reader(user, state.embedded)
    status = _field(request.query_params, "status", 16)
    chosen = status if status in OUTBOX_STATUSES else None
    page_text = _field(request.query_params, "page", 9)
    page = int(page_text) if page_text.isdecimal() and int(page_text) > 0 else 1
    with Session(state.engine) as session:
        rows, total = outbox.list_outbox(
            session=session, status=chosen, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    return render(
        request, "reference/outbox.html", user=user, title=user.locale.gettext("Mail outbox"),
        rows=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        status=chosen or "", statuses=OUTBOX_STATUSES,
    )  # fmt: skip


@router.get("/outbox/{message_id}", response_class=HTMLResponse)
def outbox_message(
    request: Request, message_id: str, user: UserDep, state: WebStateDep
) -> HTMLResponse:
    _mail_reader(user, state.embedded)
    found = None
    if message_id.isdecimal() and len(message_id) <= 18:
        with Session(state.engine) as session:
            found = outbox.get_outbox(session=session, outbox_id=int(message_id))
    if found is None:
        raise PageRefused(
            404,
            user.locale.gettext("Page not found"),
            user.locale.gettext("There is no message %(id)s in the outbox.") % {"id": message_id},
        )
    return render(
        request, "reference/outbox_message.html", user=user, title=found.subject,
        message=found, statuses=OUTBOX_STATUSES,
    )  # fmt: skip
