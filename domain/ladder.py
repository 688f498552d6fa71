"""The escalation ladder: configuration, not code. Level 0 is the focal points."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.roles import Role


class LadderLevel(BaseModel):
    """One rung: who approves a request to reach it and who decides there."""

    model_config = ConfigDict(frozen=True)

    level: int = Field(ge=1)
    name: str = Field(min_length=1)
    approver_roles: tuple[Role, ...] = Field(min_length=1)
    decider_roles: tuple[Role, ...] = Field(min_length=1)


class Ladder(BaseModel):
    """The rungs above the focal points, numbered 1, 2, … without gaps."""

    model_config = ConfigDict(frozen=True)

    levels: tuple[LadderLevel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _levels_are_consecutive(self) -> Ladder:
        numbers = [lvl.level for lvl in self.levels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("ladder levels must be numbered 1, 2, … in order")
        return self

    def level(self, number: int) -> LadderLevel:
        if not 1 <= number <= len(self.levels):
            raise KeyError(number)
        return self.levels[number - 1]

    def next_level(self, number: int) -> LadderLevel | None:
        return self.levels[number] if number < len(self.levels) else None


DEFAULT_LADDER = Ladder(
    levels=(
        LadderLevel(
            level=1,
            name="ISC-TF",
            approver_roles=(Role.CHAIR,),
            decider_roles=(Role.CHAIR, Role.SECRETARIAT),
        ),
        LadderLevel(
            level=2,
            name="Coordination Committee",
            approver_roles=(Role.EXECUTIVE,),
            decider_roles=(Role.EXECUTIVE,),
        ),
    )
)
