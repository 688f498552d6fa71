"""Verifying an exported audit checkpoint with nothing but its public key.

Deliberately independent of the database and of the code that made the checkpoint: an
auditor can run it on the exported JSON alone.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.audit import ProofStep, checkpoint_message, leaf_hash, merkle_root, verify_inclusion


def verify_checkpoint(document: dict[str, Any], public_key_b64: str) -> bool:
    """True if the heads give the Merkle root and the root is signed by the key's owner."""
    heads: dict[str, list[Any]] = document["heads"]
    leaves = [
        leaf_hash(stream, int(heads[stream][0]), str(heads[stream][1])) for stream in sorted(heads)
    ]
    if merkle_root(leaves) != document["merkle_root"] or len(heads) != document["stream_count"]:
        return False
    message = checkpoint_message(
        document["merkle_root"],
        int(document["stream_count"]),
        datetime.fromisoformat(document["created_at"]),
    )
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(document["signature"]), message)
    except InvalidSignature:
        return False
    return True


def verify_head_proof(
    stream: str, sequence: int, head_hash: str, proof: list[dict[str, str]], root: str
) -> bool:
    """True if the stream's head (sequence, hash) is one of the leaves under `root`."""
    steps = [ProofStep.model_validate(step) for step in proof]
    return verify_inclusion(leaf_hash(stream, sequence, head_hash), steps, root)
