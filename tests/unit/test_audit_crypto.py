"""Merkle trees, inclusion proofs and checkpoint signatures, checked independently."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.audit import public_key_b64
from domain.audit import (
    AuditContent,
    canonical,
    checkpoint_message,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    row_hash,
    verify_inclusion,
)
from iscflow.audit_verify import verify_checkpoint, verify_head_proof

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _leaves(n: int) -> list[str]:
    return [
        leaf_hash(f"s{i}", i + 1, hashlib.sha256(str(i).encode()).hexdigest()) for i in range(n)
    ]


@pytest.mark.parametrize("size", range(1, 10))
def test_every_leaf_has_a_proof_that_reaches_the_root(size: int) -> None:
    leaves = _leaves(size)
    root = merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        assert verify_inclusion(leaf, inclusion_proof(leaves, index), root)


def test_a_leaf_not_in_the_tree_does_not_verify() -> None:
    leaves = _leaves(5)
    stranger = leaf_hash("s9", 1, "0" * 64)
    assert not verify_inclusion(stranger, inclusion_proof(leaves, 2), merkle_root(leaves))


def test_canonical_form_is_sorted_utf8_json_with_the_previous_hash() -> None:
    content = AuditContent(
        stream="issue-1", sequence=1, idempotency_key="issue-1#1", entity_type="issue",
        entity_id="1", action="IssueRaised", actor_id="u", actor_role="focal_point",
        from_state=None, to_state="open", payload={"title": "Accès — 无障碍"}, occurred_at=NOW,
    )  # fmt: skip
    data = canonical(content, None)
    assert data.startswith(b'{"action":"IssueRaised","actor_id":"u"')
    assert "Accès — 无障碍".encode() in data
    assert row_hash(content, None) == hashlib.sha256(data).hexdigest()
    assert row_hash(content, "a" * 64) != row_hash(content, None)


def _document(private: Ed25519PrivateKey, heads: dict[str, list[object]]) -> dict[str, object]:
    names = sorted(heads)
    root = merkle_root([leaf_hash(n, int(str(heads[n][0])), str(heads[n][1])) for n in names])
    signature = private.sign(checkpoint_message(root, len(heads), NOW))
    import base64

    return {
        "created_at": NOW.isoformat(timespec="microseconds"),
        "merkle_root": root,
        "stream_count": len(heads),
        "heads": heads,
        "signature": base64.b64encode(signature).decode(),
    }


def test_a_checkpoint_verifies_with_only_its_public_key() -> None:
    raw = bytes(range(32))
    private = Ed25519PrivateKey.from_private_bytes(raw)
    heads: dict[str, list[object]] = {"issue-a": [3, "a" * 64], "issue-b": [1, "b" * 64]}
    document = _document(private, heads)

    assert verify_checkpoint(document, public_key_b64(raw))
    assert not verify_checkpoint(document, public_key_b64(bytes(32)))
    forged = {**document, "heads": {**heads, "issue-a": [3, "c" * 64]}}
    assert not verify_checkpoint(forged, public_key_b64(raw))


def test_a_head_proof_ties_one_stream_to_the_signed_root() -> None:
    heads = {f"issue-{i}": (i + 1, hashlib.sha256(str(i).encode()).hexdigest()) for i in range(6)}
    names = sorted(heads)
    leaves = [leaf_hash(n, *heads[n]) for n in names]
    root = merkle_root(leaves)
    index = names.index("issue-4")
    proof = [step.model_dump() for step in inclusion_proof(leaves, index)]

    assert verify_head_proof("issue-4", *heads["issue-4"], proof, root)
    assert not verify_head_proof("issue-4", 99, heads["issue-4"][1], proof, root)
