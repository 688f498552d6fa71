"""Persisting recommendation events and the risk register, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from domain.recommendation_commands import ReportProgress, UpdateRecord
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import Acceptance
from domain.recommendations import Recommendation, RecommendationEvent
from domain.risks import RiskData
from domain.roles import Actor, Role
from storage import audit, repository, risks
from storage.db import session_scope
from storage.recommendations import (
    apply_recommendation_event,
    current_record,
    list_progress,
    mitigating,
    risk_ids_by_recommendation,
)
from tests.support.people import People
from tests.support.recommendations import OWNER, SECRETARIAT, create_command, record

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
POLICY = RecommendationPolicy()
ADMIN_OF_REGISTER = Actor(id="secretariat", role=Role.SECRETARIAT)


def _risk(engine: Engine, risk_id: str, residual: int = 2) -> None:
    data = RiskData(
        title=f"Risk {risk_id}",
        description="A risk of the register.",
        owner_id="chair",
        inherent_likelihood=4,
        inherent_impact=4,
        residual_likelihood=residual,
        residual_impact=2,
        treatment="Treated.",
    )
    with session_scope(engine) as session:
        risks.save_risk(
            session=session, risk_id=risk_id, data=data, actor=ADMIN_OF_REGISTER, now=NOW
        )


def _steps() -> list[tuple[Recommendation, RecommendationEvent]]:
    rec, created = Recommendation.create(
        create_command(acceptance=Acceptance.ACCEPTED, risk_ids=("R-1",)), SECRETARIAT, NOW, POLICY
    )
    progressed, reported = rec.handle(
        ReportProgress(percentage=40, narrative="Drafted.", evidence=("https://itu.int/a",)),
        OWNER,
        NOW + timedelta(minutes=1),
        POLICY,
    )
    updated, changed = progressed.handle(
        UpdateRecord(record=record(risk_ids=("R-2",))),
        SECRETARIAT,
        NOW + timedelta(minutes=2),
        POLICY,
    )
    return [(rec, created), (progressed, reported), (updated, changed)]


def _apply(engine: Engine, rec: Recommendation, event: RecommendationEvent) -> bool:
    with session_scope(engine) as session:
        return apply_recommendation_event(session=session, rec=rec, event=event, recorded_at=NOW)


def test_each_event_is_recorded_once_with_its_audit_row(engine: Engine, people: People) -> None:
    _risk(engine, "R-1")
    _risk(engine, "R-2")
    steps = _steps()
    results = [_apply(engine, rec, event) for rec, event in steps * 2]

    assert results == [True, True, True, False, False, False]
    rec = steps[-1][0]
    with Session(engine) as session:
        trail = repository.list_audit(session=session, stream=rec.id)
        assert [(a.sequence, a.action) for a in trail] == [
            (1, "RecommendationRecorded"),
            (2, "ProgressReported"),
            (3, "RecordUpdated"),
        ]
        assert trail[2].payload["changes"] == {"risk_ids": {"from": ["R-1"], "to": ["R-2"]}}
        assert audit.walk(session, rec.id) == (3, None)
        progress = list_progress(session=session, recommendation_id=rec.id)
        assert [(p.percentage, p.evidence) for p in progress] == [(40, ["https://itu.int/a"])]
        assert risk_ids_by_recommendation(session=session, ids=[rec.id]) == {rec.id: ["R-2"]}
        assert [r.id for r in mitigating(session=session, risk_id="R-2")] == [rec.id]
        assert mitigating(session=session, risk_id="R-1") == []


def test_an_older_event_retried_late_does_not_roll_the_read_model_back(
    engine: Engine, people: People
) -> None:
    _risk(engine, "R-1")
    _risk(engine, "R-2")
    steps = _steps()
    for rec, event in steps:
        _apply(engine, rec, event)
    _apply(engine, *steps[0])

    with Session(engine) as session:
        stored = current_record(session=session, recommendation_id=steps[0][0].id)
    assert stored is not None
    assert stored.record == steps[-1][0].record
    assert stored.states[2] == 40


def test_a_risk_is_audited_when_recorded_and_when_changed_and_not_when_unchanged(
    engine: Engine, people: People
) -> None:
    _risk(engine, "R-7", residual=3)
    _risk(engine, "R-7", residual=3)
    _risk(engine, "R-7", residual=1)

    with Session(engine) as session:
        row = risks.get_risk(session=session, risk_id="R-7")
        assert row is not None
        assert (row.inherent_score, row.residual_score, row.version) == (16, 2, 2)
        trail = repository.list_audit(session=session, stream="risk-R-7")
    assert [a.action for a in trail] == ["RiskRecorded", "RiskUpdated"]
    assert trail[1].payload == {"changes": {"residual_likelihood": {"from": 3, "to": 1}}}
