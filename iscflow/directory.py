"""Directory operations used by the CLI and the demo: reference data and users."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from domain.organisation import SECTORS, THEMES
from domain.roles import Actor, Role
from storage import directory
from storage.db import session_scope


class DirectoryError(ValueError):
    pass


@dataclass(frozen=True)
class NewUser:
    actor: Actor
    email: str
    token: str


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def load_reference_data(engine: Engine) -> None:
    """Sectors and the thematic areas of the seed; safe to run again."""
    with session_scope(engine) as session:
        for sector in SECTORS:
            directory.upsert_sector(session=session, sector=sector)
        for theme in THEMES:
            directory.upsert_theme(session=session, theme=theme)


def add_user(
    engine: Engine,
    *,
    name: str,
    email: str,
    role: Role,
    now: datetime,
    sector: str | None = None,
    themes: tuple[str, ...] = (),
    user_id: str | None = None,
    token_label: str = "cli",
) -> NewUser:
    """Create a user with their theme memberships and a first API token (shown once)."""
    if not EMAIL.match(email):
        raise DirectoryError(f"'{email}' is not an e-mail address")
    if role is Role.SYSTEM:
        raise DirectoryError("'system' is not a role a person can have")
    if themes and role is not Role.FOCAL_POINT:
        raise DirectoryError("only focal points belong to themes")
    if role is Role.FOCAL_POINT and (not themes or sector is None):
        raise DirectoryError("a focal point needs a sector and at least one theme")
    with session_scope(engine) as session:
        if directory.get_user_by_email(session=session, email=email) is not None:
            raise DirectoryError(f"a user with e-mail {email} already exists")
        if sector is not None and directory.get_sector(session=session, code=sector) is None:
            raise DirectoryError(f"unknown sector '{sector}'")
        for theme in themes:
            if directory.get_theme(session=session, code=theme) is None:
                raise DirectoryError(f"unknown theme '{theme}'")
        uid = user_id or str(uuid.uuid4())
        directory.create_user(
            session=session, user_id=uid, name=name, email=email, role=role, sector=sector, now=now
        )
        session.flush()
        for theme in themes:
            assert sector is not None
            directory.add_membership(session=session, user_id=uid, theme=theme, sector=sector)
        token = directory.issue_token(session=session, user_id=uid, now=now, label=token_label)
    return NewUser(
        actor=Actor(id=uid, role=role, themes=frozenset(themes)), email=email, token=token
    )


def set_password(engine: Engine, *, user: str, password: str) -> str:
    """Set the web password of the user with this id or e-mail address; returns the user id.

    Signs the user out of every browser. DirectoryError for an unknown user or a weak password.
    """
    from storage import web_sessions
    from web.security import WeakPassword, hash_password

    try:
        hashed = hash_password(password)
    except WeakPassword as error:
        raise DirectoryError(str(error)) from None
    with session_scope(engine) as session:
        row = directory.get_user(session=session, user_id=user) or directory.get_user_by_email(
            session=session, email=user
        )
        if row is None or row.role == Role.SYSTEM.value:
            raise DirectoryError(f"no user '{user}' (give a user id or an e-mail address)")
        web_sessions.set_password_hash(session=session, user_id=row.id, password_hash=hashed)
        return row.id
