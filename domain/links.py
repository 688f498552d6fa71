"""Signed links: an e-mail button that acts for one user, once, until it expires.

The token is `base64url(payload).base64url(HMAC-SHA256(payload))`. Pure: the key and the
time are arguments. Single use is enforced by storage, keyed on `link_id`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError


class LinkError(Exception):
    """A link that cannot be honoured; `reason` is tampered or expired."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class LinkPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str  # "escalation" (approve/return) or "preferences"
    user_id: str
    issue_id: str | None = None
    # Which request the link answers: the escalation request's event sequence.
    request: int | None = None
    expires_at: AwareDatetime

    @property
    def link_id(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()[:40]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: LinkPayload, key: bytes) -> str:
    body = json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(token: str, key: bytes, now: datetime, *, purpose: str) -> LinkPayload:
    """The payload of a genuine, unexpired link for `purpose`; LinkError otherwise."""
    tampered = LinkError("tampered", "this link is not valid: it was altered or cut short")
    try:
        body_text, mac_text = token.split(".", 1)
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        raise tampered from None
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        raise tampered
    try:
        payload = LinkPayload.model_validate_json(body)
    except ValidationError:
        raise tampered from None
    if payload.purpose != purpose:
        raise tampered
    if payload.expires_at <= now:
        raise LinkError("expired", "this link has expired; use the application instead")
    return payload
