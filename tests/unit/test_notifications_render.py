"""E-mail notifications render every kind in the six languages from complete catalogs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from markupsafe import escape

import notifications
from notifications.render import (
    KINDS,
    LANGUAGES,
    RTL_LANGUAGES,
    DigestItem,
    NotificationContext,
    RenderedMessage,
    render,
    supported_language,
)

PACKAGE = Path(notifications.__file__).parent
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
ACTION_KINDS = {"escalation_requested", "escalation_pending"}

TITLE = "Accessible PDFs for Council documents"
PREFERENCES_URL = "https://iscflow.example.org/me/preferences"
ACTION_URL = "https://iscflow.example.org/act?token=s1gn3d&decision=ask"
DEADLINE = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)  # 10:30 in Geneva (CET)
ITEMS = [
    DigestItem(
        title="Tagged agendas for study groups",
        state="escalation_requested",
        url="https://iscflow.example.org/issues/KI-2025-021",
        since=datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
    ),
    DigestItem(
        title="Captioning of webcasts",
        state="open",
        url="https://iscflow.example.org/issues/KI-2025-022",
        since=datetime(2025, 3, 5, 15, 45, tzinfo=UTC),
    ),
]
FULL = NotificationContext(
    recipient_name="Amina Diallo",
    issue_id="KI-2025-014",
    issue_title=TITLE,
    theme_name="Accessibility",
    state="escalation_requested",
    level_name="ISC-TF",
    deadline=DEADLINE,
    days_left=3,
    actor_name="Li Wei",
    reason="The theme's focal points could not agree on the format.",
    outcome="referred_back",
    decision_text="The task force asks the focal points to consult the Sectors again.",
    reminder_count=2,
    issue_url="https://iscflow.example.org/issues/KI-2025-014",
    action_url=ACTION_URL,
    preferences_url=PREFERENCES_URL,
    items=ITEMS,
    meeting_title=f"ISC-TF meeting 40: {TITLE}",
    starts_at=DEADLINE,
    place="Geneva, Popov room",
    virtual_link="https://meet.example.org/isc-tf-40",
    agenda=[TITLE, "Accessibility: theme update"],
)


def _with(**changes: object) -> NotificationContext:
    return FULL.model_copy(update=changes)


def _body(message: RenderedMessage) -> str:
    return message.subject + "\n" + message.text + "\n" + message.html


# --- every kind in every language -------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language(kind: str, language: str) -> None:
    message = render(kind, language, FULL)

    assert message.language == language
    assert message.subject.strip() == message.subject
    assert message.subject.startswith("[ISC-TF] ")
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.text.strip() and message.html.strip()
    direction = "rtl" if language in RTL_LANGUAGES else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in message.html
    assert message.html.lstrip().startswith("<!DOCTYPE html>")
    assert message.html.rstrip().endswith("</html>")

    titles = [item.title for item in ITEMS] if kind == "digest" else [TITLE]
    for title in titles:
        assert title in message.text and title in message.html
    if kind != "digest":
        assert TITLE in message.subject
    for part in (message.text, message.html):
        assert PREFERENCES_URL in part

    action_shown = ACTION_URL in message.text and str(escape(ACTION_URL)) in message.html
    assert action_shown == (kind in ACTION_KINDS)

    for part in (message.subject, message.text, message.html):
        assert "None" not in part
        assert "%(" not in part, "a placeholder was left unformatted"


@pytest.mark.parametrize("kind", KINDS)
def test_html_uses_inline_styles_and_no_external_resources(kind: str) -> None:
    page = render(kind, "en", FULL).html.lower()

    for forbidden in ("<link", "<style", "<script", "<img", "<iframe", "src=", "url(", "@import"):
        assert forbidden not in page
    assert 'style="' in page


def test_arabic_html_is_aligned_right_and_others_left() -> None:
    assert "text-align:right" in render("issue_raised", "ar", FULL).html
    assert "text-align:right" not in render("issue_raised", "fr", FULL).html


# --- catalogs -----------------------------------------------------------------------------------

MessageKey = tuple[str | None, str, str | None]


def _template_msgids() -> set[MessageKey]:
    with (PACKAGE / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")  # type: ignore[no-untyped-call]
    keys: set[MessageKey] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        PACKAGE / "templates", method_map, options_map
    ):
        if isinstance(message, tuple):
            keys.add((context, message[0], message[1]))
        else:
            keys.add((context, message, None))
    return keys


def _catalog(language: str) -> Catalog:
    path = PACKAGE / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po)


def _catalog_msgids(catalog: Catalog) -> set[MessageKey]:
    keys: set[MessageKey] = set()
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            keys.add((message.context, message.id, None))
        else:
            keys.add((message.context, message.id[0], message.id[1]))
    return keys


def test_templates_use_a_reasonable_number_of_messages() -> None:
    keys = _template_msgids()

    assert len(keys) > 50
    assert any(plural for _context, _msgid, plural in keys), "no pluralised message found"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_exactly_the_template_messages(language: str) -> None:
    catalog = _catalog(language)

    assert _catalog_msgids(catalog) == _template_msgids()
    assert not catalog.obsolete


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_plural_forms_follow_cldr(language: str) -> None:
    catalog = _catalog(language)
    expected = get_plural(language)

    assert catalog.num_plurals == expected.num_plurals
    assert catalog.plural_forms == expected.plural_forms


def test_plural_form_counts_of_the_hard_languages() -> None:
    assert {lang: _catalog(lang).num_plurals for lang in ("ar", "ru", "zh")} == {
        "ar": 6,
        "ru": 3,
        "zh": 1,
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_every_plural_form(language: str) -> None:
    catalog = _catalog(language)

    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        label = f"{language}: {message.id!r}"
        assert not message.fuzzy, label
        if message.pluralizable:
            assert isinstance(message.string, tuple), label
            assert len(message.string) == catalog.num_plurals, label
            assert all(form.strip() for form in message.string), label
        else:
            assert isinstance(message.string, str) and message.string.strip(), label


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_placeholders_are_valid(language: str) -> None:
    problems = [(message.id, errors) for message, errors in _catalog(language).check()]

    assert problems == []


# --- translation, dates, codes ------------------------------------------------------------------

KNOWN_PHRASES = {
    "en": "Approve or return the request",
    "ar": "الموافقة على الطلب أو إعادته",
    "zh": "批准或退回请求",
    "fr": "Approuver ou retourner la demande",
    "ru": "Утвердить или вернуть запрос",
    "es": "Aprobar o devolver la solicitud",
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_non_english_message_is_translated(language: str) -> None:
    english = render("escalation_requested", "en", FULL)
    message = render("escalation_requested", language, FULL)

    assert KNOWN_PHRASES[language] in message.html
    assert KNOWN_PHRASES["en"] not in message.html
    assert message.subject != english.subject
    assert message.text != english.text
    assert "Dear" not in message.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_deadline_is_formatted_for_the_locale_in_geneva_time(language: str) -> None:
    expected = format_datetime(
        DEADLINE, format="medium", locale=language, tzinfo=ZoneInfo("Europe/Zurich")
    )

    message = render("discussion_reminder", language, FULL)

    assert "10:30" in expected
    assert expected in message.text


def test_digest_dates_are_locale_formatted() -> None:
    since = format_datetime(
        ITEMS[0].since, format="medium", locale="fr", tzinfo=ZoneInfo("Europe/Zurich")
    )

    assert since in render("digest", "fr", FULL).text


def test_state_and_outcome_codes_are_shown_as_translated_words() -> None:
    english = render("decision_recorded", "en", FULL)
    french = render("decision_recorded", "fr", FULL)

    assert "Current state: escalation requested" in english.text
    assert "referred back to the focal points" in english.text
    assert "renvoi à l'échelon supérieur demandé" in french.text
    assert "renvoyée aux points focaux" in french.text
    for message in (english, french):
        assert "escalation_requested" not in _body(message)
        assert "referred_back" not in _body(message)


def test_default_level_names_are_translated_and_others_kept() -> None:
    committee = _with(level_name="Coordination Committee")
    custom = _with(level_name="Plenipotentiary Conference")

    assert "Координационный комитет" in render("escalation_approved", "ru", committee).text
    assert "the Coordination Committee" in render("escalation_approved", "en", committee).text
    assert "Plenipotentiary Conference" in render("escalation_approved", "es", custom).text


def test_digest_subject_counts_the_items() -> None:
    assert "2 items await" in render("digest", "en", FULL).subject
    assert "1 item awaits" in render("digest", "en", _with(items=ITEMS[:1])).subject


def test_empty_digest_says_nothing_waits() -> None:
    message = render("digest", "en", _with(items=[]))

    assert "Nothing awaits your attention today." in message.text


# --- plurals ------------------------------------------------------------------------------------


def test_days_left_is_pluralised_in_english() -> None:
    one = render("discussion_reminder", "en", _with(days_left=1))
    five = render("discussion_reminder", "en", _with(days_left=5))

    assert "ends in 1 working day," in one.text
    assert "ends in 5 working days," in five.text
    assert "1 working day left" in one.subject
    assert "5 working days left" in five.subject


@pytest.mark.parametrize(
    ("days", "wording"),
    [(1, "1 рабочий день"), (3, "3 рабочих дня"), (5, "5 рабочих дней"), (21, "21 рабочий день")],
)
def test_days_left_follows_russian_plural_rules(days: int, wording: str) -> None:
    assert wording in render("discussion_reminder", "ru", _with(days_left=days)).text


def _shape(text: str, count: int) -> str:
    """The wording around a count, with the count itself blanked out."""
    return re.sub(rf"(?<!\d){count}(?!\d)", "N", text)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_days_left_wording_differs_between_one_and_five(language: str) -> None:
    one = render("discussion_reminder", language, _with(days_left=1)).subject
    five = render("discussion_reminder", language, _with(days_left=5)).subject

    assert _shape(one, 1) != _shape(five, 5)


def test_arabic_uses_its_six_plural_forms() -> None:
    counts = (0, 1, 2, 3, 11, 100)
    subjects = {n: render("discussion_reminder", "ar", _with(days_left=n)).subject for n in counts}

    assert len({_shape(subject, n) for n, subject in subjects.items()}) == 6
    assert "يومَي عمل" in render("discussion_reminder", "ar", _with(days_left=2)).text


def test_reminder_count_is_pluralised() -> None:
    first = render("escalation_pending", "en", _with(reminder_count=1)).text
    third = render("escalation_pending", "en", _with(reminder_count=3)).text

    assert "1 reminder has been sent" in first
    assert "3 reminders have been sent" in third


# --- escaping -----------------------------------------------------------------------------------


def test_html_escapes_user_text_and_plain_text_does_not() -> None:
    hostile = "<script>alert(1)</script> & more"
    context = _with(issue_title=hostile, reason="<b>bold</b> claim")

    message = render("escalation_requested", "en", context)

    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in message.html
    assert "&lt;b&gt;bold&lt;/b&gt;" in message.html
    assert hostile in message.text
    assert "<b>bold</b> claim" in message.text
    assert "&lt;" not in message.text
    assert hostile in message.subject


def test_subject_is_one_line_even_if_the_title_has_line_breaks() -> None:
    message = render("issue_raised", "en", _with(issue_title="Line one\nLine two"))

    assert message.subject == "[ISC-TF] New key issue: Line one Line two"


# --- errors and languages -----------------------------------------------------------------------


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="issue_exploded"):
        render("issue_exploded", "en", FULL)


@pytest.mark.parametrize("language", ["de", "fr-CH", "EN", ""])
def test_unknown_language_is_refused(language: str) -> None:
    with pytest.raises(ValueError, match=f"'{language}'"):
        render("issue_raised", language, FULL)


def test_missing_required_field_is_refused() -> None:
    with pytest.raises(ValueError, match="action_url"):
        render("escalation_requested", "en", _with(action_url=None))


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("fr-CH", "fr"),
        ("FR", "fr"),
        ("zh_Hant_TW", "zh"),
        ("ar-EG", "ar"),
        ("ru_RU.UTF-8", "ru"),
        (" es ", "es"),
        ("en-GB", "en"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_supported_language_normalises(tag: str | None, language: str) -> None:
    assert supported_language(tag) == language
