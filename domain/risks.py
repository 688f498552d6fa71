"""The risk register (DESIGN §3): likelihood times impact, before and after treatment."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.errors import InvalidCommand, PermissionDenied
from domain.recommendation_terms import Code, Text, Title
from domain.roles import Actor, Role

Scale = Annotated[int, Field(ge=1, le=5)]
RiskId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
]


class RiskLevel(StrEnum):
    """Bands of a 5-by-5 matrix's score."""

    LOW = "low"  # 1-4
    MEDIUM = "medium"  # 5-9
    HIGH = "high"  # 10-14
    CRITICAL = "critical"  # 15-25


def score(likelihood: int, impact: int) -> int:
    return likelihood * impact


def level(value: int) -> RiskLevel:
    """The band a score falls in."""
    if value >= 15:
        return RiskLevel.CRITICAL
    if value >= 10:
        return RiskLevel.HIGH
    if value >= 5:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


class RiskData(BaseModel):
    """What the register keeps about a risk; the scores follow from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Title
    description: Text
    owner_id: Code
    inherent_likelihood: Scale
    inherent_impact: Scale
    residual_likelihood: Scale
    residual_impact: Scale
    treatment: Text

    @property
    def inherent_score(self) -> int:
        return score(self.inherent_likelihood, self.inherent_impact)

    @property
    def residual_score(self) -> int:
        return score(self.residual_likelihood, self.residual_impact)


def check_risk(data: RiskData, actor: Actor) -> None:
    """Raise PermissionDenied or InvalidCommand unless `actor` may record `data`."""
    if actor.role is not Role.SECRETARIAT:
        raise PermissionDenied("only the secretariat keeps the risk register")
    if data.residual_score > data.inherent_score:
        raise InvalidCommand(
            f"the residual score ({data.residual_score}) cannot exceed the inherent score "
            f"({data.inherent_score}): treatment does not make a risk worse",
            field="residual_likelihood",
        )


def changes(before: RiskData, after: RiskData) -> dict[str, dict[str, Any]]:
    """The fields that differ, as {field: {"from": old, "to": new}}."""
    old, new = before.model_dump(), after.model_dump()
    return {
        name: {"from": old[name], "to": value} for name, value in new.items() if old[name] != value
    }
