"""Browser sessions and password hashes for the web interface."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select

from storage.db import utc
from storage.directory import hash_token
from storage.models import UserRow, WebSessionRow


def set_password_hash(*, session: Session, user_id: str, password_hash: str) -> bool:
    """Store a user's password hash and end their browser sessions; False if no such user."""
    user = session.get(UserRow, user_id)
    if user is None:
        return False
    user.password_hash = password_hash
    session.add(user)
    session.exec(delete(WebSessionRow).where(col(WebSessionRow.user_id) == user_id))
    return True


def create(
    *,
    session: Session,
    secret: str,
    user_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        WebSessionRow(
            id_hash=hash_token(secret),
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


def find(*, session: Session, secret: str, now: datetime) -> tuple[WebSessionRow, UserRow] | None:
    """The live session for a cookie value, with its active user; None otherwise."""
    row = session.get(WebSessionRow, hash_token(secret))
    if row is None or utc(row.expires_at) <= now:
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def end(*, session: Session, secret: str) -> None:
    session.exec(delete(WebSessionRow).where(col(WebSessionRow.id_hash) == hash_token(secret)))


def end_expired(*, session: Session, now: datetime) -> int:
    rows = session.exec(select(WebSessionRow).where(col(WebSessionRow.expires_at) <= now)).all()
    for row in rows:
        session.delete(row)
    return len(rows)
