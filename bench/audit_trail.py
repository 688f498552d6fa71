"""`iscflow bench audit`: verifying an audit trail of N rows against a bare SHA-256 loop.

The trail is generated with bulk inserts: streams of ten rows shaped like an issue's life,
each row's hash computed by `domain.audit.row_hash` and chained to the previous one, the
stream heads, then a signed checkpoint over them. `iscflow.audit_ops.verify_trail` then
re-walks every chain and checks the checkpoint. The baseline hashes the same canonical bytes
(and compares each digest with the stored one) in a plain loop, in the same run.

The baseline's bytes are already in memory: it neither reads rows nor builds the bytes. So the
result also reports how fast a bare cursor merely reads the same columns of the same rows
(`read_only`), the ceiling of any verifier that reads the trail from the database. It is
reported, not part of the ratio.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from activities.audit import create_checkpoint
from bench.report import emit, machine, progress, ratio
from bench.stack import scratch_database
from domain.audit import AuditContent, canonical, row_hash
from iscflow.audit_ops import trusted_public_key, verify_trail
from storage.db import session_scope
from storage.models import AuditEventRow, AuditStreamHeadRow

DEFAULT_SIZE = 1_000_000
QUICK_SIZE = 20_000
ROWS_PER_STREAM = 10
BATCH = 10_000
TARGET_RATIO = 0.3

ACTIONS = (
    ("IssueRaised", None, "open"),
    ("CommentAdded", "open", "open"),
    ("CommentAdded", "open", "open"),
    ("ReminderSent", "open", "open"),
    ("EscalationRequested", "open", "escalation_requested"),
    ("ReminderSent", "escalation_requested", "escalation_requested"),
    ("EscalationApproved", "escalation_requested", "escalated"),
    ("CommentAdded", "escalated", "escalated"),
    ("DecisionRecorded", "escalated", "decided"),
    ("IssueClosed", "decided", "closed"),
)


class BareClock:
    """Time spent in the bare loop: SHA-256 of each row's canonical bytes, compared."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.rows = 0
        self.mismatches = 0

    def hash_all(self, batch: list[tuple[bytes, str]]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        mismatches = 0
        for data, digest in batch:
            if hashlib.sha256(data).hexdigest() != digest:
                mismatches += 1
        self.seconds += time.perf_counter() - started
        self.cpu_seconds += time.process_time() - cpu
        self.rows += len(batch)
        self.mismatches += mismatches


def _stream_rows(stream_number: int, start: datetime) -> Iterator[AuditContent]:
    entity = f"bench-{stream_number:08d}"
    for sequence, (action, from_state, to_state) in enumerate(ACTIONS, start=1):
        payload: dict[str, Any] = {"body": f"Step {sequence} of issue {entity}.", "level": 1}
        yield AuditContent(
            stream=f"issue-{entity}",
            sequence=sequence,
            idempotency_key=f"issue-{entity}#{sequence}",
            entity_type="issue",
            entity_id=entity,
            action=action,
            actor_id="bench-fp-t" if sequence % 2 else "bench-chair",
            actor_role="focal_point" if sequence % 2 else "chair",
            from_state=from_state,
            to_state=to_state,
            payload=payload,
            occurred_at=start + timedelta(seconds=stream_number * 60 + sequence),
        )


READ_ONLY_SQL = (
    "SELECT stream, sequence, idempotency_key, entity_type, entity_id, action, actor_id,"
    " actor_role, from_state, to_state, CAST(payload AS TEXT), occurred_at, prev_hash, hash"
    " FROM audit_event ORDER BY stream, sequence"
)


def read_only(engine: Engine) -> dict[str, Any]:
    """Read every row's columns as the verifier reads them, in batches, and do nothing else."""
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=BATCH).exec_driver_sql(READ_ONLY_SQL)
        for batch in result.partitions():
            rows += len(batch)
    seconds = time.perf_counter() - started
    return {
        "rows_read": rows,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "rows_per_second": round(rows / seconds, 1),
    }


def generate(engine: Engine, size: int, bare: BareClock) -> int:
    """Insert `size` chained rows (whole streams) and their heads; feeds the bare loop."""
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    recorded = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    batch: list[tuple[bytes, str]] = []
    event_table = AuditEventRow.__table__  # type: ignore[attr-defined]
    head_table = AuditStreamHeadRow.__table__  # type: ignore[attr-defined]
    written = 0

    def flush() -> None:
        with session_scope(engine) as session:
            session.execute(insert(event_table), rows)
            session.execute(insert(head_table), heads)
        bare.hash_all(batch)
        rows.clear()
        heads.clear()
        batch.clear()

    for number in range(size // ROWS_PER_STREAM):
        prev: str | None = None
        for content in _stream_rows(number, start):
            digest = row_hash(content, prev)
            batch.append((canonical(content, prev), digest))
            rows.append(
                {**content.model_dump(), "recorded_at": recorded, "prev_hash": prev, "hash": digest}
            )
            prev = digest
        assert prev is not None
        heads.append({"stream": content.stream, "sequence": content.sequence, "hash": prev})
        written += ROWS_PER_STREAM
        if len(rows) >= BATCH:
            flush()
        if written % 200_000 == 0:
            progress(f"audit: {written} rows written")
    if rows:
        flush()
    return written


def run(*, size: int = DEFAULT_SIZE, database_url: str | None) -> dict[str, Any]:
    size -= size % ROWS_PER_STREAM
    with scratch_database("audit", database_url=database_url) as scratch:
        engine, key = scratch.engine, os.urandom(32)
        bare = BareClock()
        progress(f"audit: generating {size} rows in streams of {ROWS_PER_STREAM}")
        started = time.perf_counter()
        written = generate(engine, size, bare)
        with session_scope(engine) as session:
            checkpoint = create_checkpoint(session=session, private_key=key, now=datetime.now(UTC))
        generate_seconds = time.perf_counter() - started
        progress(f"audit: {written} rows in {generate_seconds:.0f} s; reading, then verifying")
        load_before = os.getloadavg()
        reading = read_only(engine)
        started, cpu = time.perf_counter(), time.process_time()
        report = verify_trail(engine, trusted_public_key(key))
        verify_seconds = time.perf_counter() - started
        verify_cpu = time.process_time() - cpu
        load_after = os.getloadavg()
    verified_rate = report.rows_checked / verify_seconds
    bare_rate = bare.rows / bare.seconds
    project = {
        "rows_verified": report.rows_checked,
        "streams": checkpoint.stream_count,
        "ok": report.ok,
        "checkpoint_valid": report.checkpoint_valid,
        "seconds": round(verify_seconds, 3),
        # This process only: on PostgreSQL the server's own work is not in it.
        "cpu_seconds": round(verify_cpu, 3),
        "rows_per_second": round(verified_rate, 1),
    }
    baseline = {
        "rows_hashed": bare.rows,
        "mismatches": bare.mismatches,
        "seconds": round(bare.seconds, 3),
        "cpu_seconds": round(bare.cpu_seconds, 3),
        "rows_per_second": round(bare_rate, 1),
    }
    figure = ratio(verified_rate, bare_rate)
    return {
        "benchmark": "audit",
        "database": scratch.database,
        "size": size,
        "unit": "rows/s",
        "generate_seconds": round(generate_seconds, 1),
        "project": project,
        "baseline": baseline,
        "read_only": reading,
        "ratio": figure,
        # The same ratio in CPU time: on a busy machine a long run loses more of its wall time
        # to other processes than the baseline's short bursts do.
        "cpu_ratio": ratio(report.rows_checked * bare.cpu_seconds, bare.rows * verify_cpu),
        "target": f"ratio >= {TARGET_RATIO}",
        "target_met": figure >= TARGET_RATIO and report.ok,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "machine": machine(),
    }


def main(*, size: int, database_url: str | None) -> None:
    emit(run(size=size, database_url=database_url))
