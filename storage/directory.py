"""Repository functions for the organisation's directory: sectors, themes, users, tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from domain.organisation import Sector, Theme
from domain.roles import Actor, Role
from storage.db import utc
from storage.models import ApiTokenRow, SectorRow, ThemeMembershipRow, ThemeRow, UserRow

TOKEN_PREFIX = "isc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def upsert_sector(*, session: Session, sector: Sector) -> None:
    row = session.get(SectorRow, sector.code) or SectorRow(code=sector.code, name="", bureau="")
    row.name, row.bureau = sector.name, sector.bureau
    session.add(row)


def upsert_theme(*, session: Session, theme: Theme) -> None:
    row = session.get(ThemeRow, theme.code) or ThemeRow(code=theme.code, name="")
    row.name = theme.name
    session.add(row)


def list_themes(*, session: Session) -> list[ThemeRow]:
    return list(session.exec(select(ThemeRow).order_by(col(ThemeRow.code))).all())


def list_sectors(*, session: Session) -> list[SectorRow]:
    return list(session.exec(select(SectorRow).order_by(col(SectorRow.code))).all())


def get_theme(*, session: Session, code: str) -> ThemeRow | None:
    return session.get(ThemeRow, code)


def get_sector(*, session: Session, code: str) -> SectorRow | None:
    return session.get(SectorRow, code)


def get_user(*, session: Session, user_id: str) -> UserRow | None:
    return session.get(UserRow, user_id)


def get_user_by_email(*, session: Session, email: str) -> UserRow | None:
    return session.exec(select(UserRow).where(UserRow.email == email)).first()


def create_user(
    *,
    session: Session,
    user_id: str,
    name: str,
    email: str,
    role: Role,
    sector: str | None,
    now: datetime,
    language: str = "en",
) -> UserRow:
    row = UserRow(
        id=user_id,
        name=name,
        email=email,
        role=role.value,
        sector_code=sector,
        language=language,
        created_at=now,
    )
    session.add(row)
    return row


def add_membership(*, session: Session, user_id: str, theme: str, sector: str) -> None:
    if session.get(ThemeMembershipRow, (theme, user_id)) is None:
        session.add(ThemeMembershipRow(theme_code=theme, user_id=user_id, sector_code=sector))


def themes_of(*, session: Session, user_id: str) -> list[str]:
    rows = session.exec(
        select(ThemeMembershipRow.theme_code).where(ThemeMembershipRow.user_id == user_id)
    ).all()
    return sorted(rows)


def issue_token(
    *,
    session: Session,
    user_id: str,
    now: datetime,
    label: str = "",
    expires_at: datetime | None = None,
) -> str:
    """Create a token for the user; the plain token is returned once and never stored."""
    token = new_token()
    session.add(
        ApiTokenRow(
            user_id=user_id,
            token_hash=hash_token(token),
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


def revoke_tokens(*, session: Session, user_id: str, label: str, now: datetime) -> None:
    rows = session.exec(
        select(ApiTokenRow).where(ApiTokenRow.user_id == user_id, ApiTokenRow.label == label)
    ).all()
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
            session.add(row)


def user_for_token(*, session: Session, token: str, now: datetime) -> UserRow | None:
    """The active user owning an unrevoked, unexpired token, or None."""
    row = session.exec(
        select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and utc(row.expires_at) <= now:
        return None
    user = session.get(UserRow, row.user_id)
    return user if user is not None and user.active else None


def actor_for(*, session: Session, user: UserRow) -> Actor:
    return Actor(
        id=user.id,
        role=Role(user.role),
        themes=frozenset(themes_of(session=session, user_id=user.id)),
    )


def set_preferences(
    *, session: Session, user_id: str, language: str | None = None, digest: str | None = None
) -> UserRow | None:
    """Change a user's language and/or digest preference; None if there is no such user."""
    user = session.get(UserRow, user_id)
    if user is None:
        return None
    if language is not None:
        user.language = language
    if digest is not None:
        user.digest = digest
    session.add(user)
    return user


def list_users(*, session: Session) -> list[UserRow]:
    """Active users, by name (for choosing an owner)."""
    rows = session.exec(select(UserRow).where(col(UserRow.active)).order_by(col(UserRow.name)))
    return list(rows.all())
