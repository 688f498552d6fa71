"""Render notification e-mails (subject, plain text, HTML) in the six UN languages.

Templates live in `templates/email/`, catalogs in `locales/{lang}/LC_MESSAGES/messages.po`.
The PO files are compiled in memory on first use, so no `.mo` build step is needed.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from datetime import datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"
KINDS: tuple[str, ...] = (
    "issue_raised",
    "discussion_reminder",
    "deadline_passed",
    "escalation_requested",
    "escalation_pending",
    "escalation_approved",
    "escalation_returned",
    "decision_recorded",
    "digest",
    "meeting_agenda",
    "meeting_updated",
    "minutes_reminder",
    "recommendation_due",
    "recommendation_overdue",
    "recommendation_returned",
)
TIMEZONE = "Europe/Zurich"
TEMPLATE_DIR = "email"

_ISSUE = ("issue_title", "issue_url")
# The fields without which a kind's message would be meaningless; the rest are optional.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "issue_raised": (*_ISSUE, "theme_name", "actor_name"),
    "discussion_reminder": (*_ISSUE, "deadline", "days_left"),
    "deadline_passed": _ISSUE,
    "escalation_requested": (*_ISSUE, "level_name", "action_url"),
    # The secretariat's copy of an approver reminder carries no action link.
    "escalation_pending": (*_ISSUE, "level_name", "reminder_count"),
    "escalation_approved": (*_ISSUE, "level_name"),
    "escalation_returned": (*_ISSUE, "reason", "deadline"),
    "decision_recorded": (*_ISSUE, "outcome", "decision_text"),
    "digest": (),
    "meeting_agenda": ("meeting_title", "starts_at"),
    "meeting_updated": ("meeting_title", "starts_at"),
    "minutes_reminder": ("meeting_title", "starts_at", "reminder_count"),
    # Recommendations: `issue_*` name the recommendation, `deadline` is its target date.
    "recommendation_due": (*_ISSUE, "deadline", "days_left"),
    "recommendation_overdue": (*_ISSUE, "deadline"),
    "recommendation_returned": (*_ISSUE, "reason"),
}

_BLANK_LINES = re.compile(r"\n{3,}")


class DigestItem(pydantic.BaseModel):
    """One line of a digest: something that waits for the recipient."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    title: str
    state: str
    url: str
    since: datetime


class NotificationContext(pydantic.BaseModel):
    """Everything a template may use."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    recipient_name: str
    issue_id: str | None = None
    issue_title: str | None = None
    theme_name: str | None = None
    state: str | None = None
    level_name: str | None = None
    deadline: datetime | None = None
    days_left: int | None = None
    actor_name: str | None = None
    reason: str | None = None
    outcome: str | None = None
    decision_text: str | None = None
    reminder_count: int | None = None
    issue_url: str | None = None
    action_url: str | None = None
    preferences_url: str
    items: list[DigestItem] = []
    # Task-force meetings.
    meeting_title: str | None = None
    starts_at: datetime | None = None
    place: str | None = None
    virtual_link: str | None = None
    agenda: list[str] = []


class RenderedMessage(pydantic.BaseModel):
    """A message ready to send: one-line subject, plain-text and HTML bodies."""

    model_config = pydantic.ConfigDict(frozen=True)

    language: str
    subject: str
    text: str
    html: str


def supported_language(language: str | None) -> str:
    """Map a language tag such as "fr-CH" or "FR" to one of LANGUAGES, else English."""
    if not language:
        return DEFAULT_LANGUAGE
    primary = re.split(r"[-_.@]", language.strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def render(kind: str, language: str, context: NotificationContext) -> RenderedMessage:
    """Render the message `kind` in `language`; ValueError for an unknown kind or language."""
    _check(kind, language, context)
    environment = _environment(language)
    values = _template_values(language, context)
    subject = _one_line(_render_template(environment, f"{kind}.subject.txt", values))
    values["subject"] = subject
    text = _tidy_text(_render_template(environment, f"{kind}.txt", values))
    html = _render_template(environment, f"{kind}.html", values)
    return RenderedMessage(language=language, subject=subject, text=text, html=html)


def _check(kind: str, language: str, context: NotificationContext) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; expected one of {KINDS}")
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    missing = [name for name in REQUIRED_FIELDS[kind] if getattr(context, name) is None]
    if missing:
        raise ValueError(f"notification kind {kind!r} needs {', '.join(missing)}")


def _template_values(language: str, context: NotificationContext) -> dict[str, Any]:
    rtl = language in RTL_LANGUAGES
    values = {name: getattr(context, name) for name in NotificationContext.model_fields}
    values.update(
        language=language,
        direction="rtl" if rtl else "ltr",
        start="right" if rtl else "left",
        end="left" if rtl else "right",
    )
    return values


def _render_template(environment: Environment, name: str, values: dict[str, Any]) -> str:
    return environment.get_template(f"{TEMPLATE_DIR}/{name}").render(values)


def _one_line(subject: str) -> str:
    return " ".join(subject.split())


def _tidy_text(text: str) -> str:
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", lines).strip() + "\n"


@functools.cache
def _environment(language: str) -> Environment:
    environment = Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.policies["ext.i18n.trimmed"] = True
    # Added by the i18n extension at run time, hence unknown to the type checker.
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        _translations(language), newstyle=True
    )
    environment.filters["datetime"] = functools.partial(_format_datetime, language=language)
    environment.filters["day"] = functools.partial(_format_day, language=language)
    return environment


@functools.cache
def _translations(language: str) -> Translations:
    po_file = files("notifications").joinpath("locales", language, "LC_MESSAGES", "messages.po")
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def _format_datetime(value: datetime, language: str) -> str:
    return format_datetime(value, format="medium", locale=language, tzinfo=ZoneInfo(TIMEZONE))


def _format_day(value: datetime, language: str) -> str:
    """The calendar day of `value` in Geneva, without the time (e.g. a target date)."""
    return format_date(value.astimezone(ZoneInfo(TIMEZONE)).date(), format="long", locale=language)


def report_environment(language: str) -> Environment:
    """The Jinja environment of the Council report (templates under `report/`)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    environment = _environment(language).overlay()
    environment.globals["language"] = language
    environment.globals["direction"] = "rtl" if language in RTL_LANGUAGES else "ltr"
    return environment


def gettext_for(language: str) -> Callable[[str], str]:
    """A plain gettext in `language`, for text built outside templates."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    translations = _translations(language)

    def translate(message: str) -> str:
        return str(translations.gettext(message))

    return translate
