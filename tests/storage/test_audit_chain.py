"""The tamper-evident audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from activities.audit import create_checkpoint, public_key_b64
from domain.audit import AuditContent
from iscflow.audit_ops import verify_trail
from storage import audit
from storage.db import session_scope

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))
PUBLIC = public_key_b64(KEY)


def _content(stream: str, n: int, action: str = "Step") -> AuditContent:
    return AuditContent(
        stream=stream,
        sequence=n,
        idempotency_key=f"{stream}#{n}",
        entity_type="test",
        entity_id=stream,
        action=action,
        actor_id="u1",
        actor_role="chair",
        from_state=None,
        to_state="open",
        payload={"n": n, "text": "décision — 决定 — قرار"},
        occurred_at=NOW + timedelta(minutes=n),
    )


def _fill(engine: Engine, streams: int = 3, rows: int = 4) -> None:
    for s in range(streams):
        for n in range(1, rows + 1):
            with session_scope(engine) as session:
                audit.append(session=session, content=_content(f"s{s}", n), recorded_at=NOW)


def _tamper(engine: Engine, sql: str) -> None:
    audit.drop_append_only_triggers(engine)
    with engine.begin() as conn:
        conn.execute(text(sql))


def test_an_intact_trail_verifies_clean(engine: Engine) -> None:
    _fill(engine)
    report = verify_trail(engine, PUBLIC)
    assert (report.ok, report.rows_checked, report.broken) == (True, 12, None)


def test_writers_go_on_appending_while_the_trail_is_verified(engine: Engine) -> None:
    """Verification reads one snapshot without the write lock: an append during the walk
    neither waits for it (on SQLite it would fail with "database is locked") nor breaks it."""
    _fill(engine)
    appended: list[int] = []

    def append_meanwhile(_rows: int) -> None:
        n = 5 + len(appended)
        with session_scope(engine) as session:
            audit.append(session=session, content=_content("s0", n), recorded_at=NOW)
        appended.append(n)

    report = verify_trail(engine, PUBLIC, progress=append_meanwhile)

    assert appended  # the walk reported progress, and the append went through meanwhile
    assert (report.ok, report.rows_checked, report.broken) == (True, 12, None)
    assert verify_trail(engine, PUBLIC).rows_checked == 12 + len(appended)


def test_rows_with_unicode_nested_payloads_and_offsets_verify_clean(engine: Engine) -> None:
    # The walk rebuilds each row's canonical bytes from what the driver hands back; any
    # difference from what `append` hashed would show here as "content changed".
    odd = 'quote " backslash \\ tab \t newline \n — décision 决定 قرار 😀'
    with session_scope(engine) as session:
        for n in range(1, 4):
            content = _content(odd, n).model_copy(
                update={
                    "actor_id": f"zoë-{n}",
                    "from_state": None if n == 1 else "open",
                    "to_state": None,
                    "payload": {
                        "z": [n, {"b": None, "a": [True, 0.1, -(2**40)]}],
                        "é": {"nested": {"deeper": [odd, None]}},
                        "a": None,
                    },
                    "occurred_at": NOW.astimezone(timezone(timedelta(hours=-3)))
                    + timedelta(microseconds=n),
                }
            )
            audit.append(session=session, content=content, recorded_at=NOW)

    report = verify_trail(engine, PUBLIC)

    assert (report.ok, report.rows_checked, report.broken) == (True, 3, None)


def test_a_changed_payload_value_is_named_by_verify(engine: Engine) -> None:
    _fill(engine, streams=1, rows=3)
    _tamper(
        engine, """UPDATE audit_event SET payload = '{"n": 2, "text": "x"}' WHERE sequence = 2"""
    )

    broken = verify_trail(engine, PUBLIC).broken

    assert broken is not None
    assert (broken.stream, broken.sequence, broken.problem) == ("s0", 2, "content changed")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET action = 'Forged' WHERE sequence = 2", "DELETE FROM audit_event"],
)
def test_the_database_refuses_update_and_delete_of_audit_rows(
    engine: Engine, statement: str
) -> None:
    _fill(engine, streams=1, rows=2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    assert verify_trail(engine, PUBLIC).rows_checked == 2


def test_a_changed_row_is_named_by_verify(engine: Engine) -> None:
    _fill(engine)
    _tamper(
        engine, "UPDATE audit_event SET actor_id = 'mallory' WHERE stream = 's1' AND sequence = 3"
    )

    broken = verify_trail(engine, PUBLIC).broken

    assert broken is not None
    assert (broken.stream, broken.sequence, broken.problem) == ("s1", 3, "content changed")
    assert broken.expected != broken.found


def test_a_deleted_row_is_named_by_verify(engine: Engine) -> None:
    _fill(engine)
    _tamper(engine, "DELETE FROM audit_event WHERE stream = 's2' AND sequence = 2")

    broken = verify_trail(engine, PUBLIC).broken

    assert broken is not None
    assert (broken.stream, broken.sequence, broken.problem) == ("s2", 3, "sequence gap")
    assert (broken.expected, broken.found) == ("2", "3")


def test_a_deleted_last_row_is_found_against_the_stream_head(engine: Engine) -> None:
    _fill(engine)
    _tamper(engine, "DELETE FROM audit_event WHERE stream = 's0' AND sequence = 4")

    broken = verify_trail(engine, PUBLIC).broken

    assert broken is not None
    assert (broken.stream, broken.sequence) == ("s0", 4)


def test_a_swapped_pair_is_named_by_verify(engine: Engine) -> None:
    _fill(engine)
    # Swap the contents of rows 2 and 3 of stream s1, hashes included.
    _tamper(
        engine,
        "UPDATE audit_event SET sequence = -sequence WHERE stream = 's1' AND sequence IN (2, 3)",
    )
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_event SET sequence = 3 WHERE stream = 's1' AND sequence = -2")
        )
        conn.execute(
            text("UPDATE audit_event SET sequence = 2 WHERE stream = 's1' AND sequence = -3")
        )

    broken = verify_trail(engine, PUBLIC).broken

    assert broken is not None
    assert (broken.stream, broken.sequence) == ("s1", 2)


def test_a_rewritten_history_is_caught_by_the_signed_checkpoint(engine: Engine) -> None:
    _fill(engine, streams=2, rows=3)
    with session_scope(engine) as session:
        create_checkpoint(session=session, private_key=KEY, now=NOW)
    # Rewrite stream s0 completely, recomputing every hash and the head: the chain alone is
    # consistent again, but it no longer matches what was signed.
    _tamper(engine, "DELETE FROM audit_event WHERE stream = 's0'")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_stream_head WHERE stream = 's0'"))
    for n in range(1, 4):
        with session_scope(engine) as session:
            audit.append(
                session=session, content=_content("s0", n, action="Forged"), recorded_at=NOW
            )

    report = verify_trail(engine, PUBLIC)

    assert report.broken is not None
    assert (report.broken.stream, report.broken.problem) == (
        "s0",
        "differs from the signed checkpoint",
    )


def test_a_checkpoint_signed_with_another_key_does_not_verify(engine: Engine) -> None:
    _fill(engine, streams=1, rows=1)
    with session_scope(engine) as session:
        create_checkpoint(session=session, private_key=bytes(32), now=NOW)

    report = verify_trail(engine, PUBLIC)

    assert (report.checkpoint_valid, report.ok) == (False, False)


@pytest.mark.parametrize("shape", ["same stream", "different streams"])
def test_sixteen_concurrent_writers_leave_no_fork_gap_or_duplicate(
    engine: Engine, shape: str
) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        stream = "shared" if shape == "same stream" else f"w{n}"
        try:
            for k in range(10):
                with session_scope(engine) as session:
                    audit.append(
                        session=session,
                        content=_content(stream, 0, action=f"w{n}-{k}").model_copy(
                            update={"idempotency_key": f"{stream}/{n}/{k}"}
                        ),
                        recorded_at=NOW,
                        assign_sequence=True,
                    )
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    report = verify_trail(engine, PUBLIC)
    assert (report.ok, report.rows_checked) == (True, 160)
    with Session(engine) as session:
        heads = audit.heads(session)
    if shape == "same stream":
        assert heads["shared"][0] == 160
    else:
        assert {seq for seq, _ in heads.values()} == {10}
