"""Builders for recommendation tests: records, creation commands, a cast of actors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from domain.recommendation_commands import CreateRecommendation
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import (
    Acceptance,
    Implementation,
    Priority,
    RecordData,
    SourceBody,
)
from domain.recommendations import Recommendation
from domain.roles import Actor, Role

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Geneva
SECRETARIAT = Actor(id="secretariat", role=Role.SECRETARIAT)
AUDITOR = Actor(id="auditor", role=Role.AUDITOR)
OWNER = Actor(id="fp_access", role=Role.FOCAL_POINT, themes=frozenset({"accessibility"}))
OTHER_FP = Actor(id="fp_access_d", role=Role.FOCAL_POINT, themes=frozenset({"accessibility"}))


def record(**changes: Any) -> RecordData:
    values: dict[str, Any] = {
        "issued_on": date(2024, 6, 1),
        "title": "Tag Council documents for screen readers",
        "text": "The Secretary-General should ensure that all Council documents are accessible.",
        "owner_id": OWNER.id,
        "theme": "accessibility",
        "priority": Priority.MEDIUM,
        "target_date": date(2025, 6, 30),
        "risk_ids": (),
    }
    values.update(changes)
    return RecordData(**values)


def create_command(
    *,
    source: SourceBody = SourceBody.JIU,
    symbol: str = "JIU/REP/2018/6",
    number: int = 3,
    acceptance: Acceptance = Acceptance.UNDER_CONSIDERATION,
    implementation: Implementation = Implementation.NOT_STARTED,
    progress: int = 0,
    justification: str | None = None,
    **record_changes: Any,
) -> CreateRecommendation:
    return CreateRecommendation(
        source=source,
        symbol=symbol,
        number=number,
        record=record(**record_changes),
        acceptance=acceptance,
        implementation=implementation,
        progress=progress,
        justification=justification,
    )


def created(
    policy: RecommendationPolicy | None = None, now: datetime = NOW, **kwargs: Any
) -> Recommendation:
    rec, _ = Recommendation.create(
        create_command(**kwargs), SECRETARIAT, now, policy or RecommendationPolicy()
    )
    return rec


def in_state(acceptance: Acceptance, implementation: Implementation) -> Recommendation:
    """A recommendation placed directly in a pair of states (for the transition tables)."""
    return created().model_copy(update={"acceptance": acceptance, "implementation": implementation})
