"""The issue lifecycle over HTTP, as a focal point and the chair would drive it."""

from __future__ import annotations

import httpx

from tests.api.conftest import auth
from tests.support.people import People

RAISE = {
    "title": "Sign-language interpretation at WTDC",
    "description": "No budget line covers interpretation for deaf delegates.",
    "theme": "accessibility",
}


async def test_focal_point_raises_and_chair_approves_escalation(
    api: httpx.AsyncClient, people: People
) -> None:
    fp, chair = auth(people.fp_access.token), auth(people.chair.token)
    created = await api.post("/api/v1/issues", json=RAISE, headers=fp)
    assert created.status_code == 201, created.text
    issue = created.json()
    assert (issue["state"], issue["sector"], issue["author_id"]) == ("open", "ITU-T", "fp_access")
    iid = issue["id"]

    r = await api.post(
        f"/api/v1/issues/{iid}/escalation-request", json={"reason": "budget"}, headers=fp
    )
    assert r.json()["state"] == "escalation_requested"
    r = await api.post(f"/api/v1/issues/{iid}/escalation-request/approve", json={}, headers=chair)
    assert r.status_code == 200 and r.json()["state"] == "escalated"

    detail = (await api.get(f"/api/v1/issues/{iid}", headers=fp)).json()
    assert [a["action"] for a in detail["audit_trail"]] == [
        "IssueRaised",
        "EscalationRequested",
        "EscalationApproved",
    ]
    listed = (await api.get("/api/v1/issues", params={"state": "escalated"}, headers=chair)).json()
    assert [i["id"] for i in listed["items"]] == [iid]


async def test_approving_twice_answers_409_with_current_state(
    api: httpx.AsyncClient, people: People
) -> None:
    fp, chair = auth(people.fp_access.token), auth(people.chair.token)
    iid = (await api.post("/api/v1/issues", json=RAISE, headers=fp)).json()["id"]
    await api.post(f"/api/v1/issues/{iid}/escalation-request", json={"reason": "r"}, headers=fp)
    await api.post(f"/api/v1/issues/{iid}/escalation-request/approve", json={}, headers=chair)
    again = await api.post(
        f"/api/v1/issues/{iid}/escalation-request/approve", json={}, headers=chair
    )
    assert again.status_code == 409
    assert again.json()["error"]["current_state"] == "escalated"


async def test_invalid_body_answers_422_naming_the_field(
    api: httpx.AsyncClient, people: People
) -> None:
    r = await api.post(
        "/api/v1/issues", json={**RAISE, "title": "x"}, headers=auth(people.fp_access.token)
    )
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["title"]
