"""POST /api/v1/issues/{id}/deadline: the chair or the secretariat moves a deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import auth
from tests.support.people import People

RAISE = {"title": "Moving deadline", "description": "d", "theme": "accessibility"}


async def _issue(api: httpx.AsyncClient, people: People) -> str:
    created = await api.post("/api/v1/issues", json=RAISE, headers=auth(people.fp_access.token))
    assert created.status_code == 201
    return str(created.json()["id"])


def _later(days: int = 20) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("who", ["chair", "secretariat"])
async def test_chair_or_secretariat_moves_the_deadline(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    iid = await _issue(api, people)
    wanted = _later()
    r = await api.post(
        f"/api/v1/issues/{iid}/deadline",
        json={"deadline": wanted, "reason": "Council moved"},
        headers=auth(getattr(people, who).token),
    )
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["discussion_deadline"]) == datetime.fromisoformat(wanted)
    detail = (await api.get(f"/api/v1/issues/{iid}", headers=auth(people.auditor.token))).json()
    changed = detail["audit_trail"][-1]
    assert (changed["action"], changed["actor_id"]) == ("DeadlineChanged", who)
    assert changed["payload"]["reason"] == "Council moved"


@pytest.mark.parametrize("who", ["fp_access", "auditor", "executive", "admin"])
async def test_other_roles_may_not_move_a_deadline(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    iid = await _issue(api, people)
    r = await api.post(
        f"/api/v1/issues/{iid}/deadline",
        json={"deadline": _later()},
        headers=auth(getattr(people, who).token),
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


async def test_a_past_deadline_answers_422_naming_deadline(
    api: httpx.AsyncClient, people: People
) -> None:
    iid = await _issue(api, people)
    r = await api.post(
        f"/api/v1/issues/{iid}/deadline",
        json={"deadline": _later(-1)},
        headers=auth(people.chair.token),
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "deadline"


async def test_a_deadline_without_time_zone_answers_422(
    api: httpx.AsyncClient, people: People
) -> None:
    iid = await _issue(api, people)
    r = await api.post(
        f"/api/v1/issues/{iid}/deadline",
        json={"deadline": "2030-01-01T10:00:00"},
        headers=auth(people.chair.token),
    )
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["deadline"]


async def test_moving_the_deadline_of_an_escalated_request_answers_409(
    api: httpx.AsyncClient, people: People
) -> None:
    iid = await _issue(api, people)
    await api.post(
        f"/api/v1/issues/{iid}/escalation-request",
        json={"reason": "r"},
        headers=auth(people.fp_access.token),
    )
    r = await api.post(
        f"/api/v1/issues/{iid}/deadline",
        json={"deadline": _later()},
        headers=auth(people.chair.token),
    )
    assert r.status_code == 409
    assert r.json()["error"]["current_state"] == "escalation_requested"


async def test_unknown_issue_answers_404(api: httpx.AsyncClient, people: People) -> None:
    r = await api.post(
        "/api/v1/issues/nope/deadline",
        json={"deadline": _later()},
        headers=auth(people.chair.token),
    )
    assert r.status_code == 404
