"""The mapping table's pivot, its CSV/XLSX/HTML renderings and the CSV import parser."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html.parser import HTMLParser

import openpyxl
import pytest

from iscflow.cli_mapping import Format
from iscflow.mapping_export import (
    ExportFormat,
    ImportRow,
    MappingImportError,
    header,
    parse_import,
    table,
    to_csv,
    to_html,
    to_xlsx,
)
from storage.mapping import MappingPivot, build_pivot
from storage.models import MappingEntryRow

NOW = datetime(2025, 3, 1, tzinfo=UTC)
SECTORS = ["GS", "ITU-D", "ITU-R", "ITU-T"]
THEMES = {"accessibility": "Accessibility", "gender": "Gender"}
ARABIC, CHINESE, RUSSIAN = "لجنة الدراسات 5", "第5研究组", "Исследовательская комиссия 5"


def _entry(
    topic: str, sector: str, entity: str, contact: str = "", theme: str | None = None
) -> MappingEntryRow:
    return MappingEntryRow(
        topic=topic,
        sector_code=sector,
        entity=entity,
        contact=contact,
        theme_code=theme,
        updated_at=NOW,
    )


def _pivot(*entries: MappingEntryRow) -> MappingPivot:
    return build_pivot(sectors=SECTORS, entries=entries, themes=THEMES)


def _multilingual() -> MappingPivot:
    return _pivot(
        _entry("Climate change", "ITU-D", ARABIC, "d@example.org"),
        _entry("Climate change", "ITU-R", CHINESE, "r@example.org", "accessibility"),
        _entry("Climate change", "ITU-T", RUSSIAN),
        _entry("Accessibility", "GS", "<script>alert(1)</script>", "a&b@example.org"),
    )


def test_pivot_has_one_row_per_topic_in_alphabetical_order_ignoring_case() -> None:
    pivot = _pivot(_entry("b", "GS", "x"), _entry("Climate", "GS", "y"), _entry("a", "GS", "z"))
    assert [r.topic for r in pivot.rows] == ["a", "b", "Climate"]


def test_pivot_leaves_sectors_without_an_entry_blank() -> None:
    row = _pivot(_entry("Gender", "ITU-T", "WISE", "wise@example.org")).rows[0]
    assert (row.cells["ITU-T"].entity, row.cells["ITU-T"].contact) == ("WISE", "wise@example.org")
    assert (row.cells["GS"].entity, row.cells["GS"].contact) == ("", "")


def test_pivot_names_the_theme_of_the_first_sector_that_gives_one() -> None:
    pivot = _pivot(
        _entry("T", "GS", "x"), _entry("T", "ITU-R", "y", theme="gender"), _entry("U", "GS", "z")
    )
    assert [r.theme for r in pivot.rows] == ["Gender", ""]


def test_header_has_an_entity_and_a_contact_column_per_sector() -> None:
    assert header(_pivot()) == [
        "Topic", "Theme", "GS entity", "GS contact", "ITU-D entity", "ITU-D contact",
        "ITU-R entity", "ITU-R contact", "ITU-T entity", "ITU-T contact",
    ]  # fmt: skip


def test_csv_starts_with_a_byte_order_mark_and_reads_back_non_latin_cells() -> None:
    pivot = _multilingual()
    text = to_csv(pivot)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig"))))
    assert rows == [header(pivot), *table(pivot)]
    assert {ARABIC, CHINESE, RUSSIAN} <= {cell for row in rows for cell in row}


def test_csv_quotes_cells_a_spreadsheet_would_run_as_formulas() -> None:
    text = to_csv(_pivot(_entry("=HYPERLINK(1)", "GS", "@SUM(A1)", "-1+2")))
    row = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1]
    assert (row[0], row[2], row[3]) == ("'=HYPERLINK(1)", "'@SUM(A1)", "'-1+2")


def test_xlsx_has_the_same_cells_a_bold_frozen_header_and_sized_columns() -> None:
    pivot = _multilingual()
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(pivot))).active
    values = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values == [header(pivot), *table(pivot)]
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet["A2"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["B"].width


def test_xlsx_keeps_formula_like_text_as_text() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(_pivot(_entry("=1+1", "GS", "x"))))).active
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("=1+1", "s")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_a_complete_document_with_caption_and_column_headers() -> None:
    document = to_html(_multilingual())
    parsed = _Collector()
    parsed.feed(document)
    assert document.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": "en"}) in parsed.tags
    assert [t for t, _ in parsed.tags].count("caption") == 1
    col_headers = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "col"]
    assert len(col_headers) == len(header(_multilingual()))
    assert {ARABIC, CHINESE, RUSSIAN} <= set(parsed.text)


def test_html_escapes_cells() -> None:
    document = to_html(_multilingual())
    parsed = _Collector()
    parsed.feed(document)
    assert "<script>" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "script" not in [t for t, _ in parsed.tags]
    assert "<script>alert(1)</script>" in parsed.text


def test_cli_formats_are_the_export_formats() -> None:
    assert {f.value for f in Format} == {f.value for f in ExportFormat}


def test_import_reads_rows_in_any_column_order_with_a_byte_order_mark() -> None:
    text = "\ufefftheme,Sector,topic,entity,contact\r\ngender,ITU-T,Gender,WISE,w@example.org\r\n"
    text += ",GS,Accessibility," + ARABIC + ",\r\n"
    assert parse_import(text) == [
        ImportRow(2, "Gender", "ITU-T", "WISE", "w@example.org", "gender"),
        ImportRow(3, "Accessibility", "GS", ARABIC, "", None),
    ]


def test_import_needs_only_topic_sector_and_entity() -> None:
    assert parse_import("topic,sector,entity\nT,GS,E\n") == [ImportRow(2, "T", "GS", "E")]


def test_import_skips_blank_lines_and_counts_them() -> None:
    rows = parse_import("topic,sector,entity\n\nT,GS,E\n,,\nU,GS,F\n")
    assert [r.line for r in rows] == [3, 5]


def test_a_row_with_an_empty_entity_is_refused_with_its_line_number() -> None:
    with pytest.raises(MappingImportError, match=r"^line 3: entity is empty$") as raised:
        parse_import("topic,sector,entity\nT,GS,E\nU,ITU-T,  \n")
    assert raised.value.line == 3


def test_line_numbers_count_lines_inside_quoted_values() -> None:
    with pytest.raises(MappingImportError, match=r"^line 4: expected 3 values, found 2$"):
        parse_import('topic,sector,entity\nT,GS,"two\nlines"\nU,GS\n')


def test_a_topic_given_twice_for_one_sector_names_both_lines() -> None:
    with pytest.raises(MappingImportError, match=r"^line 3: 'T' for GS is also on line 2$"):
        parse_import("topic,sector,entity\nT,GS,E\nT,GS,F\n")


def test_a_too_long_entity_is_refused() -> None:
    with pytest.raises(MappingImportError, match=r"^line 2: entity is longer than 200"):
        parse_import(f"topic,sector,entity\nT,GS,{'x' * 201}\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("topic,sector\n", "missing column entity"),
        ("topic,sector,entity,entity\n", "column entity appears more than once"),
        ("Topic,Theme,GS entity,GS contact\n", "unknown column 'gs entity'"),
    ],
)
def test_a_bad_header_is_refused_on_line_1(text: str, message: str) -> None:
    with pytest.raises(MappingImportError, match=f"^line 1: {message}"):
        parse_import(text)
