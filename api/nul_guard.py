"""Refusing the NUL character (U+0000) wherever an API request carries text.

PostgreSQL's text type cannot store NUL: a command carrying one would be accepted, then fail
to persist on every retry while its caller waited. No field of the API needs it, so a path,
query parameter or JSON body holding one is refused up front with 422, naming the field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
ESCAPED_NUL = b"\\u0000"  # how JSON writes it; a raw NUL byte is not JSON at all
API_PREFIX = "/api/"


def field_with_nul(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string, or key, in a JSON document that holds NUL."""
    if isinstance(value, str):
        return (".".join(path) or "body") if NUL in value else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return ".".join((*path, key))
            items.append((key, item))
    elif isinstance(value, list):
        items = [(str(n), item) for n, item in enumerate(value)]
    for key, item in items:
        found = field_with_nul(item, (*path, key))
        if found is not None:
            return found
    return None


def _in_path_or_query(scope: Scope) -> str | None:
    if NUL in scope["path"]:
        return "path"
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            return name
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in bytes(value).lower()
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


def _refusal(field: str) -> JSONResponse:
    message = "must not contain the NUL character (U+0000)"
    return JSONResponse(
        status_code=422,
        content={
            "error": {
                "code": "invalid_request",
                "message": f"{field}: {message}",
                "fields": [{"field": field, "message": message, "type": "nul_character"}],
            }
        },
    )


class RefuseNul:
    """ASGI middleware: 422 for an API request whose text holds NUL; the rest pass as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        field = _in_path_or_query(scope)
        if field is None and _is_json(scope):
            messages, body = await _read_body(receive)
            receive = _replaying(messages, receive)
            if ESCAPED_NUL in body:
                try:
                    field = field_with_nul(json.loads(body))
                except (ValueError, RecursionError):
                    field = None  # not JSON a route accepts: its own validation answers
        if field is not None:
            await _refusal(field)(scope, receive, send)
            return
        await self.app(scope, receive, send)
