"""Reading and validating import files, CSV and XLSX alike, without a database."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from domain.recommendation_terms import Acceptance, Implementation, Priority, SourceBody
from domain.roles import Actor, Role
from iscflow.demo import focal_points
from iscflow.demo_recommendations import RISKS
from iscflow.recommendation_import import COLUMNS, RowError, parse_rows
from iscflow.tables import TableError, TableFormat, read_table
from storage.recommendations import References

SAMPLE = Path(__file__).parents[2] / "samples" / "recommendations.csv"
SECRETARIAT = Actor(id="secretariat", role=Role.SECRETARIAT)
REFS = References(
    themes=frozenset({"accessibility", "gender"}),
    roles={"fp_access": "focal_point", "fp_gender": "focal_point", "chair": "chair"},
    user_themes={"fp_access": frozenset({"accessibility"}), "fp_gender": frozenset({"gender"})},
    risks=frozenset({"R-1", "R-2"}),
)
HEADER = "source,symbol,number,issued_on,title,text,owner,theme,priority,target_date,risks,acceptance,implementation,progress,justification"  # noqa: E501
GOOD = 'JIU,JIU/REP/2018/6,2,2018-11-20,Accessibility policy,"Adopt a policy,\nwith targets.",fp_access,accessibility,High,2025-12-31,R-1; R-2,Partially accepted,in progress,40%,'  # noqa: E501
GOOD_2 = "Internal Audit,IA-2021-02,1,2021-06-01,Gender focal points,One per office.,fp_gender,gender,,,,,,,"  # noqa: E501


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _parse(content: bytes, fmt: TableFormat = TableFormat.CSV) -> tuple[list, list[RowError]]:  # type: ignore[type-arg]
    return parse_rows(read_table(content, fmt), REFS, SECRETARIAT)


def test_a_valid_row_becomes_a_creation_command_with_friendly_values_understood() -> None:
    parsed, errors = _parse(_csv(HEADER, GOOD, GOOD_2))

    assert errors == []
    first = parsed[0].command
    assert (first.source, first.symbol, first.number) == (SourceBody.JIU, "JIU/REP/2018/6", 2)
    assert first.record.priority is Priority.HIGH
    assert first.record.risk_ids == ("R-1", "R-2")
    assert first.record.text == "Adopt a policy,\nwith targets."
    assert (first.acceptance, first.implementation, first.progress) == (
        Acceptance.PARTIALLY_ACCEPTED,
        Implementation.IN_PROGRESS,
        40,
    )
    assert parsed[0].given == frozenset({"acceptance", "implementation", "progress"})
    second = parsed[1]
    assert second.command.source is SourceBody.INTERNAL_AUDIT
    assert second.command.acceptance is Acceptance.UNDER_CONSIDERATION
    assert second.given == frozenset()
    assert second.line == 4  # the first row's text spans lines 2 and 3


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("UNDP,S/1,1,2020-01-01,Title,Text,fp_access,accessibility,,,,,,,", "source", "not one of"),
        ("JIU,S/1,one,2020-01-01,Title,Text,fp_access,accessibility,,,,,,,", "number", "whole"),
        ("JIU,S/1,1,01/02/2020,Title,Text,fp_access,accessibility,,,,,,,", "issued_on", "YYYY"),
        ("JIU,S/1,1,2020-01-01,,Text,fp_access,accessibility,,,,,,,", "title", "required"),
        ("JIU,S/1,1,2020-01-01,Ti,Text,fp_access,accessibility,,,,,,,", "title", "at least 3"),
        ("JIU,S/1,1,2020-01-01,Title,Text,fp_access,climate,,,,,,,", "theme", "unknown theme"),
        ("JIU,S/1,1,2020-01-01,Title,Text,fp_gender,accessibility,,,,,,,", "owner", "not a focal"),
        ("JIU,S/1,1,2020-01-01,Title,Text,chair,accessibility,,,,,,,", "owner", "is a chair"),
        ("JIU,S/1,1,2020-01-01,Title,Text,nobody,accessibility,,,,,,,", "owner", "no active"),
        ("JIU,S/1,1,2020-01-01,Title,Text,fp_access,accessibility,,,R-9,,,,", "risks", "R-9"),
        (
            "JIU,S/1,1,2020-01-01,Title,Text,fp_access,accessibility,,,,accepted,verified,,",
            "implementation",
            "auditor",
        ),
        (
            "JIU,S/1,1,2020-01-01,Title,Text,fp_access,accessibility,,,,not accepted,,,",
            "justification",
            "justification",
        ),
        ("JIU,S/1,1,2020-01-01,Title,Text,fp_access,accessibility,,,,,,150,", "progress", "100"),
        ("JIU,S/1,1,2020-01-01,Title,Text,fp_access,accessibility,,,,,,,,extra", "row", "values"),
    ],
)
def test_each_invalid_row_is_reported_with_its_line_and_field(
    row: str, field: str, words: str
) -> None:
    parsed, errors = _parse(_csv(HEADER, GOOD, row))

    assert len(parsed) == 1
    assert [(e.line, e.field) for e in errors] == [(4, field)]
    assert words in errors[0].message


def test_every_problem_of_a_row_is_reported() -> None:
    _, errors = _parse(
        _csv(HEADER, "NOBODY,S/1,x,yesterday,Title,Text,fp_access,accessibility,,,,,,,")
    )

    assert {e.field for e in errors} == {"source", "number", "issued_on"}


def test_a_recommendation_twice_in_a_file_is_reported_on_its_second_line() -> None:
    parsed, errors = _parse(_csv(HEADER, GOOD_2, GOOD_2))

    assert len(parsed) == 1
    assert [(e.line, e.field) for e in errors] == [(3, "number")]
    assert "line 2" in errors[0].message


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("source,symbol,number,issued_on,title,text,owner,theme,colour", "unknown column"),
        ("source,symbol,number,title,text,owner,theme", "missing column issued_on"),
        ("source,symbol,number,issued_on,title,text,owner,theme,theme", "more than once"),
    ],
)
def test_a_wrong_header_refuses_the_whole_file(header: str, words: str) -> None:
    with pytest.raises(TableError, match=words):
        _parse(_csv(header, GOOD_2))


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(TableError, match="UTF-8"):
        _parse(_csv(HEADER, GOOD_2).replace(b"Gender", "Génère".encode("latin-1")))


def test_semicolon_separated_files_from_european_spreadsheets_are_read() -> None:
    parsed, errors = _parse(_csv(HEADER.replace(",", ";"), GOOD_2.replace(",", ";")))

    assert errors == [] and len(parsed) == 1


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_file_reads_like_the_same_csv() -> None:
    csv_parsed, _ = _parse(_csv(HEADER, GOOD, GOOD_2))
    xlsx = _xlsx(
        [
            [h.replace("_", " ").title() for h in HEADER.split(",")],  # "Issued On" and the like
            ["JIU", "JIU/REP/2018/6", 2, datetime(2018, 11, 20), "Accessibility policy",
             "Adopt a policy,\nwith targets.", "fp_access", "accessibility", "High",
             date(2025, 12, 31), "R-1; R-2", "Partially accepted", "in progress", 40, None],
            ["Internal Audit", "IA-2021-02", 1.0, "2021-06-01", "Gender focal points",
             "One per office.", "fp_gender", "gender"],
        ]
    )  # fmt: skip

    xlsx_parsed, errors = _parse(xlsx, TableFormat.XLSX)

    assert errors == []
    assert [p.command for p in xlsx_parsed] == [p.command for p in csv_parsed]
    assert [p.line for p in xlsx_parsed] == [2, 3]


def test_a_damaged_workbook_is_refused() -> None:
    with pytest.raises(TableError, match="Excel"):
        read_table(b"PK\x03\x04 not really a workbook", TableFormat.XLSX)


def test_the_shipped_sample_is_valid_against_the_demo_directory_and_register() -> None:
    people = focal_points()
    refs = References(
        themes=frozenset(p.theme for p in people if p.theme),
        roles={p.id: p.role.value for p in people},
        user_themes={p.id: frozenset({p.theme}) for p in people if p.theme},
        risks=frozenset(r[0] for r in RISKS),
    )
    table = read_table(SAMPLE.read_bytes(), TableFormat.CSV)

    parsed, errors = parse_rows(table, refs, SECRETARIAT)

    assert errors == []
    assert len(parsed) == 16
    assert table.columns == list(COLUMNS)
    assert {p.command.source for p in parsed} == set(SourceBody)
