"""The audit trail in SQL: chained appends, stream heads, walking and checking the chains."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, cast, text, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from domain.audit import GENESIS, AuditContent, canonical_values, leaf_hash, row_hash
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
    table = AuditStreamHeadRow.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(table.c.stream, table.c.sequence, table.c.hash).where(table.c.sequence > 0)
    )
    return {name: (sequence, digest) for name, sequence, digest in rows}


# Rows are read in batches of this many, through a server-side cursor on PostgreSQL.
WALK_BATCH = 10_000


@dataclass(frozen=True)
class ChainWalk:
    """What re-walking the chains found: rows checked, the first broken row, watched hashes."""

    checked: int
    broken: BrokenRow | None
    # The hash of each watched row, by stream: `watch` names one sequence per stream.
    hashes_at: dict[str, str]


def walk(
    session: Session,
    stream: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, BrokenRow | None]:
    """Re-walk the chains; the number of rows checked and the first broken row, if any."""
    result = walk_chains(session, stream, progress=progress)
    return result.checked, result.broken


def walk_chains(
    session: Session,
    stream: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    watch: dict[str, int] | None = None,
) -> ChainWalk:
    """Re-walk the chains (or one), keeping the hash found at each watched (stream, sequence)."""
    stream_heads = heads(session)
    checked, broken, hashes_at, seen = _walk_rows(
        session, stream, stream_heads, progress, watch or {}
    )
    if broken is None:
        broken = _missing_stream(stream, stream_heads, seen)
    return ChainWalk(checked, broken, hashes_at)


def _chain_rows(session: Session, stream: str | None) -> Iterator[Sequence[Sequence[Any]]]:
    """Batches of rows: the hashed fields in `canonical_values` order, then prev_hash, hash.

    Plain columns rather than entities, and no result processing by the column types:
    `_decoded` loads the payload and the time as they would, for less. The payload comes as
    text on both engines (psycopg's own JSON loading costs more than `json.loads`); the time
    as SQLite's stored text, or psycopg's aware datetime.
    """
    t = AuditEventRow.__table__  # type: ignore[attr-defined]
    columns = [
        t.c.stream,
        t.c.sequence,
        t.c.idempotency_key,
        t.c.entity_type,
        t.c.entity_id,
        t.c.action,
        t.c.actor_id,
        t.c.actor_role,
        t.c.from_state,
        t.c.to_state,
        cast(t.c.payload, Text),
        type_coerce(t.c.occurred_at, Text),
        t.c.prev_hash,
        t.c.hash,
    ]
    query = select(*columns).order_by(t.c.stream, t.c.sequence)
    if stream is not None:
        query = query.where(t.c.stream == stream)
    result = session.execute(query.execution_options(yield_per=WALK_BATCH))
    yield from result.partitions()


def _decoded(payload: Any, occurred_at: Any) -> tuple[dict[str, Any], datetime]:
    """The payload and time as the JSON and UTCDateTime columns would load them."""
    if isinstance(payload, str):
        payload = json.loads(payload)
    if isinstance(occurred_at, str):
        occurred_at = datetime.fromisoformat(occurred_at)
    return payload, utc(occurred_at)


def _walk_rows(
    session: Session,
    stream: str | None,
    stream_heads: dict[str, tuple[int, str]],
    progress: Callable[[int], None] | None,
    watch: dict[str, int],
) -> tuple[int, BrokenRow | None, dict[str, str], set[str]]:
    """The tight loop: per row, the sequence, the link and the recomputed hash.

    One function on purpose: a call per check would cost as much as the check.
    """
    checked = 0
    current: str | None = None
    last_hash: str | None = None
    last_sequence = watched = 0
    seen: set[str] = set()
    hashes_at: dict[str, str] = {}
    sha256 = hashlib.sha256
    for batch in _chain_rows(session, stream):
        for row in batch:
            (name, sequence, key, entity_type, entity_id, action, actor_id, actor_role,
             from_state, to_state, payload, occurred_at, prev_hash, digest) = row  # fmt: skip
            if name != current:
                broken = _check_end(current, last_sequence, last_hash, stream_heads)
                if broken:
                    return checked, broken, hashes_at, seen
                current, last_hash, last_sequence = name, None, 0
                watched = watch.get(name, -1)
                seen.add(name)
            if sequence != last_sequence + 1:
                expected = str(last_sequence + 1)
                gap = BrokenRow(name, sequence, "sequence gap", expected, str(sequence))
                return checked, gap, hashes_at, seen
            if prev_hash != last_hash:
                link = BrokenRow(
                    name, sequence, "link to previous row", str(last_hash), str(prev_hash)
                )
                return checked, link, hashes_at, seen
            payload, occurred_at = _decoded(payload, occurred_at)
            content = canonical_values(
                name, sequence, key, entity_type, entity_id, action, actor_id, actor_role,
                from_state, to_state, payload, occurred_at, prev_hash,
            )  # fmt: skip
            recomputed = sha256(content).hexdigest()
            if recomputed != digest:
                changed = BrokenRow(name, sequence, "content changed", recomputed, digest)
                return checked, changed, hashes_at, seen
            if sequence == watched:
                hashes_at[name] = digest
            last_hash, last_sequence = digest, sequence
            checked += 1
        if progress is not None:
            progress(len(batch))
    broken = _check_end(current, last_sequence, last_hash, stream_heads)
    return checked, broken, hashes_at, seen


def _missing_stream(
    stream: str | None, stream_heads: dict[str, tuple[int, str]], seen: set[str]
) -> BrokenRow | None:
    """A stream with a recorded head but no rows at all."""
    wanted = {stream} if stream is not None else set(stream_heads)
    for missing in sorted((wanted & set(stream_heads)) - seen):
        sequence, digest = stream_heads[missing]
        return BrokenRow(missing, sequence, "stream has no rows", digest, "nothing")
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
