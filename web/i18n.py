"""Catalogs, locale formatting and the language of a request.

Every page string goes through gettext. Catalogs live in
`web/locales/{lang}/LC_MESSAGES/*.po`, one file per area of the interface (so that areas can
be translated independently); all files of a language are merged into one catalog and compiled
in memory on first use, so no `.mo` build step is needed.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from importlib.resources import files
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from notifications.render import LANGUAGES, RTL_LANGUAGES, supported_language

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "RTL_LANGUAGES", "Locale", "supported_language"]

TIMEZONE = ZoneInfo("Europe/Zurich")

# Each language named in itself, as a language switcher shows it.
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}


def catalog_files(language: str) -> list[str]:
    """Names of the .po files of `language`, sorted."""
    folder = files("web").joinpath("locales", language, "LC_MESSAGES")
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".po"))


@functools.cache
def catalog(language: str) -> Catalog:
    """All the web catalogs of `language`, merged."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {LANGUAGES}")
    merged = Catalog(locale=language, domain="web")
    folder = files("web").joinpath("locales", language, "LC_MESSAGES")
    for name in catalog_files(language):
        with folder.joinpath(name).open("rb") as source:
            for message in read_po(source, locale=language):
                if message.id:
                    merged[message.id] = message
    return merged


@functools.cache
def translations(language: str) -> Translations:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language))
    compiled.seek(0)
    return Translations(fp=compiled)


class Locale:
    """Translation and formatting in one language, as templates and handlers use them."""

    def __init__(self, language: str) -> None:
        self.language = supported_language(language)
        self.direction = "rtl" if self.language in RTL_LANGUAGES else "ltr"
        self._translations = translations(self.language)

    def gettext(self, message: str) -> str:
        return str(self._translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(self._translations.ngettext(singular, plural, n))

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="medium", tzinfo=TIMEZONE, locale=self.language)

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(TIMEZONE).date()
        return format_date(value, format="medium", locale=self.language)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.language)

    def percent(self, value: float) -> str:
        """`value` is a fraction (0.25 is 25 %)."""
        return format_percent(value, locale=self.language)


@functools.cache
def locale(language: str) -> Locale:
    return Locale(language)


def gettext_for(language: str) -> Callable[[str], str]:
    return locale(language).gettext


def _(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message
