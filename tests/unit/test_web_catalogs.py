"""Every message the web interface uses is translated in all six languages."""

from __future__ import annotations

import pytest

from web.catalogs import missing, used_messages
from web.i18n import LANGUAGES, Locale


def test_the_extractor_finds_the_messages_of_templates_and_code() -> None:
    used = used_messages()

    assert "Sign in" in used  # a template
    assert "The e-mail address or the password is not right." in used  # a handler
    assert "focal_point" in used  # a label of a code


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_misses_a_message(language: str) -> None:
    assert missing(language) == []


def test_arabic_reads_right_to_left_and_the_others_left_to_right() -> None:
    assert Locale("ar").direction == "rtl"
    assert {Locale(code).direction for code in LANGUAGES if code != "ar"} == {"ltr"}


def test_dates_and_numbers_follow_the_locale() -> None:
    from datetime import date

    day = date(2026, 3, 5)
    assert Locale("fr").day(day) == "5 mars 2026"
    assert Locale("en").number(12345.5) == "12,345.5"
    assert Locale("fr").number(12345.5) == "12\u202f345,5"
    assert Locale("zh").day(day) == "2026年3月5日"
