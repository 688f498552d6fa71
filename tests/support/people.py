"""A small cast of users, one per role, for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from domain.roles import Role
from iscflow.directory import NewUser, add_user


@dataclass(frozen=True)
class People:
    fp_access: NewUser  # focal point, accessibility, ITU-T (the usual author)
    fp_access_d: NewUser  # focal point, accessibility, ITU-D
    fp_gender: NewUser  # focal point of another theme
    chair: NewUser
    secretariat: NewUser
    executive: NewUser
    auditor: NewUser
    admin: NewUser

    def all(self) -> dict[str, NewUser]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def add_people(engine: Engine) -> People:
    now = datetime.now(UTC)

    def user(key: str, role: Role, sector: str | None = None, *themes: str) -> NewUser:
        return add_user(
            engine,
            name=key.replace("_", " ").title(),
            email=f"{key}@example.org",
            role=role,
            sector=sector,
            themes=themes,
            user_id=key,
            now=now,
        )

    return People(
        fp_access=user("fp_access", Role.FOCAL_POINT, "ITU-T", "accessibility"),
        fp_access_d=user("fp_access_d", Role.FOCAL_POINT, "ITU-D", "accessibility"),
        fp_gender=user("fp_gender", Role.FOCAL_POINT, "GS", "gender"),
        chair=user("chair", Role.CHAIR, "GS"),
        secretariat=user("secretariat", Role.SECRETARIAT, "GS"),
        executive=user("executive", Role.EXECUTIVE, "GS"),
        auditor=user("auditor", Role.AUDITOR, "GS"),
        admin=user("admin", Role.ADMIN),
    )
