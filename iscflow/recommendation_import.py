"""Importing recommendations from CSV or XLSX: every row validated, the valid ones applied.

A row whose recommendation does not exist yet creates it (in the state the file gives); a
row whose record differs from the stored one becomes an audited `RecordUpdated`; an identical
row changes nothing. Status columns apply to new recommendations only: afterwards the status
moves through the owner's and the auditor's own commands, and a differing status in the file
is reported as a note. Both the CLI and the API upload use this module.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from domain.errors import DomainError
from domain.recommendation_commands import CreateRecommendation, UpdateRecord
from domain.recommendation_terms import (
    Acceptance,
    Addressee,
    Implementation,
    Priority,
    RecordData,
    SourceBody,
)
from domain.recommendations import Recommendation
from domain.roles import Actor, Role
from iscflow.issue_commands import CommandRejected
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.tables import SourceRow, Table, TableError
from storage.db import session_scope
from storage.recommendations import CurrentRecord, References, current_record

COLUMNS = (
    "source",
    "symbol",
    "number",
    "issued_on",
    "title",
    "text",
    "addressee",
    "owner",
    "theme",
    "priority",
    "target_date",
    "risks",
    "acceptance",
    "implementation",
    "progress",
    "justification",
)
REQUIRED = ("source", "symbol", "number", "issued_on", "title", "text", "owner", "theme")
STATE_COLUMNS = ("acceptance", "implementation", "progress")
# Rows applied at once: each waits for its workflow to persist the step.
CONCURRENCY = 8
# The column a field of the domain's commands comes from.
COLUMN_OF = {"owner_id": "owner", "risk_ids": "risks", "record": "row"}
SOURCE_ALIASES = {
    "external auditor": SourceBody.EXTERNAL_AUDITOR,
    "external audit": SourceBody.EXTERNAL_AUDITOR,
    "independent management advisory committee": SourceBody.IMAC,
    "joint inspection unit": SourceBody.JIU,
    "internal auditor": SourceBody.INTERNAL_AUDIT,
    "internal audit": SourceBody.INTERNAL_AUDIT,
}


class RowError(BaseModel):
    line: int
    field: str
    message: str


class RowNote(BaseModel):
    line: int
    id: str
    message: str


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class ImportReport(BaseModel):
    """What an import did (or, in a dry run, would do), row by row."""

    rows: int
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    invalid: list[RowError] = []
    notes: list[RowNote] = []
    dry_run: bool = False


class ParsedRow(BaseModel):
    line: int
    command: CreateRecommendation
    given: frozenset[str]  # the status columns the row fills in


# -- reading ------------------------------------------------------------------------------


def check_columns(table: Table) -> None:
    """Refuse a file whose header does not name the import's columns."""
    expected = ", ".join(COLUMNS)
    unknown = [c for c in table.columns if c and c not in COLUMNS]
    if unknown:
        raise TableError(f"unknown column {unknown[0]!r}; the columns are {expected}")
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise TableError(f"missing column {', '.join(missing)}; the columns are {expected}")
    twice = sorted({c for c in table.columns if c and table.columns.count(c) > 1})
    if twice:
        raise TableError(f"column {', '.join(twice)} appears more than once")


def parse_rows(
    table: Table, refs: References, actor: Actor
) -> tuple[list[ParsedRow], list[RowError]]:
    """Every row validated: the valid ones as commands, and each problem of the others."""
    check_columns(table)
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        result = parse_row(row, refs, actor)
        if isinstance(result, list):
            errors.extend(result)
            continue
        key = result.command.recommendation_id
        if key in seen:
            message = f"the same recommendation ({key}) is on line {seen[key]}"
            errors.append(RowError(line=row.line, field="number", message=message))
            continue
        seen[key] = row.line
        parsed.append(result)
    return parsed, errors


def parse_row(row: SourceRow, refs: References, actor: Actor) -> ParsedRow | list[RowError]:
    """One row as a creation command, or every problem found in it."""
    problems: list[tuple[str, str]] = []
    if row.problem:
        problems.append(("row", row.problem))
    problems += [(name, f"{name} is required") for name in REQUIRED if not row.cells.get(name)]
    values: dict[str, Any] = {}
    for name, parse in PARSERS.items():
        raw = row.cells.get(name, "")
        if raw:
            try:
                values[name] = parse(raw)
            except ValueError as error:
                problems.append((name, str(error)))
    if problems:
        return _errors(row.line, problems)
    try:
        command = _command(row.cells, values)
    except ValidationError as error:
        return _errors(row.line, [(_column(e["loc"]), e["msg"]) for e in error.errors()])
    problems = check_references(command.record, refs)
    try:
        Recommendation.check_create(command, actor)
    except DomainError as error:
        field = str(getattr(error, "field", "row"))
        problems.append((COLUMN_OF.get(field, field), error.message))
    if problems:
        return _errors(row.line, problems)
    given = frozenset(c for c in STATE_COLUMNS if row.cells.get(c))
    return ParsedRow(line=row.line, command=command, given=given)


def _errors(line: int, problems: list[tuple[str, str]]) -> list[RowError]:
    return [RowError(line=line, field=f, message=m) for f, m in problems]


def _column(loc: tuple[int | str, ...]) -> str:
    names = [str(part) for part in loc if isinstance(part, str) and part != "record"]
    name = names[-1] if names else "row"
    return COLUMN_OF.get(name, name)


def _command(cells: dict[str, str], values: dict[str, Any]) -> CreateRecommendation:
    record: dict[str, Any] = {
        "issued_on": values["issued_on"],
        "title": cells["title"],
        "text": cells["text"],
        "owner_id": cells["owner"],
        "theme": cells["theme"],
    }
    for name, field in (
        ("addressee", "addressee"),
        ("priority", "priority"),
        ("target_date", "target_date"),
        ("risks", "risk_ids"),
    ):
        if name in values:
            record[field] = values[name]
    states = {name: values[name] for name in STATE_COLUMNS if name in values}
    return CreateRecommendation(
        source=values["source"],
        symbol=cells["symbol"],
        number=values["number"],
        record=RecordData(**record),
        justification=cells.get("justification") or None,
        **states,
    )


def check_references(record: RecordData, refs: References) -> list[tuple[str, str]]:
    """(column, message) for each theme, owner or risk the directory or register lacks."""
    problems: list[tuple[str, str]] = []
    if record.theme not in refs.themes:
        problems.append(("theme", f"unknown theme {record.theme!r}"))
    role = refs.roles.get(record.owner_id)
    if role is None:
        problems.append(("owner", f"no active user {record.owner_id!r}"))
    elif role != Role.FOCAL_POINT.value:
        problems.append(
            ("owner", f"{record.owner_id!r} is a {role}; an owner is a focal point of the theme")
        )
    elif record.theme in refs.themes and record.theme not in refs.user_themes.get(
        record.owner_id, frozenset()
    ):
        problems.append(
            ("owner", f"{record.owner_id!r} is not a focal point of theme {record.theme!r}")
        )
    unknown = [r for r in record.risk_ids if r not in refs.risks]
    if unknown:
        problems.append(
            ("risks", f"not in the risk register: {', '.join(unknown)}; add the risks first")
        )
    return problems


# -- field parsers ------------------------------------------------------------------------------


def _words(raw: str) -> str:
    return " ".join(raw.strip().lower().replace("_", " ").replace("-", " ").split())


def _choice(kind: type[StrEnum]) -> Callable[[str], StrEnum]:
    def parse(raw: str) -> StrEnum:
        wanted = _words(raw).replace(" ", "_")
        for member in kind:
            if member.value == wanted:
                return member
        raise ValueError(f"{raw!r} is not one of: {', '.join(m.value for m in kind)}")

    return parse


def _source(raw: str) -> SourceBody:
    alias = SOURCE_ALIASES.get(_words(raw))
    if alias is not None:
        return alias
    parsed = _choice(SourceBody)(raw)
    assert isinstance(parsed, SourceBody)
    return parsed


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ValueError(f"{raw!r} is not a date as YYYY-MM-DD") from None


def _whole(raw: str) -> int:
    text = raw.strip().removesuffix("%").strip()
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"{raw!r} is not a whole number")
    return int(text)


def _risks(raw: str) -> tuple[str, ...]:
    return tuple(part for part in re.split(r"[;,\s]+", raw.strip()) if part)


PARSERS: dict[str, Callable[[str], Any]] = {
    "source": _source,
    "number": _whole,
    "issued_on": _day,
    "target_date": _day,
    "addressee": _choice(Addressee),
    "priority": _choice(Priority),
    "acceptance": _choice(Acceptance),
    "implementation": _choice(Implementation),
    "progress": _whole,
    "risks": _risks,
}


# -- applying -------------------------------------------------------------------------------------


class Importer:
    """Applies parsed rows through the recommendations' workflows (or only plans, dry)."""

    def __init__(
        self, engine: Engine, commands: RecommendationCommands | None, actor: Actor
    ) -> None:
        self._engine = engine
        self._commands = commands
        self._actor = actor

    async def run(
        self,
        parsed: list[ParsedRow],
        errors: list[RowError],
        *,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Apply every row, a few at a time; the report lists each row's outcome."""
        report = ImportReport(rows=len(parsed) + len({e.line for e in errors}), dry_run=dry_run)
        report.invalid.extend(errors)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(row: ParsedRow) -> tuple[ParsedRow, Outcome | RowError, str | None]:
            async with gate:
                outcome = await self._apply(row, dry_run)
            if progress is not None:
                progress(1)
            return (row, *outcome)

        for row, outcome, note in await asyncio.gather(*(one(r) for r in parsed)):
            key = row.command.recommendation_id
            if isinstance(outcome, RowError):
                report.invalid.append(outcome)
            else:
                getattr(report, outcome.value).append(key)
            if note:
                report.notes.append(RowNote(line=row.line, id=key, message=note))
        report.invalid.sort(key=lambda e: (e.line, e.field))
        return report

    def _current(self, recommendation_id: str) -> CurrentRecord | None:
        with session_scope(self._engine) as session:
            return current_record(session=session, recommendation_id=recommendation_id)

    async def _apply(self, row: ParsedRow, dry_run: bool) -> tuple[Outcome | RowError, str | None]:
        command = row.command
        current = await asyncio.to_thread(self._current, command.recommendation_id)
        try:
            if current is None:
                if not dry_run:
                    await self._send_create(command)
                return Outcome.CREATED, None
            if current.key != (command.source, command.symbol, command.number):
                message = f"the id {command.recommendation_id} is taken by {current.key[1]}"
                return RowError(line=row.line, field="symbol", message=message), None
            note = _state_note(row, current.states)
            if current.record == command.record:
                return Outcome.UNCHANGED, note
            if not dry_run:
                await self._send_update(command)
            return Outcome.UPDATED, note
        except CommandRejected as refused:
            field = COLUMN_OF.get(str(refused.details.get("field", "row")), "row")
            return RowError(line=row.line, field=field, message=refused.message), None

    async def _send_create(self, command: CreateRecommendation) -> None:
        assert self._commands is not None
        await self._commands.create(self._actor, command)

    async def _send_update(self, command: CreateRecommendation) -> None:
        assert self._commands is not None
        update = UpdateRecord(record=command.record)
        await self._commands.send(command.recommendation_id, self._actor, update)


def _state_note(row: ParsedRow, states: tuple[Acceptance, Implementation, int]) -> str | None:
    command = row.command
    wanted = {
        "acceptance": command.acceptance,
        "implementation": command.implementation,
        "progress": command.progress,
    }
    recorded = dict(zip(STATE_COLUMNS, states, strict=True))
    differ = [c for c in STATE_COLUMNS if c in row.given and wanted[c] != recorded[c]]
    if not differ:
        return None
    shown = ", ".join(
        f"{c} is {_shown(recorded[c])} (the file says {_shown(wanted[c])})" for c in differ
    )
    return f"kept as recorded: {shown}; a status changes through its own commands"


def _shown(value: object) -> str:
    return value.value if isinstance(value, StrEnum) else str(value)
