"""Reading and writing simple tables as CSV and XLSX files (imports and exports).

A table has a header row naming its columns; every other row is kept with the line (CSV) or
row number (XLSX) a person sees in their editor, so that errors can name it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | None


class TableFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES: dict[TableFormat, str] = {
    TableFormat.CSV: "text/csv; charset=utf-8",
    TableFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class TableError(ValueError):
    """A file that cannot be read as a table at all."""


@dataclass(frozen=True)
class SourceRow:
    line: int
    cells: dict[str, str]
    problem: str | None = None  # e.g. more values than columns


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[SourceRow] = field(default_factory=list)


def format_of(filename: str) -> TableFormat:
    """The format a file name's extension announces."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        return TableFormat(suffix)
    except ValueError:
        raise TableError(f"{filename!r} is neither a .csv nor an .xlsx file") from None


def column_name(title: object) -> str:
    """`Target date` and `target_date` name the same column."""
    return "_".join(str(title or "").strip().lower().replace("-", " ").split())


def read_table(content: bytes, fmt: TableFormat) -> Table:
    """The rows of the first sheet (XLSX) or of the file (CSV), keyed by column name."""
    return _read_csv(content) if fmt is TableFormat.CSV else _read_xlsx(content)


def _read_csv(content: bytes) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("the file is not UTF-8 text; save it as 'CSV UTF-8'") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise TableError("the file is empty; the first row must name the columns")
        columns = [column_name(title) for title in header]
        table = Table(columns=columns)
        last = reader.line_num
        for values in reader:
            line, last = last + 1, reader.line_num  # a quoted value may span several lines
            if any(v.strip() for v in values):
                table.rows.append(_row(line, columns, values))
    except csv.Error as error:
        raise TableError(f"line {reader.line_num}: {error}") from None
    return table


def _row(line: int, columns: list[str], values: Sequence[str]) -> SourceRow:
    cells = {name: value.strip() for name, value in zip(columns, values, strict=False) if name}
    extra = [v for v in values[len(columns) :] if v.strip()]
    problem = f"{len(values)} values for {len(columns)} columns" if extra else None
    return SourceRow(line=line, cells=cells, problem=problem)


def _read_xlsx(content: bytes) -> Table:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise TableError(f"the file cannot be read as an Excel workbook ({error})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise TableError("the sheet is empty; the first row must name the columns")
        columns = [column_name(title) for title in header]
        table = Table(columns=columns)
        for number, values in enumerate(rows, start=2):
            texts = [_text(v) for v in values]
            if any(texts):
                table.rows.append(_row(number, columns, texts))
        return table
    finally:
        book.close()


def _text(value: Any) -> str:
    """A cell as the text a person typed: dates as ISO days, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_cell(value: Cell) -> str:
    text = "" if value is None else str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """CSV with a byte-order mark (Excel reads it as UTF-8); formula-like text gets a '."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_csv_cell(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Sequence[Sequence[Cell]], *, sheet: str) -> bytes:
    """One sheet: bold frozen header, filters; numbers stay numbers, text is never a formula."""
    book = Workbook()
    page = book.active
    page.title = sheet[:31]
    for c, title in enumerate(header, start=1):
        page.cell(row=1, column=c, value=title).font = Font(bold=True)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            cell = page.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    for c, title in enumerate(header, start=1):
        longest = max([len(str(title))] + [len(str(row[c - 1] or "")) for row in rows])
        page.column_dimensions[page.cell(row=1, column=c).column_letter].width = min(
            max(longest + 2, 8), 60
        )
    page.freeze_panes = "A2"
    page.auto_filter.ref = page.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
