"""Schema-driven fuzzing: no generated request gets a 5xx or a response off its schema.

Schemathesis reads the app's OpenAPI document and generates requests for every operation,
each sent in-process over ASGI with the bearer token of a role (or none). Path parameters
are often replaced with the ids of real entities, so commands reach the workflows and the
database instead of stopping at a 404. Set ISCFLOW_TEST_SEED to replay a run.
"""

from __future__ import annotations

import asyncio
import os
import random
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from api.app import create_app
from iscflow.settings import Settings
from tests.conftest import _migrated
from tests.security.conftest import bearer
from tests.support.people import People

MIN_CASES = 1000
# `meeting-<n>` lives on the dev server every test shares: each run numbers its meetings
# from a range of its own (`private_meetings`), and generated numbers are moved into it.
MEETING_RANGE = 1000
EXAMPLES_PER_OPERATION = int(os.environ.get("ISCFLOW_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Both databases: each refuses different values (PostgreSQL is the stricter)."""
    yield from _migrated(database_url)


@pytest.fixture
def private_meetings() -> int:
    """The number before this run's first meeting: no other run's meeting is in its range."""
    return 3_000_000 + random.SystemRandom().randrange(1_000_000) * MEETING_RANGE


@pytest.fixture
def seed() -> int:
    value = int(os.environ.get("ISCFLOW_TEST_SEED") or random.SystemRandom().randrange(2**32))
    print(f"ISCFLOW_TEST_SEED={value}")
    return value


async def _seed_entities(
    api: httpx.AsyncClient, people: People, private_meetings: int
) -> dict[str, list[Any]]:
    """Real entities for path parameters: an issue, a meeting, a mapping entry, a risk, …"""
    fp, sec = bearer(people.fp_access.token), bearer(people.secretariat.token)
    admin = bearer(people.admin.token)

    async def ok(response: Any) -> Any:
        result = await response
        assert result.status_code < 300, result.text
        return result.json()

    issue = await ok(
        api.post(
            "/api/v1/issues",
            json={"title": "Fuzzed issue", "description": "d", "theme": "accessibility"},
            headers=fp,
        )
    )
    meeting = await ok(
        api.post(
            "/api/v1/meetings",
            json={"number": private_meetings + 1, "starts_at": "2031-03-03T09:00:00+01:00"},
            headers=sec,
        )
    )
    entry = await ok(
        api.put(
            "/api/v1/mapping",
            json={"topic": "Accessibility", "sector": "ITU-T", "entity": "SG16"},
            headers=sec,
        )
    )
    risk = await ok(
        api.post(
            "/api/v1/risks",
            json={
                "id": "R-01", "title": "Inaccessible documents", "description": "d",
                "owner": "fp_access", "inherent_likelihood": 4, "inherent_impact": 4,
                "residual_likelihood": 2, "residual_impact": 3, "treatment": "tagging",
            },
            headers=sec,
        )
    )  # fmt: skip
    rec = await ok(
        api.post(
            "/api/v1/recommendations",
            json={
                "source": "jiu", "symbol": f"JIU/FUZZ/{uuid.uuid4().hex[:12]}", "number": 2,
                "issued_on": "2020-06-01", "title": "Accessible meetings", "text": "t",
                "owner": "fp_access", "theme": "accessibility", "risks": ["R-01"],
            },
            headers=sec,
        )
    )  # fmt: skip
    await ok(api.post("/api/v1/audit/checkpoints", headers=admin))
    outbox = await ok(api.get("/api/v1/outbox", headers=sec))
    return {
        "issue_id": [issue["id"]],
        "number": [meeting["number"], 1],
        "item_id": [i["item_id"] for i in meeting["agenda"]] or ["none"],
        "entry_id": [entry["id"]],
        "risk_id": [risk["id"]],
        "recommendation_id": [rec["id"]],
        "outbox_id": [r["id"] for r in outbox["items"]] or [1],
    }


@pytest.fixture
def fuzzed_app(
    settings: Settings, engine: Engine, stuck_workflows_terminated: None, private_meetings: int
) -> Iterator[Any]:
    """A second app on the same database, whose lifespan Schemathesis runs on its own loop
    (it makes its own Temporal client there)."""
    private = settings.model_copy(update={"meetings_held_before": private_meetings})
    yield create_app(private, engine=engine)
    asgi.shutdown_lifespans()


@dataclass
class Fuzzing:
    """One run's inputs and its counts."""

    tokens: dict[str, str | None]  # the callers: each role, no token, a wrong token
    known: dict[str, list[Any]]  # real ids for path parameters
    seed: int
    private_meetings: int
    runs: Counter[str] = field(default_factory=Counter)  # cases per operation
    roles: Counter[str] = field(default_factory=Counter)  # cases per caller


def _fuzz_operation(operation: Any, run_: Fuzzing) -> None:
    """Generate and send the operation's cases; raise what the first failure raised."""
    label = operation.label

    @hypothesis.seed(run_.seed)
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(
        case=operation.as_strategy(),
        who=st.sampled_from(sorted(run_.tokens)),
        real_ids=st.booleans(),
        pick=st.integers(min_value=0, max_value=10),
    )
    def run(case: Any, who: str, real_ids: bool, pick: int) -> None:
        if real_ids:
            for name in list(case.path_parameters or {}):
                if name in run_.known:
                    ids = run_.known[name]
                    case.path_parameters[name] = ids[pick % len(ids)]
        body = case.body
        if label == "POST /api/v1/meetings" and isinstance(body, dict):
            number = body.get("number")
            if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                body["number"] = run_.private_meetings + number % MEETING_RANGE
        token = run_.tokens[who]
        headers = bearer(token) if token is not None else {}
        run_.runs[label] += 1
        run_.roles[who] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def _fuzz(app: Any, run_: Fuzzing) -> dict[str, str]:
    """Run every operation; return the failures found, by operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz_operation(operation, run_)
        except (Exception, BaseExceptionGroup) as error:  # collected, then asserted
            failures[operation.label] = "".join(traceback.format_exception_only(error))[-3000:]
    return failures


@pytest.mark.slow
async def test_no_generated_request_gets_a_server_error_or_breaks_its_schema(
    api: httpx.AsyncClient, people: People, fuzzed_app: Any, seed: int, private_meetings: int
) -> None:
    tokens: dict[str, str | None] = {n: u.token for n, u in people.all().items()}
    tokens |= {"no token": None, "wrong token": "not-a-token"}
    known = await _seed_entities(api, people, private_meetings)
    run_ = Fuzzing(tokens=tokens, known=known, seed=seed, private_meetings=private_meetings)

    # The calls block; the worker (on this loop) must keep running meanwhile.
    failures = await asyncio.to_thread(_fuzz, fuzzed_app, run_)

    cases = sum(run_.runs.values())
    print(f"{cases} cases over {len(run_.runs)} operations; by caller: {dict(run_.roles)}")
    assert cases >= MIN_CASES
    assert set(run_.roles) == set(tokens)  # every role, and no token or a wrong one
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_every_operation_that_needs_a_token_documents_401(settings: Settings) -> None:
    document = create_app(settings).openapi()
    secured = [
        (f"{method.upper()} {path}", operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]
    assert len(secured) > 50  # the check reaches every authenticated operation
    assert [label for label, op in secured if "401" not in op["responses"]] == []
