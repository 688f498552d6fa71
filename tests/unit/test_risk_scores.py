"""Risk scores: likelihood times impact, banded; treatment cannot make a risk worse."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import InvalidCommand, PermissionDenied
from domain.risks import RiskData, RiskLevel, changes, check_risk, level
from domain.roles import Actor, Role

SECRETARIAT = Actor(id="secretariat", role=Role.SECRETARIAT)


def data(**changed: Any) -> RiskData:
    values: dict[str, Any] = {
        "title": "Fragmented web presence",
        "description": "Sector sites diverge.",
        "owner_id": "chair",
        "inherent_likelihood": 4,
        "inherent_impact": 4,
        "residual_likelihood": 2,
        "residual_impact": 3,
        "treatment": "One content platform.",
    }
    values.update(changed)
    return RiskData(**values)


def test_scores_multiply_likelihood_and_impact() -> None:
    risk = data()
    assert (risk.inherent_score, risk.residual_score) == (16, 6)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (1, RiskLevel.LOW),
        (4, RiskLevel.LOW),
        (5, RiskLevel.MEDIUM),
        (9, RiskLevel.MEDIUM),
        (10, RiskLevel.HIGH),
        (14, RiskLevel.HIGH),
        (15, RiskLevel.CRITICAL),
        (25, RiskLevel.CRITICAL),
    ],
)
def test_levels_band_the_score(score: int, band: RiskLevel) -> None:
    assert level(score) is band


@pytest.mark.parametrize("value", [0, 6])
def test_the_scale_runs_from_1_to_5(value: int) -> None:
    with pytest.raises(ValidationError):
        data(inherent_impact=value)


def test_residual_above_inherent_is_refused() -> None:
    with pytest.raises(InvalidCommand) as refused:
        check_risk(data(residual_likelihood=5, residual_impact=5), SECRETARIAT)
    assert refused.value.field == "residual_likelihood"


def test_only_the_secretariat_keeps_the_register() -> None:
    with pytest.raises(PermissionDenied):
        check_risk(data(), Actor(id="auditor", role=Role.AUDITOR))


def test_changes_name_each_changed_field() -> None:
    assert changes(data(), data(residual_impact=2, treatment="Migrate.")) == {
        "residual_impact": {"from": 3, "to": 2},
        "treatment": {"from": "One content platform.", "to": "Migrate."},
    }
