"""The ISCG mapping table as CSV, XLSX and HTML files, and the CSV import format.

Exports are wide (one row per topic, an entity and a contact column per sector); imports are
long (one row per topic and sector), so that a line number names exactly one entry.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Font

from storage.mapping import CONTACT_MAX, ENTITY_MAX, TOPIC_MAX, MappingPivot

TITLE = "ISCG mapping table"
CAPTION = "ISCG mapping table: topics of common interest and the entity responsible in each sector"
FILE_STEM = "iscflow-mapping"
IMPORT_COLUMNS = ("topic", "sector", "entity", "contact", "theme")
REQUIRED_COLUMNS = ("topic", "sector", "entity")
# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"


MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.HTML: "text/html; charset=utf-8",
}


def header(pivot: MappingPivot) -> list[str]:
    """Column titles: topic, theme, then an entity and a contact column per sector."""
    per_sector = [f"{code} {what}" for code in pivot.sectors for what in ("entity", "contact")]
    return ["Topic", "Theme", *per_sector]


def table(pivot: MappingPivot) -> list[list[str]]:
    """The body rows, in the order of `header`."""
    return [
        [
            row.topic,
            row.theme,
            *(
                value
                for s in pivot.sectors
                for value in (row.cells[s].entity, row.cells[s].contact)
            ),
        ]
        for row in pivot.rows
    ]


def render(pivot: MappingPivot, fmt: ExportFormat) -> bytes:
    """The file's bytes in the chosen format."""
    match fmt:
        case ExportFormat.CSV:
            return to_csv(pivot).encode("utf-8")
        case ExportFormat.XLSX:
            return to_xlsx(pivot)
        case ExportFormat.HTML:
            return to_html(pivot).encode("utf-8")


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(pivot: MappingPivot) -> str:
    """CSV with a byte-order mark, so Excel reads it as UTF-8; formula-like cells get a '."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header(pivot))
    writer.writerows([[_csv_cell(v) for v in row] for row in table(pivot)])
    return "\ufeff" + out.getvalue()


def to_xlsx(pivot: MappingPivot) -> bytes:
    """A workbook with one sheet: bold frozen header, filters, columns sized to their text."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Mapping"
    rows = [header(pivot), *table(pivot)]
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # text, even when it starts with "=" (not a formula)
            if r == 1:
                cell.font = Font(bold=True)
    for c, column in enumerate(sheet.iter_cols(), start=1):
        longest = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = min(
            max(longest + 2, 10), 60
        )
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_html(pivot: MappingPivot) -> str:
    """A standalone HTML5 document with the table; every cell is escaped."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header(pivot))
    body = "\n".join(
        f'<tr><th scope="row">{escape(values[0])}</th>'
        + "".join(f'<td dir="auto">{escape(v)}</td>' for v in values[1:])
        + "</tr>"
        for values in table(pivot)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(TITLE)}</title>
<style>
table {{ border-collapse: collapse; font-family: sans-serif; }}
caption {{ font-weight: bold; text-align: start; padding: 0.5em 0; }}
th, td {{ border: 1px solid #999; padding: 0.3em 0.6em; text-align: start; vertical-align: top; }}
thead th {{ background: #eee; }}
</style>
</head>
<body>
<table>
<caption>{escape(CAPTION)}</caption>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""


@dataclass(frozen=True)
class ImportRow:
    line: int
    topic: str
    sector: str
    entity: str
    contact: str = ""
    theme: str | None = None


class MappingImportError(ValueError):
    """A bad import file, with the line that is wrong (1 is the header)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


_LIMITS = {"topic": TOPIC_MAX, "entity": ENTITY_MAX, "contact": CONTACT_MAX}


def parse_import(text: str) -> list[ImportRow]:
    """Entries of a CSV with a header row: topic,sector,entity[,contact][,theme], in any order."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    rows: list[ImportRow] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        columns = _columns(next(reader, None))
        last = reader.line_num
        for values in reader:
            line, last = last + 1, reader.line_num  # a quoted value may span several lines
            if not any(v.strip() for v in values):
                continue
            row = _row(line, columns, values)
            if (row.topic, row.sector) in seen:
                earlier = seen[row.topic, row.sector]
                raise MappingImportError(
                    line, f"{row.topic!r} for {row.sector} is also on line {earlier}"
                )
            seen[row.topic, row.sector] = line
            rows.append(row)
    except csv.Error as error:
        raise MappingImportError(reader.line_num, str(error)) from None
    return rows


def _columns(names: list[str] | None) -> list[str]:
    expected = ", ".join(IMPORT_COLUMNS)
    if names is None:
        raise MappingImportError(1, f"the file is empty; the header row must name {expected}")
    columns = [n.strip().lower() for n in names]
    for name in columns:
        if name not in IMPORT_COLUMNS:
            raise MappingImportError(
                1,
                f"unknown column {name!r}: import takes one row per topic and sector, "
                f"with the columns {expected}",
            )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise MappingImportError(
            1, f"missing column {', '.join(missing)}; the columns are {expected}"
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise MappingImportError(1, f"column {', '.join(twice)} appears more than once")
    return columns


def _row(line: int, columns: list[str], values: list[str]) -> ImportRow:
    if len(values) != len(columns):
        raise MappingImportError(line, f"expected {len(columns)} values, found {len(values)}")
    cells = {name: value.strip() for name, value in zip(columns, values, strict=True)}
    for name in REQUIRED_COLUMNS:
        if not cells[name]:
            raise MappingImportError(line, f"{name} is empty")
    for name, limit in _LIMITS.items():
        if len(cells.get(name, "")) > limit:
            raise MappingImportError(line, f"{name} is longer than {limit} characters")
    return ImportRow(
        line=line,
        topic=cells["topic"],
        sector=cells["sector"],
        entity=cells["entity"],
        contact=cells.get("contact", ""),
        theme=cells.get("theme") or None,
    )
