"""The audit trail's cryptography: canonical hashing, Merkle trees, inclusion proofs.

Pure and stable: a hash computed today must verify in ten years, so the canonical form below
never changes without a new version field.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

GENESIS = "0" * 64


class AuditContent(BaseModel):
    """What a row's hash covers (everything but its database id and recording time)."""

    model_config = ConfigDict(frozen=True)

    stream: str
    sequence: int
    idempotency_key: str
    entity_type: str
    entity_id: str
    action: str
    actor_id: str
    actor_role: str
    from_state: str | None
    to_state: str | None
    payload: dict[str, Any]
    occurred_at: datetime


def canonical(content: AuditContent, prev_hash: str | None) -> bytes:
    """Sorted-key JSON, UTF-8, times in UTC ISO-8601 with microseconds."""
    data = content.model_dump()
    data["occurred_at"] = content.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    data["prev_hash"] = prev_hash or GENESIS
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(content: AuditContent, prev_hash: str | None) -> str:
    return hashlib.sha256(canonical(content, prev_hash)).hexdigest()


# The bytes `canonical` gives, built without a model or a dictionary per row, for verifying
# millions of rows. The keys are in sorted order; strings are escaped by the function
# `json.dumps(..., ensure_ascii=False)` itself uses, and the payload by an encoder with the
# same options. tests/unit/test_audit_canonical.py holds the two forms equal.
_CANONICAL_TEMPLATE = (
    '{"action":%s,"actor_id":%s,"actor_role":%s,"entity_id":%s,"entity_type":%s,'
    '"from_state":%s,"idempotency_key":%s,"occurred_at":"%s","payload":%s,"prev_hash":%s,'
    '"sequence":%d,"stream":%s,"to_state":%s}'
)
_json_string = json.encoder.encode_basestring
_json_payload = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def canonical_values(
    stream: str,
    sequence: int,
    idempotency_key: str,
    entity_type: str,
    entity_id: str,
    action: str,
    actor_id: str,
    actor_role: str,
    from_state: str | None,
    to_state: str | None,
    payload: dict[str, Any],
    occurred_at: datetime,
    prev_hash: str | None,
) -> bytes:
    """`canonical` of the content with these fields (in `AuditContent`'s order), byte for byte."""
    return (
        _CANONICAL_TEMPLATE
        % (
            _json_string(action),
            _json_string(actor_id),
            _json_string(actor_role),
            _json_string(entity_id),
            _json_string(entity_type),
            "null" if from_state is None else _json_string(from_state),
            _json_string(idempotency_key),
            occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            _json_payload(payload),
            _json_string(prev_hash or GENESIS),
            sequence,
            _json_string(stream),
            "null" if to_state is None else _json_string(to_state),
        )
    ).encode()


def leaf_hash(stream: str, sequence: int, head: str) -> str:
    return hashlib.sha256(f"leaf\x00{stream}\x00{sequence}\x00{head}".encode()).hexdigest()


def _node(left: str, right: str) -> str:
    return hashlib.sha256(f"node\x00{left}\x00{right}".encode()).hexdigest()


def merkle_root(leaves: list[str]) -> str:
    """Root of the tree over `leaves` (in order); an odd node is carried up unchanged."""
    if not leaves:
        return hashlib.sha256(b"empty").hexdigest()
    level = list(leaves)
    while len(level) > 1:
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


class ProofStep(BaseModel):
    sibling: str
    side: str  # "left" or "right": where the sibling sits


def inclusion_proof(leaves: list[str], index: int) -> list[ProofStep]:
    """The siblings on the path from leaf `index` to the root."""
    proof: list[ProofStep] = []
    level, position = list(leaves), index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            side = "left" if sibling < position else "right"
            proof.append(ProofStep(sibling=level[sibling], side=side))
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        position //= 2
    return proof


def verify_inclusion(leaf: str, proof: list[ProofStep], root: str) -> bool:
    current = leaf
    for step in proof:
        current = (
            _node(step.sibling, current) if step.side == "left" else _node(current, step.sibling)
        )
    return current == root


def checkpoint_message(merkle: str, stream_count: int, created_at: datetime) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return json.dumps(
        {
            "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "merkle_root": merkle,
            "stream_count": stream_count,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
