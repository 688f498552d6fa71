"""Repository functions for the ISCG mapping table: who is responsible for a topic, per sector."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import audit, directory
from storage.models import MappingEntryRow

TOPIC_MAX, ENTITY_MAX, CONTACT_MAX = 200, 200, 320


class UnknownReference(ValueError):
    """An upsert named a sector or theme that is not in the directory."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Upserted(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SectorCell:
    entity: str = ""
    contact: str = ""


@dataclass(frozen=True)
class PivotRow:
    topic: str
    theme: str  # the theme's name, "" when no entry of the topic names one
    cells: dict[str, SectorCell]  # by sector code; every sector of the pivot is present


@dataclass(frozen=True)
class MappingPivot:
    sectors: list[str]  # sector codes, in code order
    rows: list[PivotRow]  # one per topic, in case-insensitive alphabetical order


def get_entry(*, session: Session, entry_id: int) -> MappingEntryRow | None:
    return session.get(MappingEntryRow, entry_id)


def find_entry(*, session: Session, topic: str, sector: str) -> MappingEntryRow | None:
    """The entry for (topic, sector), if any."""
    return session.exec(
        select(MappingEntryRow).where(
            MappingEntryRow.topic == topic, MappingEntryRow.sector_code == sector
        )
    ).first()


def list_entries(
    *,
    session: Session,
    topic: str | None = None,
    theme: str | None = None,
    sector: str | None = None,
) -> list[MappingEntryRow]:
    """Entries by topic then sector; `topic` matches a substring, ignoring (ASCII) case."""
    query = select(MappingEntryRow)
    if topic:
        query = query.where(col(MappingEntryRow.topic).icontains(topic, autoescape=True))
    if theme is not None:
        query = query.where(MappingEntryRow.theme_code == theme)
    if sector is not None:
        query = query.where(MappingEntryRow.sector_code == sector)
    rows = session.exec(query.order_by(col(MappingEntryRow.id))).all()
    return sorted(rows, key=lambda r: (r.topic.casefold(), r.topic, r.sector_code))


def _check_references(*, session: Session, sector: str, theme: str | None) -> None:
    if directory.get_sector(session=session, code=sector) is None:
        codes = ", ".join(s.code for s in directory.list_sectors(session=session))
        raise UnknownReference("sector", f"unknown sector '{sector}' (one of {codes})")
    if theme is not None and directory.get_theme(session=session, code=theme) is None:
        raise UnknownReference("theme", f"unknown theme '{theme}'")


def upsert_entry(
    *,
    session: Session,
    topic: str,
    sector: str,
    entity: str,
    now: datetime,
    actor: tuple[str, str],
    contact: str = "",
    theme: str | None = None,
) -> tuple[MappingEntryRow, Upserted]:
    """Create or replace the entry for (topic, sector), audited; raises UnknownReference.

    `actor` is (id, role) of whoever makes the change.
    """
    _check_references(session=session, sector=sector, theme=theme)
    row = find_entry(session=session, topic=topic, sector=sector)
    if row is None:
        row = MappingEntryRow(
            topic=topic,
            sector_code=sector,
            entity=entity,
            contact=contact,
            theme_code=theme,
            updated_at=now,
        )
        if _inserted(session=session, row=row):
            _audit(session, row, "MappingEntrySet", actor, now)
            return row, Upserted.CREATED
        # A concurrent writer created the entry first: replace theirs.
        row = find_entry(session=session, topic=topic, sector=sector)
        assert row is not None
    if (row.entity, row.contact, row.theme_code) == (entity, contact, theme):
        return row, Upserted.UNCHANGED
    row.entity, row.contact, row.theme_code, row.updated_at = entity, contact, theme, now
    session.add(row)
    session.flush()
    _audit(session, row, "MappingEntrySet", actor, now)
    return row, Upserted.UPDATED


def _inserted(*, session: Session, row: MappingEntryRow) -> bool:
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def delete_entry(*, session: Session, entry_id: int, actor: tuple[str, str], now: datetime) -> bool:
    """Remove one entry, audited; False when there was none."""
    row = session.get(MappingEntryRow, entry_id)
    if row is None:
        return False
    _audit(session, row, "MappingEntryRemoved", actor, now)
    session.delete(row)
    session.flush()
    return True


MAPPING_STREAM = "mapping"


def _audit(
    session: Session, row: MappingEntryRow, action: str, actor: tuple[str, str], now: datetime
) -> None:
    audit.record(
        session=session,
        stream=MAPPING_STREAM,
        entity_type="mapping_entry",
        entity_id=f"{row.topic}/{row.sector_code}",
        action=action,
        actor_id=actor[0],
        actor_role=actor[1],
        payload={
            "topic": row.topic,
            "sector": row.sector_code,
            "entity": row.entity,
            "contact": row.contact,
            "theme": row.theme_code,
        },
        now=now,
    )


def pivot(*, session: Session) -> MappingPivot:
    """The whole table, one row per topic, one entity/contact pair per sector."""
    sectors = [s.code for s in directory.list_sectors(session=session)]
    themes = {t.code: t.name for t in directory.list_themes(session=session)}
    return build_pivot(sectors=sectors, entries=list_entries(session=session), themes=themes)


def build_pivot(
    *, sectors: list[str], entries: Iterable[MappingEntryRow], themes: dict[str, str]
) -> MappingPivot:
    """Pivot entries by topic; a topic's theme is the first one its entries name, by sector."""
    by_topic: dict[str, dict[str, MappingEntryRow]] = {}
    for entry in entries:
        by_topic.setdefault(entry.topic, {})[entry.sector_code] = entry
    rows = []
    for topic in sorted(by_topic, key=lambda t: (t.casefold(), t)):
        found = by_topic[topic]
        theme = next(
            (found[s].theme_code for s in sectors if s in found and found[s].theme_code), None
        )
        cells = {
            s: SectorCell(found[s].entity, found[s].contact) if s in found else SectorCell()
            for s in sectors
        }
        rows.append(
            PivotRow(topic=topic, theme=themes.get(theme, theme) if theme else "", cells=cells)
        )
    return MappingPivot(sectors=sectors, rows=rows)
