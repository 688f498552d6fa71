"""Roles (DESIGN §2) and the acting user as the domain sees it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    FOCAL_POINT = "focal_point"
    CHAIR = "chair"
    EXECUTIVE = "executive"
    SECRETARIAT = "secretariat"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # The system itself, for transitions taken on a timer (never a person's role).
    SYSTEM = "system"


HUMAN_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SYSTEM)


class Actor(BaseModel):
    """Who performs a command: id, role and, for focal points, the themes they serve."""

    model_config = ConfigDict(frozen=True)

    id: str
    role: Role
    themes: frozenset[str] = frozenset()

    def is_focal_point_of(self, theme: str) -> bool:
        return self.role is Role.FOCAL_POINT and theme in self.themes


SYSTEM_ACTOR = Actor(id="system", role=Role.SYSTEM)
