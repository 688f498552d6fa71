"""The audit trail in SQL: chained appends, stream heads, walking and checking the chains."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from domain.audit import GENESIS, AuditContent, leaf_hash, row_hash
from storage.db import utc
from storage.models import AuditCheckpointRow, AuditEventRow, AuditStreamHeadRow


class AuditChainError(Exception):
    """An append that would fork the chain or leave a gap in it."""


def lock_stream(session: Session, stream: str) -> AuditStreamHeadRow:
    """The stream's head row, locked for this transaction (created empty if new)."""
    values = {"stream": stream, "sequence": 0, "hash": GENESIS}
    table = AuditStreamHeadRow.__table__  # type: ignore[attr-defined]
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
    else:
        # SQLite transactions here are IMMEDIATE: the database is already locked for writing.
        session.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
    head = session.exec(
        select(AuditStreamHeadRow).where(AuditStreamHeadRow.stream == stream).with_for_update()
    ).one()
    return head


def content_of(row: AuditEventRow) -> AuditContent:
    return AuditContent(
        stream=row.stream,
        sequence=row.sequence,
        idempotency_key=row.idempotency_key,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        action=row.action,
        actor_id=row.actor_id,
        actor_role=row.actor_role,
        from_state=row.from_state,
        to_state=row.to_state,
        payload=row.payload,
        occurred_at=utc(row.occurred_at),
    )


def append(
    *, session: Session, content: AuditContent, recorded_at: datetime, assign_sequence: bool = False
) -> AuditEventRow:
    """Append one row to its stream, chained to the head; serialised per stream."""
    head = lock_stream(session, content.stream)
    expected = head.sequence + 1
    if assign_sequence:
        content = content.model_copy(update={"sequence": expected})
    elif content.sequence != expected:
        raise AuditChainError(
            f"stream {content.stream}: next sequence is {expected}, not {content.sequence}"
        )
    prev = head.hash if head.sequence else None
    digest = row_hash(content, prev)
    row = AuditEventRow(
        **content.model_dump(), recorded_at=recorded_at, prev_hash=prev, hash=digest
    )
    session.add(row)
    head.sequence, head.hash = content.sequence, digest
    session.add(head)
    session.flush()
    return row


@dataclass(frozen=True)
class BrokenRow:
    stream: str
    sequence: int
    problem: str
    expected: str
    found: str


def iter_rows(session: Session, stream: str | None) -> Iterator[AuditEventRow]:
    query = select(AuditEventRow).order_by(col(AuditEventRow.stream), col(AuditEventRow.sequence))
    if stream is not None:
        query = query.where(AuditEventRow.stream == stream)
    yield from session.exec(query.execution_options(yield_per=2000))


def count_rows(session: Session, stream: str | None) -> int:
    query = select(func.count()).select_from(AuditEventRow)
    if stream is not None:
        query = query.where(AuditEventRow.stream == stream)
    return int(session.exec(query).one())


def heads(session: Session) -> dict[str, tuple[int, str]]:
    rows = session.exec(select(AuditStreamHeadRow).where(AuditStreamHeadRow.sequence > 0))
    return {r.stream: (r.sequence, r.hash) for r in rows}


def walk(
    session: Session,
    stream: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, BrokenRow | None]:
    """Re-walk the chains; the number of rows checked and the first broken row, if any."""
    checked = 0
    current: str | None = None
    prev_hash: str | None = None
    prev_sequence = 0
    stream_heads = heads(session)
    seen: set[str] = set()
    for row in iter_rows(session, stream):
        if row.stream != current:
            broken = _check_end(current, prev_sequence, prev_hash, stream_heads)
            if broken:
                return checked, broken
            current, prev_hash, prev_sequence = row.stream, None, 0
            seen.add(row.stream)
        broken = _check_row(row, prev_sequence, prev_hash)
        if broken:
            return checked, broken
        prev_hash, prev_sequence = row.hash, row.sequence
        checked += 1
        if progress is not None:
            progress(1)
    broken = _check_end(current, prev_sequence, prev_hash, stream_heads)
    if broken:
        return checked, broken
    wanted = {stream} if stream is not None else set(stream_heads)
    for missing in sorted((wanted & set(stream_heads)) - seen):
        sequence, digest = stream_heads[missing]
        return checked, BrokenRow(missing, sequence, "stream has no rows", digest, "nothing")
    return checked, None


def _check_row(row: AuditEventRow, prev_sequence: int, prev_hash: str | None) -> BrokenRow | None:
    if row.sequence != prev_sequence + 1:
        return BrokenRow(
            row.stream, row.sequence, "sequence gap", str(prev_sequence + 1), str(row.sequence)
        )
    if row.prev_hash != prev_hash:
        return BrokenRow(
            row.stream, row.sequence, "link to previous row", str(prev_hash), str(row.prev_hash)
        )
    recomputed = row_hash(content_of(row), row.prev_hash)
    if recomputed != row.hash:
        return BrokenRow(row.stream, row.sequence, "content changed", recomputed, row.hash)
    return None


def _check_end(
    stream: str | None,
    last_sequence: int,
    last_hash: str | None,
    stream_heads: dict[str, tuple[int, str]],
) -> BrokenRow | None:
    if stream is None or stream not in stream_heads:
        return None
    sequence, digest = stream_heads[stream]
    if (sequence, digest) != (last_sequence, last_hash):
        return BrokenRow(
            stream, sequence, "stream ends before its recorded head", digest, str(last_hash)
        )
    return None


def leaves(stream_heads: dict[str, tuple[int, str]]) -> tuple[list[str], list[str]]:
    """Streams in order, and the Merkle leaves of their heads."""
    names = sorted(stream_heads)
    return names, [leaf_hash(n, *stream_heads[n]) for n in names]


def latest_checkpoint(session: Session) -> AuditCheckpointRow | None:
    return session.exec(
        select(AuditCheckpointRow).order_by(col(AuditCheckpointRow.id).desc()).limit(1)
    ).first()


def row_at(session: Session, stream: str, sequence: int) -> AuditEventRow | None:
    return session.exec(
        select(AuditEventRow).where(
            AuditEventRow.stream == stream, AuditEventRow.sequence == sequence
        )
    ).first()


def drop_append_only_triggers(engine: Engine) -> None:
    """For tamper tests only: what an attacker with database rights could do."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event"))


def record(
    *,
    session: Session,
    stream: str,
    entity_type: str,
    entity_id: str,
    action: str,
    actor_id: str,
    actor_role: str,
    payload: dict[str, Any],
    now: datetime,
) -> AuditEventRow:
    """Audit a change made outside any workflow (reference data): next in its stream."""
    head = lock_stream(session, stream)
    sequence = head.sequence + 1
    content = AuditContent(
        stream=stream,
        sequence=sequence,
        idempotency_key=f"{stream}#{sequence}",
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        actor_role=actor_role,
        from_state=None,
        to_state=None,
        payload=payload,
        occurred_at=now,
    )
    return append(session=session, content=content, recorded_at=now)
