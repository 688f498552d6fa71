"""Audit checkpoints: a signed Merkle root over all stream heads."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from domain.audit import checkpoint_message, inclusion_proof, merkle_root
from storage import audit
from storage.db import session_scope, utc
from storage.models import AuditCheckpointRow


def public_key_b64(private_key: bytes) -> str:
    key = Ed25519PrivateKey.from_private_bytes(private_key).public_key()
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def create_checkpoint(*, session: Session, private_key: bytes, now: datetime) -> AuditCheckpointRow:
    """Sign the Merkle root of every stream head as it stands in this transaction."""
    heads = audit.heads(session)
    _, leaves = audit.leaves(heads)
    root = merkle_root(leaves)
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(
        checkpoint_message(root, len(heads), now)
    )
    row = AuditCheckpointRow(
        created_at=now,
        merkle_root=root,
        stream_count=len(heads),
        heads={stream: [sequence, digest] for stream, (sequence, digest) in heads.items()},
        signature=base64.b64encode(signature).decode(),
        public_key=public_key_b64(private_key),
    )
    session.add(row)
    session.flush()
    return row


def checkpoint_document(row: AuditCheckpointRow) -> dict[str, Any]:
    """The small JSON document anyone can verify with the public key."""
    return {
        "version": 1,
        "id": row.id,
        "created_at": utc(row.created_at).isoformat(timespec="microseconds"),
        "merkle_root": row.merkle_root,
        "stream_count": row.stream_count,
        "heads": row.heads,
        "signature": row.signature,
        "public_key": row.public_key,
    }


def head_proof(row: AuditCheckpointRow, stream: str) -> dict[str, Any] | None:
    """The proof that `stream`'s head at the checkpoint is included in its root."""
    if stream not in row.heads:
        return None
    heads = {name: (int(v[0]), str(v[1])) for name, v in row.heads.items()}
    names, leaves = audit.leaves(heads)
    index = names.index(stream)
    sequence, digest = heads[stream]
    return {
        "stream": stream,
        "sequence": sequence,
        "hash": digest,
        "proof": [step.model_dump() for step in inclusion_proof(leaves, index)],
    }


class CheckpointResult(BaseModel):
    id: int
    merkle_root: str
    stream_count: int


class AuditActivities:
    def __init__(self, engine: Engine, private_key: bytes) -> None:
        self._engine = engine
        self._key = private_key

    @activity.defn(name="make_audit_checkpoint")
    def make_checkpoint(self) -> CheckpointResult:
        """Store a signed checkpoint of every stream head."""
        with session_scope(self._engine) as session:
            row = create_checkpoint(session=session, private_key=self._key, now=datetime.now(UTC))
            assert row.id is not None
            return CheckpointResult(
                id=row.id, merkle_root=row.merkle_root, stream_count=row.stream_count
            )
