"""Verifying and exporting the audit trail (used by the CLI and the API)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from activities.audit import checkpoint_document, head_proof, public_key_b64
from iscflow.audit_verify import verify_checkpoint
from storage import audit
from storage.audit import BrokenRow
from storage.db import is_sqlite, reader, utc
from storage.models import AuditEventRow


@dataclass(frozen=True)
class VerifyReport:
    rows_checked: int
    broken: BrokenRow | None
    checkpoint_id: int | None
    checkpoint_valid: bool | None

    @property
    def ok(self) -> bool:
        return self.broken is None and self.checkpoint_valid is not False


def verify_trail(
    engine: Engine,
    public_key: str,
    *,
    stream: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Re-walk every chain (or one), then check them against the latest checkpoint.

    `public_key` is the trusted key from configuration, never the one stored in the database.
    The walk reads one snapshot: on SQLite a read transaction (which takes no write lock, so
    writers go on appending), on PostgreSQL repeatable read (so that an append landing between
    reading the heads and the rows is not mistaken for a broken chain).
    """
    snapshot = (
        reader(engine)
        if is_sqlite(str(engine.url))
        else engine.execution_options(isolation_level="REPEATABLE READ")
    )
    with Session(snapshot) as session:
        checkpoint = audit.latest_checkpoint(session)
        signed = _signed_heads(checkpoint.heads if checkpoint is not None else {}, stream)
        # The walk notes the hash at each signed head as it passes: no query per stream.
        walked = audit.walk_chains(
            session,
            stream,
            progress=progress,
            watch={name: sequence for name, (sequence, _) in signed.items()},
        )
        if checkpoint is None:
            return VerifyReport(walked.checked, walked.broken, None, None)
        valid = verify_checkpoint(checkpoint_document(checkpoint), public_key)
        broken = walked.broken
        if broken is None:
            broken = _against_checkpoint(signed, walked.hashes_at)
        return VerifyReport(walked.checked, broken, checkpoint.id, valid)


def _signed_heads(heads: dict[str, Any], stream: str | None) -> dict[str, tuple[int, str]]:
    """The heads the checkpoint signed (for `stream` only, when given)."""
    names = sorted(heads) if stream is None else [stream] if stream in heads else []
    return {name: (int(heads[name][0]), str(heads[name][1])) for name in names}


def _against_checkpoint(
    signed: dict[str, tuple[int, str]], hashes_at: dict[str, str]
) -> BrokenRow | None:
    """Every head the checkpoint signed must still be in the chain, unchanged."""
    for name, (sequence, digest) in signed.items():
        found = hashes_at.get(name, "nothing")
        if found != digest:
            return BrokenRow(name, sequence, "differs from the signed checkpoint", digest, found)
    return None


def row_document(row: AuditEventRow) -> dict[str, Any]:
    return {
        "stream": row.stream,
        "sequence": row.sequence,
        "idempotency_key": row.idempotency_key,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "action": row.action,
        "actor_id": row.actor_id,
        "actor_role": row.actor_role,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "payload": row.payload,
        "occurred_at": utc(row.occurred_at).isoformat(timespec="microseconds"),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def export_lines(engine: Engine, *, stream: str | None = None) -> Iterator[str]:
    """JSON Lines: every row, then one line with the checkpoint and the heads' proofs."""
    with Session(engine) as session:
        streams: set[str] = set()
        for row in audit.iter_rows(session, stream):
            streams.add(row.stream)
            yield json.dumps({"row": row_document(row)}, ensure_ascii=False, sort_keys=True)
        checkpoint = audit.latest_checkpoint(session)
        trailer: dict[str, Any] = {"checkpoint": None, "proofs": []}
        if checkpoint is not None:
            trailer["checkpoint"] = checkpoint_document(checkpoint)
            proofs = (head_proof(checkpoint, name) for name in sorted(streams))
            trailer["proofs"] = [p for p in proofs if p is not None]
        yield json.dumps(trailer, ensure_ascii=False, sort_keys=True)


def trusted_public_key(private_key: bytes) -> str:
    return public_key_b64(private_key)
