"""The verifier's canonical bytes (`canonical_values`) equal the writer's (`canonical`)."""

from __future__ import annotations

import inspect
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.audit import GENESIS, AuditContent, canonical, canonical_values

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
# Characters that JSON escapes, or that UTF-8 encodes in 2, 3 and 4 bytes.
TRICKY = '"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029é—决قرار😀\U0010ffff '


def _content(**changes: Any) -> AuditContent:
    fields: dict[str, Any] = {
        "stream": "issue-1",
        "sequence": 3,
        "idempotency_key": "issue-1#3",
        "entity_type": "issue",
        "entity_id": "1",
        "action": "CommentAdded",
        "actor_id": "u1",
        "actor_role": "chair",
        "from_state": "open",
        "to_state": "open",
        "payload": {"body": "hello"},
        "occurred_at": NOW,
    }
    return AuditContent(**(fields | changes))


def _fast(content: AuditContent, prev_hash: str | None) -> bytes:
    values = [getattr(content, name) for name in AuditContent.model_fields]
    return canonical_values(*values, prev_hash)


def test_the_fast_form_takes_the_content_fields_in_the_model_order() -> None:
    parameters = list(inspect.signature(canonical_values).parameters)
    assert parameters == [*AuditContent.model_fields, "prev_hash"]


CASES: dict[str, AuditContent] = {
    "plain": _content(),
    "no states": _content(from_state=None, to_state=None),
    "unicode everywhere": _content(
        stream="issue-décision-决定",
        idempotency_key="قرار#3",
        entity_id="😀",
        action="Décidé",
        actor_id="zoë",
        actor_role="présidente",
        from_state="ouvert",
        to_state="fermé",
        payload={"texte": "décision — 决定 — قرار — 😀", "clé": "é"},
    ),
    "escapes in every string": _content(
        stream=TRICKY, idempotency_key=TRICKY, actor_id=TRICKY, payload={TRICKY: TRICKY}
    ),
    "nested payload with unsorted keys": _content(
        payload={
            "z": [3, {"b": None, "a": [True, False, None]}],
            "a": {"y": {"x": {"w": []}}, "b": {}},
            "m": [[["deep"]]],
        }
    ),
    "none and numbers in the payload": _content(
        payload={
            "none": None,
            "int": -(2**70),
            "float": 0.1,
            "big": 1e300,
            "small": 5e-324,
            "negative zero": -0.0,
            "nan": float("nan"),
            "infinity": float("inf"),
            "bool": True,
        }
    ),
    "empty payload": _content(payload={}),
    "a time with microseconds": _content(occurred_at=NOW.replace(microsecond=7)),
    "a time at an offset": _content(
        occurred_at=datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    ),
    "a time in a zone changing to summer time": _content(
        occurred_at=datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Brussels"))
    ),
    "a time before 1000": _content(occurred_at=datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    "a large sequence": _content(sequence=2**40),
}


@pytest.mark.parametrize("prev_hash", [None, "", "ab" * 32], ids=["genesis", "empty", "hash"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_form_is_byte_identical_to_the_canonical_form(
    case: str, prev_hash: str | None
) -> None:
    content = CASES[case]
    assert _fast(content, prev_hash) == canonical(content, prev_hash)


def _random_text(rng: random.Random) -> str:
    pool = TRICKY + "abcXYZ019-_#:. "
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-(10**20), 10**20)
    if kind == 3:
        return rng.uniform(-1e6, 1e6)
    if kind == 4:
        return _random_text(rng)
    if kind in (5, 6):
        return {_random_text(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_random_contents_give_the_same_bytes_both_ways() -> None:
    rng = random.Random(20260601)
    for _ in range(500):
        content = _content(
            stream=_random_text(rng),
            sequence=rng.randint(1, 10**9),
            action=_random_text(rng),
            from_state=rng.choice([None, _random_text(rng)]),
            to_state=rng.choice([None, _random_text(rng)]),
            payload={_random_text(rng): _random_value(rng, 0) for _ in range(rng.randint(0, 5))},
            occurred_at=NOW + timedelta(microseconds=rng.randint(-(10**15), 10**15)),
        )
        prev_hash = rng.choice([None, GENESIS, "f" * 64])
        assert _fast(content, prev_hash) == canonical(content, prev_hash)
