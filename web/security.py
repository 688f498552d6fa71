"""Passwords (argon2id), session cookies and CSRF tokens for the web interface."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SESSION_COOKIE = "iscflow_session"
# Before sign-in there is no session to bind a CSRF token to: a random cookie is repeated in
# the form instead (double submit), and checked against it.
ANONYMOUS_CSRF_COOKIE = "iscflow_csrf"
LANGUAGE_COOKIE = "iscflow_lang"
FLASH_COOKIE = "iscflow_flash"
CSRF_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the user does not exist, so that a wrong e-mail address takes as
# long as a wrong password and does not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode(), given.encode())
