"""Hostile input: oversized, deeply nested, undecodable or out-of-range requests are refused
with a clear 4xx (422 naming the field where there is one), never a 5xx.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from iscflow.settings import Settings
from tests.security.conftest import bearer
from tests.support.people import People
from worker import build_worker

FIVE_MB = 5 * 1024 * 1024
BIG = "x" * FIVE_MB


def private_number() -> int:
    """A meeting number no other test uses: `meeting-<n>` lives on the shared dev server."""
    return 2_000_000 + uuid.uuid4().int % 1_000_000


@dataclass(frozen=True)
class Ids:
    issue: str
    meeting: int
    headers: dict[str, dict[str, str]]


@pytest.fixture
async def ids(api: httpx.AsyncClient, people: People) -> Ids:
    """An open issue, a scheduled meeting, and each role's headers."""
    headers = {name: bearer(user.token) for name, user in people.all().items()}
    issue = await api.post(
        "/api/v1/issues",
        json={"title": "Hostile input", "description": "d", "theme": "accessibility"},
        headers=headers["fp_access"],
    )
    meeting = await api.post(
        "/api/v1/meetings",
        json={"number": private_number(), "starts_at": "2031-03-03T09:00:00+01:00"},
        headers=headers["secretariat"],
    )
    assert issue.status_code == meeting.status_code == 201, (issue.text, meeting.text)
    return Ids(issue=issue.json()["id"], meeting=meeting.json()["number"], headers=headers)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # formatted with ids.issue and ids.meeting
    who: str
    body: Callable[[], Any]

    async def send(
        self,
        api: httpx.AsyncClient,
        ids: Ids,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        path = self.path.format(issue=ids.issue, meeting=ids.meeting)
        headers = {**ids.headers[self.who], **(headers or {})}
        return await api.request(self.method, path, headers=headers, **kwargs)


OVERSIZED = {
    "raise issue": Request(
        "POST", "/api/v1/issues", "fp_access",
        lambda: {"title": "Big", "description": BIG, "theme": "accessibility"},
    ),
    "comment": Request(
        "POST", "/api/v1/issues/{issue}/comments", "fp_access", lambda: {"body": BIG}
    ),
    "preferences": Request("PUT", "/api/v1/me/preferences", "chair", lambda: {"language": BIG}),
    "mapping": Request(
        "PUT", "/api/v1/mapping", "secretariat",
        lambda: {"topic": BIG, "sector": "ITU-T", "entity": "SG16"},
    ),
    "meeting": Request(
        "POST", "/api/v1/meetings", "secretariat",
        lambda: {"number": private_number(), "title": BIG, "starts_at": "2031-04-03T09:00Z"},
    ),
    "risk": Request(
        "POST", "/api/v1/risks", "secretariat",
        lambda: {
            "id": "R-9", "title": "t" * 10, "description": BIG, "owner": "fp_access",
            "inherent_likelihood": 1, "inherent_impact": 1, "residual_likelihood": 1,
            "residual_impact": 1, "treatment": "t",
        },
    ),
    "recommendation": Request(
        "POST", "/api/v1/recommendations", "secretariat",
        lambda: {
            "source": "jiu", "symbol": f"JIU/{uuid.uuid4().hex[:12]}", "number": 1,
            "issued_on": "2020-06-01", "title": "Big", "text": BIG, "owner": "fp_access",
            "theme": "accessibility",
        },
    ),
}  # fmt: skip

# Fields whose value travels to a workflow: a 5 MB value would exceed the Temporal client's
# 4 MB message limit (it once escaped as a 500).
OVERSIZED_TO_WORKFLOW = {
    "agenda item issue_id": Request(
        "POST", "/api/v1/meetings/{meeting}/agenda", "secretariat",
        lambda: {"kind": "issue", "title": "t", "issue_id": BIG},
    ),
    "agenda item theme": Request(
        "POST", "/api/v1/meetings/{meeting}/agenda", "secretariat",
        lambda: {"kind": "theme_update", "title": "t", "theme": BIG},
    ),
    "agenda order": Request(
        "PUT", "/api/v1/meetings/{meeting}/agenda/order", "secretariat",
        lambda: {"order": ["y" * 100] * (FIVE_MB // 100)},
    ),
    "decision item_id": Request(
        "POST", "/api/v1/meetings/{meeting}/decisions", "secretariat",
        lambda: {"item_id": BIG, "outcome": "deferred", "text": "t"},
    ),
}  # fmt: skip


async def _statuses(
    api: httpx.AsyncClient, ids: Ids, requests: dict[str, Request]
) -> dict[str, int]:
    """Each request's status, sent one after the other (the cases share one setup)."""
    return {
        name: (await request.send(api, ids, json=request.body())).status_code
        for name, request in requests.items()
    }


async def test_a_5mb_body_is_refused_with_413_or_422(api: httpx.AsyncClient, ids: Ids) -> None:
    statuses = await _statuses(api, ids, OVERSIZED)
    assert {n: s for n, s in statuses.items() if s not in {413, 422}} == {}


async def test_a_5mb_value_bound_for_a_workflow_is_refused_with_422(
    api: httpx.AsyncClient, ids: Ids
) -> None:
    statuses = await _statuses(api, ids, OVERSIZED_TO_WORKFLOW)
    assert statuses == dict.fromkeys(OVERSIZED_TO_WORKFLOW, 422)


async def test_5mb_of_bytes_that_are_not_json_are_refused_with_413_or_422(
    api: httpx.AsyncClient, ids: Ids
) -> None:
    response = await OVERSIZED["raise issue"].send(
        api, ids, content=b"\x00\xff" * (FIVE_MB // 2), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in {413, 422}


DEEP = {
    "list": "[" * 100_000 + "]" * 100_000,
    "object": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "inside a field": '{"title": "Deep", "theme": "accessibility", "description": '
    + "[" * 1000
    + "]" * 1000
    + "}",
}


async def test_deeply_nested_json_is_refused_as_a_bad_request(
    api: httpx.AsyncClient, ids: Ids
) -> None:
    answers = {}
    for name, document in DEEP.items():
        response = await OVERSIZED["raise issue"].send(
            api, ids, content=document, headers={"Content-Type": "application/json"}
        )
        answers[name] = (response.status_code, response.json()["error"]["code"])
    assert {n: a for n, a in answers.items() if a[0] not in {400, 422} or not a[1]} == {}


async def test_a_body_that_is_not_utf8_is_refused_as_a_bad_request(
    api: httpx.AsyncClient, ids: Ids
) -> None:
    body = b'{"title": "Caf\xe9 \xff\xfe", "description": "d", "theme": "accessibility"}'
    response = await OVERSIZED["raise issue"].send(
        api, ids, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in {400, 422}
    assert response.json()["error"]["code"]


async def test_an_undecodable_path_is_an_unknown_issue(api: httpx.AsyncClient, ids: Ids) -> None:
    response = await api.get("/api/v1/issues/%FF%FE%C0", headers=ids.headers["chair"])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_an_undecodable_query_matches_nothing(api: httpx.AsyncClient, ids: Ids) -> None:
    response = await api.get("/api/v1/issues?theme=%FF%FE%C0", headers=ids.headers["chair"])
    assert (response.status_code, response.json()["total"]) == (200, 0)


async def test_an_undecodable_token_is_unauthorized(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/me", headers={"Authorization": b"Bearer \xff\xfe\xc0"})
    assert response.status_code == 401


# -- found by these tests and the fuzzer, now fixed ----------------------------------------


@pytest.fixture
async def slow_api(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a 2 s command timeout, and no worker of its own."""
    app = create_app(
        settings.model_copy(update={"command_timeout_seconds": 2}), engine=engine, client=client
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://iscflow.test") as http:
            yield http


@pytest.mark.usefixtures("stuck_workflows_terminated")
async def test_a_command_no_worker_answers_in_time_gets_503(
    slow_api: httpx.AsyncClient, client: Client, engine: Engine, settings: Settings, people: People
) -> None:
    fp = bearer(people.fp_access.token)
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(client, engine=engine, settings=settings, executor=executor):
            raised = await slow_api.post(
                "/api/v1/issues",
                json={"title": "No worker", "description": "d", "theme": "accessibility"},
                headers=fp,
            )
    issue_id = raised.json()["id"]

    # The worker is gone: the comment waits for the 2 s timeout.
    response = await slow_api.post(
        f"/api/v1/issues/{issue_id}/comments", json={"body": "?"}, headers=fp
    )

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"


def _recommendation(**changes: Any) -> dict[str, Any]:
    return {
        "source": "jiu", "symbol": f"JIU/REP/{uuid.uuid4().hex[:12]}", "number": 2,
        "issued_on": "2020-06-01", "title": "Far target", "text": "t", "owner": "fp_access",
        "theme": "accessibility", "acceptance": "accepted", **changes,
    }  # fmt: skip


# Dates the business calendar cannot count working days around (it knows 1945-2200). One
# once reached a workflow, which could not build that year's holidays in its sandbox and
# stopped answering: every later command on the entity got a 500.
OUT_OF_CALENDAR = [
    ("deadline", Request(
        "POST", "/api/v1/issues/{issue}/deadline", "chair",
        lambda: {"deadline": "2201-02-01T10:00:00+00:00"},
    )),
    ("new_deadline", Request(
        "POST", "/api/v1/issues/{issue}/escalation-request/return", "chair",
        lambda: {"reason": "r", "new_deadline": "1900-02-01T10:00:00+00:00"},
    )),
    ("starts_at", Request(
        "POST", "/api/v1/meetings/{meeting}/reschedule", "secretariat",
        lambda: {"starts_at": "2201-02-01T10:00:00+00:00"},
    )),
    ("starts_at", Request(
        "POST", "/api/v1/meetings", "secretariat",
        lambda: {"number": private_number(), "starts_at": "1800-01-01T10:00:00+00:00"},
    )),
    ("target_date", Request(
        "POST", "/api/v1/recommendations", "secretariat",
        lambda: _recommendation(target_date="2201-06-01"),
    )),
]  # fmt: skip


async def test_a_date_outside_the_business_calendar_is_refused_naming_its_field(
    api: httpx.AsyncClient, ids: Ids
) -> None:
    answers = []
    for field, request in OUT_OF_CALENDAR:
        response = await request.send(api, ids, json=request.body())
        named = [f["field"] for f in response.json()["error"].get("fields", [])]
        answers.append((request.path, response.status_code, field in named))
    assert [a for a in answers if a[1:] != (422, True)] == []


@pytest.mark.usefixtures("stuck_workflows_terminated")
async def test_a_date_late_in_the_calendar_leaves_each_workflow_answering(
    api: httpx.AsyncClient, ids: Ids
) -> None:
    """Dates after 2100 (once beyond the loaded holiday tables) work like any other."""
    far = "2199-12-01T10:00:00+00:00"
    fp, chair, sec = (ids.headers[w] for w in ("fp_access", "chair", "secretariat"))
    issue, meeting = f"/api/v1/issues/{ids.issue}", f"/api/v1/meetings/{ids.meeting}"
    rec = await api.post(
        "/api/v1/recommendations", json=_recommendation(target_date="2200-12-31"), headers=sec
    )
    assert rec.status_code == 201, rec.text
    moved = await api.post(f"{issue}/deadline", json={"deadline": far}, headers=chair)
    rescheduled = await api.post(f"{meeting}/reschedule", json={"starts_at": far}, headers=sec)
    assert (moved.status_code, rescheduled.status_code) == (200, 200), (
        moved.text,
        rescheduled.text,
    )

    # Each workflow still takes commands.
    commented = await api.post(f"{issue}/comments", json={"body": "still here"}, headers=fp)
    progress = await api.post(
        f"/api/v1/recommendations/{rec.json()['id']}/progress",
        json={"percentage": 10, "narrative": "started"},
        headers=fp,
    )
    sent = await api.post(f"{meeting}/send-agenda", headers=sec)
    assert [r.status_code for r in (commented, progress, sent)] == [200, 200, 200], [
        r.text for r in (commented, progress, sent)
    ]


INTEGER_FIELDS = [
    ("GET", "/api/v1/outbox/{n}", "secretariat", "outbox_id"),
    ("GET", "/api/v1/mapping/{n}", "chair", "entry_id"),
    ("DELETE", "/api/v1/mapping/{n}", "secretariat", "entry_id"),
    ("GET", "/api/v1/meetings/{n}", "chair", "number"),
    ("POST", "/api/v1/meetings/{n}/held", "secretariat", "number"),
    ("POST", "/api/v1/meetings", "secretariat", "number"),
]


async def test_an_integer_beyond_the_database_columns_is_refused_naming_its_field(
    api: httpx.AsyncClient, people: People
) -> None:
    """PostgreSQL's INTEGER holds 32 bits, SQLite's 64: either overflow was once a 500."""
    answers = []
    for value in (2**31, 2**63):
        for method, path, who, field in INTEGER_FIELDS:
            body = {"number": value, "starts_at": "2031-03-03T09:00:00+01:00"}
            response = await api.request(
                method,
                path.format(n=value),
                headers=bearer(getattr(people, who).token),
                json=None if "{n}" in path else body,
            )
            named = [f["field"] for f in response.json()["error"].get("fields", [])]
            answers.append((method, path, value, response.status_code, named == [field]))
    assert [a for a in answers if a[3:] != (422, True)] == []


async def test_a_command_to_an_entity_whose_workflow_was_terminated_gets_409(
    api: httpx.AsyncClient, ids: Ids, client: Client
) -> None:
    """An operator may terminate a workflow (in the Temporal UI); its entity then takes no
    more commands, and says so instead of answering 500."""
    sec = ids.headers["secretariat"]
    rec = await api.post("/api/v1/recommendations", json=_recommendation(), headers=sec)
    rec_id = rec.json()["id"]
    for workflow_id in (f"issue-{ids.issue}", f"meeting-{ids.meeting}", rec_id):
        await client.get_workflow_handle(workflow_id).terminate("stopped by an operator")

    responses = [
        await api.post(
            f"/api/v1/issues/{ids.issue}/comments", json={"body": "?"},
            headers=ids.headers["fp_access"],
        ),
        await api.post(f"/api/v1/meetings/{ids.meeting}/held", headers=sec),
        await api.post(
            "/api/v1/meetings",
            json={"number": ids.meeting, "starts_at": "2031-03-03T09:00:00+01:00"}, headers=sec,
        ),
        await api.post(
            f"/api/v1/recommendations/{rec_id}/progress",
            json={"percentage": 10, "narrative": "n"}, headers=ids.headers["fp_access"],
        ),
    ]  # fmt: skip

    answers = [(r.status_code, r.json()["error"]["code"]) for r in responses]
    assert answers == [(409, "workflow_stopped")] * 4, [r.text for r in responses]
