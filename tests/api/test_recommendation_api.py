"""The recommendation endpoints over HTTP: rights, lifecycle, links, errors."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from domain.risks import RiskData
from domain.roles import Actor, Role
from storage import risks
from storage.db import session_scope
from tests.api.conftest import auth
from tests.support.people import People

EVIDENCE = ["https://www.itu.int/en/council/evidence.pdf"]


def body(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": "jiu",
        "symbol": f"JIU/REP/{uuid.uuid4().hex[:8]}",
        "number": 2,
        "issued_on": (date.today() - timedelta(days=200)).isoformat(),
        "title": "Adopt an accessibility policy",
        "text": "The executive heads should adopt an accessibility policy with targets.",
        "owner": "fp_access",
        "theme": "accessibility",
        "priority": "medium",
        "target_date": (date.today() + timedelta(days=400)).isoformat(),
        "risks": ["RISK-ACCESS"],
    }
    values.update(changes)
    return values


@pytest.fixture(autouse=True)
def register(engine: Engine, people: People) -> None:
    data = RiskData(
        title="Meetings inaccessible to persons with disabilities",
        description="Captioning and documents.",
        owner_id="chair",
        inherent_likelihood=3,
        inherent_impact=4,
        residual_likelihood=2,
        residual_impact=4,
        treatment="Accessibility policy.",
    )
    with session_scope(engine) as session:
        risks.save_risk(
            session=session,
            risk_id="RISK-ACCESS",
            data=data,
            actor=Actor(id="secretariat", role=Role.SECRETARIAT),
            now=datetime.now(UTC),
        )


async def _create(api: httpx.AsyncClient, people: People, **changes: Any) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/recommendations", json=body(**changes), headers=auth(people.secretariat.token)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_the_secretariat_records_and_everyone_reads(
    api: httpx.AsyncClient, people: People
) -> None:
    symbol = f"JIU/REP/2018/{uuid.uuid4().hex[:6]}"  # keys are unique on the test server
    created = await _create(api, people, symbol=symbol)

    assert created["id"] == f"rec-jiu-{symbol.lower().replace('/', '-')}-2"
    assert (created["acceptance"], created["implementation"]) == (
        "under_consideration",
        "not_started",
    )
    read = await api.get(
        f"/api/v1/recommendations/{created['id']}", headers=auth(people.fp_gender.token)
    )
    assert read.status_code == 200
    detail = read.json()
    assert detail["symbol"] == symbol
    assert detail["report_year"] == date.fromisoformat(body()["issued_on"]).year
    assert [r["id"] for r in detail["risk_details"]] == ["RISK-ACCESS"]
    assert detail["risk_details"][0]["residual_score"] == 8
    assert [a["action"] for a in detail["audit_trail"]] == ["RecommendationRecorded"]

    again = await api.post(
        "/api/v1/recommendations",
        json=body(symbol=symbol),
        headers=auth(people.secretariat.token),
    )
    assert again.status_code == 201 and again.json()["version"] == created["version"]


async def test_a_focal_point_cannot_record(api: httpx.AsyncClient, people: People) -> None:
    response = await api.post(
        "/api/v1/recommendations", json=body(), headers=auth(people.fp_access.token)
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"owner": "fp_gender"}, "owner"),
        ({"theme": "climate"}, "theme"),
        ({"risks": ["RISK-NONE"]}, "risks"),
        ({"acceptance": "accepted", "implementation": "verified"}, "implementation"),
        ({"number": 0}, "number"),
        ({"issued_on": "0001-01-01"}, "issued_on"),  # beyond the follow-up's date arithmetic
        ({"target_date": "9999-12-31"}, "target_date"),
        ({"title": "Nul \u0000 byte"}, "title"),  # PostgreSQL could not store it
    ],
)
async def test_invalid_records_are_refused_naming_the_field(
    api: httpx.AsyncClient, people: People, changes: dict[str, Any], field: str
) -> None:
    response = await api.post(
        "/api/v1/recommendations", json=body(**changes), headers=auth(people.secretariat.token)
    )
    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["error"]["fields"]]


async def test_the_lifecycle_over_http_with_rights_checked_at_each_step(
    api: httpx.AsyncClient, people: People
) -> None:
    rec = await _create(api, people)
    url = f"/api/v1/recommendations/{rec['id']}"
    secretariat, owner = auth(people.secretariat.token), auth(people.fp_access.token)
    other_fp, auditor = auth(people.fp_access_d.token), auth(people.auditor.token)

    too_early = await api.post(
        f"{url}/progress", json={"percentage": 10, "narrative": "x"}, headers=owner
    )
    assert too_early.status_code == 409
    assert too_early.json()["error"]["current_state"] == "under_consideration"

    accepted = await api.post(
        f"{url}/acceptance", json={"acceptance": "accepted"}, headers=secretariat
    )
    assert accepted.json()["acceptance"] == "accepted"

    not_owner = await api.post(
        f"{url}/progress", json={"percentage": 10, "narrative": "x"}, headers=other_fp
    )
    assert not_owner.status_code == 403

    progress = await api.post(
        f"{url}/progress",
        json={"percentage": 60, "narrative": "Policy drafted.", "evidence": EVIDENCE},
        headers=owner,
    )
    assert (progress.json()["implementation"], progress.json()["progress"]) == ("in_progress", 60)

    no_evidence = await api.post(
        f"{url}/implemented", json={"narrative": "Done.", "evidence": []}, headers=owner
    )
    assert no_evidence.status_code == 422

    claimed = await api.post(
        f"{url}/implemented", json={"narrative": "Adopted.", "evidence": EVIDENCE}, headers=owner
    )
    assert claimed.json()["implementation"] == "implemented"

    fp_verifies = await api.post(f"{url}/verify", json={}, headers=owner)
    assert fp_verifies.status_code == 403

    returned = await api.post(
        f"{url}/return", json={"reason": "Not yet published."}, headers=auditor
    )
    assert (returned.json()["implementation"], returned.json()["return_reason"]) == (
        "in_progress",
        "Not yet published.",
    )
    await api.post(
        f"{url}/implemented", json={"narrative": "Published.", "evidence": EVIDENCE}, headers=owner
    )
    verified = await api.post(f"{url}/verify", json={"note": "Checked."}, headers=auditor)
    assert verified.status_code == 200 and verified.json()["implementation"] == "verified"

    detail = (await api.get(url, headers=owner)).json()
    assert [p["kind"] for p in detail["progress_updates"]] == [
        "ProgressReported",
        "ImplementationClaimed",
        "ImplementationClaimed",
    ]
    assert [a["action"] for a in detail["audit_trail"]][-3:] == [
        "ReturnedToInProgress",
        "ImplementationClaimed",
        "ImplementationVerified",
    ]
    assert detail["audit_trail"][-1]["actor_id"] == "auditor"


async def test_a_record_update_is_audited_field_by_field(
    api: httpx.AsyncClient, people: People
) -> None:
    rec = await _create(api, people)
    url = f"/api/v1/recommendations/{rec['id']}"
    changed = {k: v for k, v in body().items() if k not in {"source", "symbol", "number"}}
    changed.update(priority="high", title="Adopt and publish an accessibility policy")

    forbidden = await api.put(url, json=changed, headers=auth(people.fp_access.token))
    updated = await api.put(url, json=changed, headers=auth(people.secretariat.token))
    unchanged = await api.put(url, json=changed, headers=auth(people.secretariat.token))

    assert forbidden.status_code == 403
    assert updated.json()["priority"] == "high"
    assert unchanged.json()["version"] == updated.json()["version"]
    trail = (await api.get(url, headers=auth(people.auditor.token))).json()["audit_trail"]
    assert trail[-1]["action"] == "RecordUpdated"
    assert set(trail[-1]["payload"]["changes"]) == {"priority", "title"}


async def test_closure_by_the_owner_needs_a_justification(
    api: httpx.AsyncClient, people: People
) -> None:
    rec = await _create(api, people, acceptance="accepted")
    url = f"/api/v1/recommendations/{rec['id']}/closure"

    missing = await api.post(
        url, json={"outcome": "overtaken_by_events"}, headers=auth(people.fp_access.token)
    )
    closed = await api.post(
        url,
        json={"outcome": "overtaken_by_events", "justification": "Policy replaced."},
        headers=auth(people.fp_access.token),
    )

    assert missing.status_code == 422
    assert closed.json()["implementation"] == "overtaken_by_events"


async def test_lists_filter_and_overdue_is_computed_for_today(
    api: httpx.AsyncClient, people: People
) -> None:
    late = await _create(
        api,
        people,
        acceptance="accepted",
        target_date=(date.today() - timedelta(days=30)).isoformat(),
        issued_on="2015-01-10",
    )
    symbol = f"C21/{uuid.uuid4().hex[:6]}"
    await _create(api, people, source="imac", symbol=symbol, number=1)

    overdue = await api.get(
        "/api/v1/recommendations?overdue=true", headers=auth(people.chair.token)
    )
    imac = await api.get("/api/v1/recommendations?source=imac", headers=auth(people.chair.token))
    mine = await api.get("/api/v1/recommendations?mine=true", headers=auth(people.fp_gender.token))

    assert [r["id"] for r in overdue.json()["items"]] == [late["id"]]
    assert overdue.json()["items"][0]["overdue"] and overdue.json()["items"][0]["long_outstanding"]
    assert [r["symbol"] for r in imac.json()["items"]] == [symbol]
    assert mine.json()["total"] == 0


async def test_unknown_recommendation_is_404(api: httpx.AsyncClient, people: People) -> None:
    response = await api.post(
        "/api/v1/recommendations/rec-jiu-nothing-1/verify",
        json={},
        headers=auth(people.auditor.token),
    )
    assert response.status_code == 404
