"""Which messages the web interface uses, and which each catalog lacks.

Messages are extracted from the templates (`{{ _("...") }}`, `{% trans %}`) and from the
Python code of the `web` package (`_("...")`, `gettext("...")`). Run
`python -m web.catalogs` to list what each language lacks, or
`python -m web.catalogs add AREA [SOURCE...]` to append the missing messages (of the files
under `web/` whose path starts with a SOURCE, if given), untranslated, to
`locales/{lang}/LC_MESSAGES/AREA.po` for every language (English is filled with the source
text) so that a translator can complete them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from web.i18n import LANGUAGES

PACKAGE = Path(__file__).parent
JINJA_OPTIONS = {"silent": "false", "trimmed": "true", "newstyle_gettext": "true"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def used_messages(*sources: str) -> dict[str, str | None]:
    """msgid -> plural msgid (or None) for every message the templates and code use.

    With `sources` (paths relative to `web/`, e.g. "templates/issues", "routes/issues.py"),
    only the messages of files whose path starts with one of them.
    """
    found: dict[str, str | None] = {}
    templates = extract_from_dir(
        PACKAGE / "templates",
        method_map=[("**.html", "jinja2"), ("**.svg", "jinja2")],
        options_map={"**.html": JINJA_OPTIONS, "**.svg": JINJA_OPTIONS},
        keywords=KEYWORDS,
    )
    code = extract_from_dir(PACKAGE, method_map=[("**.py", "python")], keywords=KEYWORDS)
    templates = (("templates/" + t[0], *t[1:]) for t in templates)
    for file, _line, message, _comments, _context in (*templates, *code):
        if sources and not any(file.startswith(prefix) for prefix in sources):
            continue
        if isinstance(message, tuple):
            if message[0]:
                found[message[0]] = message[1]
        elif message:
            found[message] = None
    return found


def _read(path: Path, language: str) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=language)


def catalog_path(language: str, area: str) -> Path:
    return PACKAGE / "locales" / language / "LC_MESSAGES" / f"{area}.po"


def translated(language: str) -> dict[str, object]:
    """msgid -> translation (a string, or a tuple of plural forms) over every area file."""
    result: dict[str, object] = {}
    for path in sorted((PACKAGE / "locales" / language / "LC_MESSAGES").glob("*.po")):
        for message in _read(path, language):
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            result[key] = message.string
    return result


def _complete(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, tuple | list):
        return bool(value) and all(isinstance(v, str) and v.strip() for v in value)
    return False


def missing(language: str) -> list[str]:
    """Messages used by the interface with no complete translation in `language`."""
    have = translated(language)
    return sorted(m for m in used_messages() if not _complete(have.get(m)))


def add_missing(area: str, *sources: str) -> dict[str, int]:
    """Append missing messages (of `sources` only, if given) to AREA.po of each language."""
    used = used_messages(*sources)
    counts: dict[str, int] = {}
    for language in LANGUAGES:
        have = translated(language)
        path = catalog_path(language, area)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = (
            _read(path, language)
            if path.exists()
            else Catalog(
                locale=language,
                project="iscflow",
                header_comment=f"# iscflow web interface: {area} ({language}).",
                fuzzy=False,
            )
        )
        added = 0
        for msgid, plural in used.items():
            if msgid in have:
                continue
            english = language == "en"
            if plural is None:
                catalog.add(msgid, msgid if english else "")
            else:
                catalog.add((msgid, plural), (msgid, plural) if english else ("", ""))
            added += 1
        with path.open("wb") as out:
            write_po(out, catalog, width=100, omit_header=False)
        counts[language] = added
    return counts


def main(argv: list[str]) -> int:
    if argv[:1] == ["add"] and len(argv) >= 2:
        print(add_missing(argv[1], *argv[2:]))
        return 0
    if argv:
        print(__doc__)
        return 2
    lacking = {language: missing(language) for language in LANGUAGES}
    for language, messages in lacking.items():
        for message in messages:
            print(f"{language}\t{message}")
    return 1 if any(lacking.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
