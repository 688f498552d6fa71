"""`iscflow audit` as an auditor runs it: verify, checkpoint, public-key and export."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from domain.audit import AuditContent, row_hash
from iscflow.audit_verify import verify_checkpoint
from storage import audit
from storage.db import create_db_engine, session_scope

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ISCFLOW = str(Path(sys.executable).parent / "iscflow")


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ISCFLOW_DATA_DIR": str(data_dir)}
    env.pop("ISCFLOW_DATABASE_URL", None)
    env.pop("ISCFLOW_AUDIT_SIGNING_KEY", None)
    return subprocess.run(
        [ISCFLOW, *args], env=env, cwd=data_dir, capture_output=True, text=True, timeout=120
    )


def _content(stream: str, n: int, action: str = "Step") -> AuditContent:
    return AuditContent(
        stream=stream,
        sequence=n,
        idempotency_key=f"{stream}#{n}#{action}",
        entity_type="test",
        entity_id=stream,
        action=action,
        actor_id="u1",
        actor_role="chair",
        from_state=None,
        to_state="open",
        payload={"n": n, "text": "décision — 决定"},
        occurred_at=NOW + timedelta(minutes=n),
    )


def _append(engine: Engine, stream: str, rows: int, action: str = "Step") -> list[str]:
    """Append `rows` rows to `stream`; their hashes, in order."""
    hashes: list[str] = []
    for n in range(1, rows + 1):
        with session_scope(engine) as session:
            row = audit.append(
                session=session, content=_content(stream, n, action), recorded_at=NOW
            )
            hashes.append(row.hash)
    return hashes


def _tamper(engine: Engine, *statements: str) -> None:
    audit.drop_append_only_triggers(engine)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database made by `iscflow db upgrade`, seen from the test."""
    upgraded = _run("db", "upgrade", data_dir=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_db_engine(f"sqlite:///{tmp_path / 'iscflow.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def trail(engine: Engine) -> dict[str, list[str]]:
    """Two streams of three rows: s0 and s1, with each row's hash."""
    hashes = {stream: _append(engine, stream, 3) for stream in ("s0", "s1")}
    engine.dispose()
    return hashes


def _public_key(data_dir: Path) -> str:
    shown = _run("audit", "public-key", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.strip()


def test_verify_of_an_intact_trail_exits_0(tmp_path: Path, trail: dict[str, list[str]]) -> None:
    verified = _run("audit", "verify", data_dir=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == "OK: 6 rows verified; no checkpoint yet"


def test_verify_names_a_changed_row_and_exits_1(
    tmp_path: Path, engine: Engine, trail: dict[str, list[str]]
) -> None:
    _tamper(
        engine, "UPDATE audit_event SET actor_id = 'mallory' WHERE stream = 's1' AND sequence = 2"
    )
    forged = _content("s1", 2).model_copy(update={"actor_id": "mallory"})

    verified = _run("audit", "verify", data_dir=tmp_path)

    assert verified.returncode == 1
    assert "OK" not in verified.stdout
    assert (
        f"BROKEN: stream s1, sequence 2: content changed; "
        f"expected {row_hash(forged, trail['s1'][0])}, found {trail['s1'][1]}"
    ) in verified.stderr


def test_verify_of_an_untouched_stream_still_exits_0(
    tmp_path: Path, engine: Engine, trail: dict[str, list[str]]
) -> None:
    _tamper(
        engine, "UPDATE audit_event SET actor_id = 'mallory' WHERE stream = 's1' AND sequence = 2"
    )

    verified = _run("audit", "verify", "--stream", "s0", data_dir=tmp_path)

    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == "OK: 3 rows verified; no checkpoint yet"


def test_verify_after_a_checkpoint_reports_it_verified(
    tmp_path: Path, trail: dict[str, list[str]]
) -> None:
    made = _run("audit", "checkpoint", data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("checkpoint #1: 2 streams, root ")

    verified = _run("audit", "verify", data_dir=tmp_path)

    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == "OK: 6 rows verified; checkpoint #1 verified"


def test_public_key_is_a_stable_base64_ed25519_key(tmp_path: Path) -> None:
    key = _public_key(tmp_path)
    assert len(base64.b64decode(key, validate=True)) == 32
    assert _public_key(tmp_path) == key  # kept in the data directory, not made anew each time


def test_export_to_a_file_carries_a_checkpoint_the_public_key_verifies(
    tmp_path: Path, trail: dict[str, list[str]]
) -> None:
    assert _run("audit", "checkpoint", data_dir=tmp_path).returncode == 0
    out = tmp_path / "audit.jsonl"

    exported = _run("audit", "export", "--output", str(out), data_dir=tmp_path)

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == ""
    *rows, trailer = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"]["hash"] for r in rows] == trail["s0"] + trail["s1"]
    checkpoint = trailer["checkpoint"]
    assert checkpoint["heads"] == {s: [3, hashes[-1]] for s, hashes in trail.items()}
    assert verify_checkpoint(checkpoint, _public_key(tmp_path)) is True
    assert [p["stream"] for p in trailer["proofs"]] == ["s0", "s1"]


def test_a_consistently_rewritten_stream_differs_from_the_signed_checkpoint(
    tmp_path: Path, engine: Engine, trail: dict[str, list[str]]
) -> None:
    assert _run("audit", "checkpoint", data_dir=tmp_path).returncode == 0
    # Rewrite s0 whole, hashes and head included: the chain alone is consistent again.
    _tamper(
        engine,
        "DELETE FROM audit_event WHERE stream = 's0'",
        "DELETE FROM audit_stream_head WHERE stream = 's0'",
    )
    forged = _append(engine, "s0", 3, action="Forged")
    engine.dispose()

    verified = _run("audit", "verify", data_dir=tmp_path)

    assert verified.returncode == 1
    assert (
        f"BROKEN: stream s0, sequence 3: differs from the signed checkpoint; "
        f"expected {trail['s0'][-1]}, found {forged[-1]}"
    ) in verified.stderr
