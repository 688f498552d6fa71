"""/api/v1/audit: verify, export and checkpoint the tamper-evident trail over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from domain.audit import AuditContent, row_hash
from iscflow.audit_verify import verify_checkpoint, verify_head_proof
from storage.audit import drop_append_only_triggers
from tests.api.conftest import auth
from tests.support.people import People

AUDIT = "/api/v1/audit"
RAISE = {"title": "Captioning of webcasts", "description": "d", "theme": "accessibility"}


async def _raise(api: httpx.AsyncClient, people: People) -> str:
    created = await api.post("/api/v1/issues", json=RAISE, headers=auth(people.fp_access.token))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _trail(api: httpx.AsyncClient, people: People) -> tuple[str, str]:
    """Two issues: one raised, commented, escalated and approved (4 rows); one only raised."""
    fp, chair = auth(people.fp_access.token), auth(people.chair.token)
    busy = await _raise(api, people)
    steps = [
        (f"/api/v1/issues/{busy}/comments", {"body": "We need CART too."}, fp),
        (f"/api/v1/issues/{busy}/escalation-request", {"reason": "budget"}, fp),
        (f"/api/v1/issues/{busy}/escalation-request/approve", {}, chair),
    ]
    for url, body, headers in steps:
        r = await api.post(url, json=body, headers=headers)
        assert r.status_code == 200, r.text
    quiet = await _raise(api, people)
    return busy, quiet


def _rows_in_db(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one())


async def _trail_length(api: httpx.AsyncClient, people: People, iid: str) -> int:
    detail = await api.get(f"/api/v1/issues/{iid}", headers=auth(people.auditor.token))
    return len(detail.json()["audit_trail"])


async def _export(api: httpx.AsyncClient, people: People, **params: str) -> list[dict[str, Any]]:
    r = await api.get(f"{AUDIT}/export", params=params, headers=auth(people.auditor.token))
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


async def _public_key(api: httpx.AsyncClient, people: People) -> str:
    r = await api.get(f"{AUDIT}/public-key", headers=auth(people.auditor.token))
    assert r.status_code == 200, r.text
    assert r.json()["algorithm"] == "Ed25519"
    return str(r.json()["public_key"])


async def _checkpoint(api: httpx.AsyncClient, people: People) -> dict[str, Any]:
    r = await api.post(f"{AUDIT}/checkpoints", headers=auth(people.admin.token))
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


@pytest.mark.parametrize("who", ["auditor", "admin"])
async def test_auditor_and_admin_verify_an_intact_trail(
    api: httpx.AsyncClient, people: People, engine: Engine, who: str
) -> None:
    await _trail(api, people)
    r = await api.get(f"{AUDIT}/verify", headers=auth(getattr(people, who).token))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ok": True,
        "rows_checked": _rows_in_db(engine),
        "broken": None,
        "checkpoint_id": None,
        "checkpoint_valid": None,
    }
    assert r.json()["rows_checked"] == 5


@pytest.mark.parametrize("who", ["fp_access", "chair", "secretariat", "executive"])
async def test_other_roles_may_not_read_the_audit_trail(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    headers = auth(getattr(people, who).token)
    for path in ("/verify", "/export", "/checkpoints/latest", "/public-key"):
        r = await api.get(f"{AUDIT}{path}", headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "permission_denied"), path


async def test_verify_without_a_token_answers_401(api: httpx.AsyncClient) -> None:
    r = await api.get(f"{AUDIT}/verify")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_verify_of_one_stream_checks_only_that_stream(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    busy, quiet = await _trail(api, people)
    for iid in (busy, quiet):
        r = await api.get(
            f"{AUDIT}/verify", params={"stream": f"issue-{iid}"}, headers=auth(people.auditor.token)
        )
        assert (r.json()["ok"], r.json()["rows_checked"]) == (
            True,
            await _trail_length(api, people, iid),
        )
    assert (await _trail_length(api, people, busy), _rows_in_db(engine)) == (4, 5)


async def test_a_changed_row_is_named_by_verify(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    busy, _ = await _trail(api, people)
    stream = f"issue-{busy}"
    drop_append_only_triggers(engine)
    with engine.begin() as conn:
        stored = conn.execute(
            text("SELECT hash FROM audit_event WHERE stream = :s AND sequence = 2"), {"s": stream}
        ).scalar_one()
        conn.execute(
            text("UPDATE audit_event SET actor_id = 'mallory' WHERE stream = :s AND sequence = 2"),
            {"s": stream},
        )

    r = await api.get(f"{AUDIT}/verify", headers=auth(people.auditor.token))

    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    broken = body["broken"]
    assert (broken["stream"], broken["sequence"], broken["problem"]) == (
        stream,
        2,
        "content changed",
    )
    assert broken["found"] == stored  # the hash stored with the row, untouched
    assert broken["expected"] != broken["found"] and len(broken["expected"]) == 64


async def test_latest_checkpoint_answers_404_before_any_is_made(
    api: httpx.AsyncClient, people: People
) -> None:
    r = await api.get(f"{AUDIT}/checkpoints/latest", headers=auth(people.auditor.token))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_admin_makes_a_checkpoint_that_the_public_key_verifies(
    api: httpx.AsyncClient, people: People
) -> None:
    busy, quiet = await _trail(api, people)
    doc = await _checkpoint(api, people)

    assert (doc["version"], doc["stream_count"]) == (1, 2)
    assert set(doc["heads"]) == {f"issue-{busy}", f"issue-{quiet}"}
    assert doc["heads"][f"issue-{busy}"][0] == 4
    public_key = await _public_key(api, people)
    assert doc["public_key"] == public_key
    assert verify_checkpoint(doc, public_key) is True
    forged = {**doc, "heads": {**doc["heads"], f"issue-{quiet}": [2, "f" * 64]}}
    assert verify_checkpoint(forged, public_key) is False


async def test_latest_checkpoint_returns_the_one_just_made(
    api: httpx.AsyncClient, people: People
) -> None:
    await _trail(api, people)
    first = await _checkpoint(api, people)
    second = await _checkpoint(api, people)

    r = await api.get(f"{AUDIT}/checkpoints/latest", headers=auth(people.auditor.token))

    assert r.status_code == 200
    assert second["id"] == first["id"] + 1
    assert r.json() == second
    assert verify_checkpoint(r.json(), await _public_key(api, people)) is True


async def test_an_auditor_may_not_make_a_checkpoint(api: httpx.AsyncClient, people: People) -> None:
    r = await api.post(f"{AUDIT}/checkpoints", headers=auth(people.auditor.token))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "permission_denied")
    latest = await api.get(f"{AUDIT}/checkpoints/latest", headers=auth(people.auditor.token))
    assert latest.status_code == 404


async def test_verify_after_a_checkpoint_reports_it_valid(
    api: httpx.AsyncClient, people: People
) -> None:
    await _trail(api, people)
    doc = await _checkpoint(api, people)

    r = await api.get(f"{AUDIT}/verify", headers=auth(people.auditor.token))

    body = r.json()
    assert (body["ok"], body["checkpoint_id"], body["checkpoint_valid"]) == (True, doc["id"], True)


async def test_export_is_ndjson_rows_in_chain_order_then_a_trailer(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    await _trail(api, people)
    await _checkpoint(api, people)

    r = await api.get(f"{AUDIT}/export", headers=auth(people.auditor.token))

    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]  # every line is JSON
    *rows, trailer = lines
    assert all(set(line) == {"row"} for line in rows)
    assert set(trailer) == {"checkpoint", "proofs"}
    docs = [line["row"] for line in rows]
    assert len(docs) == _rows_in_db(engine)
    keys = [(d["stream"], d["sequence"]) for d in docs]
    assert keys == sorted(keys)
    for previous, row in zip([None, *docs], docs, strict=False):
        if previous is None or previous["stream"] != row["stream"]:
            assert (row["sequence"], row["prev_hash"]) == (1, None)
        else:
            assert row["prev_hash"] == previous["hash"]
    assert len(trailer["proofs"]) == 2


async def test_exported_rows_recompute_to_their_hashes(
    api: httpx.AsyncClient, people: People
) -> None:
    await _trail(api, people)
    rows = [line["row"] for line in await _export(api, people) if "row" in line]

    assert len(rows) == 5
    for row in rows:
        content = AuditContent(**{name: row[name] for name in AuditContent.model_fields})
        assert row_hash(content, row["prev_hash"]) == row["hash"], (row["stream"], row["sequence"])


async def test_export_without_a_checkpoint_has_an_empty_trailer(
    api: httpx.AsyncClient, people: People
) -> None:
    await _trail(api, people)
    *rows, trailer = await _export(api, people)
    assert len(rows) == 5
    assert trailer == {"checkpoint": None, "proofs": []}


async def test_export_of_one_stream_proves_its_head_in_the_checkpoint(
    api: httpx.AsyncClient, people: People
) -> None:
    busy, _ = await _trail(api, people)
    stream = f"issue-{busy}"
    await _checkpoint(api, people)

    *rows, trailer = await _export(api, people, stream=stream)

    assert {line["row"]["stream"] for line in rows} == {stream}
    last = rows[-1]["row"]
    checkpoint, [proof] = trailer["checkpoint"], trailer["proofs"]
    assert verify_checkpoint(checkpoint, await _public_key(api, people)) is True
    assert (proof["stream"], proof["sequence"], proof["hash"]) == (
        stream,
        last["sequence"],
        last["hash"],
    )
    root = checkpoint["merkle_root"]
    assert verify_head_proof(stream, proof["sequence"], proof["hash"], proof["proof"], root)
    assert not verify_head_proof(stream, proof["sequence"], "0" * 64, proof["proof"], root)


@pytest.mark.parametrize("path", ["/verify", "/export"])
async def test_a_stream_longer_than_120_characters_answers_422(
    api: httpx.AsyncClient, people: People, path: str
) -> None:
    r = await api.get(
        f"{AUDIT}{path}", params={"stream": "s" * 121}, headers=auth(people.auditor.token)
    )
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["stream"]


async def test_a_stream_of_exactly_120_characters_is_accepted(
    api: httpx.AsyncClient, people: People
) -> None:
    r = await api.get(
        f"{AUDIT}/verify", params={"stream": "s" * 120}, headers=auth(people.auditor.token)
    )
    assert r.status_code == 200
    assert (r.json()["ok"], r.json()["rows_checked"]) == (True, 0)
