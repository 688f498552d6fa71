"""The risk register over HTTP: scores, rights, audit, and the state of what mitigates a risk."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from tests.api.conftest import auth
from tests.support.people import People


def risk(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "RISK-WEB",
        "title": "Fragmented web presence across the Sectors",
        "description": "Sector sites diverge.",
        "owner": "chair",
        "inherent_likelihood": 4,
        "inherent_impact": 3,
        "residual_likelihood": 3,
        "residual_impact": 2,
        "treatment": "One content platform.",
    }
    values.update(changes)
    return values


async def test_the_secretariat_keeps_the_register_and_scores_follow(
    api: httpx.AsyncClient, people: People
) -> None:
    secretariat = auth(people.secretariat.token)
    created = await api.post("/api/v1/risks", json=risk(), headers=secretariat)
    twice = await api.post("/api/v1/risks", json=risk(), headers=secretariat)
    focal = await api.post(
        "/api/v1/risks", json=risk(id="R-2"), headers=auth(people.fp_access.token)
    )
    worse = await api.post(
        "/api/v1/risks",
        json=risk(id="R-3", residual_likelihood=5, residual_impact=5),
        headers=secretariat,
    )
    nobody = await api.post(
        "/api/v1/risks", json=risk(id="R-4", owner="nobody"), headers=secretariat
    )

    assert created.status_code == 201
    assert (created.json()["inherent_score"], created.json()["residual_score"]) == (12, 6)
    assert (created.json()["inherent_level"], created.json()["residual_level"]) == (
        "high",
        "medium",
    )
    assert twice.status_code == 409
    assert focal.status_code == 403
    assert (
        worse.status_code == 422
        and worse.json()["error"]["fields"][0]["field"] == "residual_likelihood"
    )
    assert nobody.status_code == 422 and nobody.json()["error"]["fields"][0]["field"] == "owner"


async def test_an_update_is_audited_and_the_register_lists_highest_residual_first(
    api: httpx.AsyncClient, people: People
) -> None:
    secretariat = auth(people.secretariat.token)
    await api.post("/api/v1/risks", json=risk(), headers=secretariat)
    await api.post(
        "/api/v1/risks", json=risk(id="RISK-ETC", residual_impact=3), headers=secretariat
    )
    update = {k: v for k, v in risk(residual_likelihood=1).items() if k != "id"}

    updated = await api.put("/api/v1/risks/RISK-WEB", json=update, headers=secretariat)
    listed = await api.get("/api/v1/risks", headers=auth(people.auditor.token))
    detail = await api.get("/api/v1/risks/RISK-WEB", headers=auth(people.auditor.token))

    assert (updated.json()["residual_score"], updated.json()["version"]) == (2, 2)
    assert [r["id"] for r in listed.json()] == ["RISK-ETC", "RISK-WEB"]
    trail = detail.json()["audit_trail"]
    assert [a["action"] for a in trail] == ["RiskRecorded", "RiskUpdated"]
    assert trail[1]["payload"]["changes"] == {"residual_likelihood": {"from": 3, "to": 1}}
    assert trail[1]["actor_id"] == "secretariat"


async def test_a_risk_shows_the_state_of_the_recommendations_that_mitigate_it(
    api: httpx.AsyncClient, people: People
) -> None:
    secretariat = auth(people.secretariat.token)
    await api.post("/api/v1/risks", json=risk(), headers=secretariat)
    symbol = f"C21/{uuid.uuid4().hex[:8]}"  # business keys are unique on the test server
    recommendation = {
        "source": "external_auditor",
        "symbol": symbol,
        "number": 7,
        "issued_on": (date.today() - timedelta(days=100)).isoformat(),
        "title": "Strengthen the website project's governance",
        "text": "A steering committee and a risk log.",
        "owner": "fp_access",
        "theme": "accessibility",
        "target_date": (date.today() - timedelta(days=3)).isoformat(),
        "risks": ["RISK-WEB"],
        "acceptance": "accepted",
        "implementation": "in_progress",
        "progress": 40,
    }
    created = await api.post("/api/v1/recommendations", json=recommendation, headers=secretariat)
    assert created.status_code == 201, created.text

    detail = (await api.get("/api/v1/risks/RISK-WEB", headers=auth(people.chair.token))).json()

    assert detail["recommendations"] == [
        {
            "id": f"rec-external_auditor-{symbol.lower().replace('/', '-')}-7",
            "symbol": symbol,
            "number": 7,
            "title": "Strengthen the website project's governance",
            "owner": "fp_access",
            "acceptance": "accepted",
            "implementation": "in_progress",
            "progress": 40,
            "overdue": True,
        }
    ]
    assert detail["mitigation"] == {
        "total": 1,
        "open": 1,
        "overdue": 1,
        "acceptance": {"accepted": 1},
        "implementation": {"in_progress": 1},
    }
