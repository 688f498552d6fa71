"""Errors as JSON a person can act on: {"error": {"code", "message", ...}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.nul_guard import RefuseNul
from iscflow.issue_commands import CommandRejected


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, parts = parts[0], parts[1:]
        if where == "body" and all(p.isdigit() for p in parts):
            return "body"  # the body as a whole (e.g. malformed JSON), not a field in it
    return ".".join(parts) or "body"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": _field_name(err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "invalid request"
    return JSONResponse(
        status_code=422,
        content=jsonable_encoder(error_body("invalid_request", message, fields=fields)),
    )


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError | CommandRejected)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    details = dict(exc.details)
    if exc.status == 422 and "field" in details:
        details["fields"] = [{"field": details["field"], "message": exc.message}]
    return JSONResponse(
        status_code=exc.status,
        content=jsonable_encoder(error_body(exc.code, exc.message, **details)),
        headers=headers,
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
    return JSONResponse(
        status_code=exc.status_code,
        content=error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors for every refusal, and the refusal of text no database can store."""
    app.add_middleware(RefuseNul)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(CommandRejected, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
