"""How domain errors cross the Temporal boundary: ApplicationErrors with structured details."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

from domain.errors import DomainError, IllegalTransition, InvalidCommand

NOT_FOUND = "NotFound"


def to_application_error(error: DomainError) -> ApplicationError:
    details: dict[str, Any] = {"code": error.code, "message": error.message}
    if isinstance(error, IllegalTransition):
        details["current_state"] = error.state
        details["allowed_states"] = error.allowed_states
    if isinstance(error, InvalidCommand):
        details["field"] = error.field
    return ApplicationError(error.message, details, type=type(error).__name__, non_retryable=True)


def not_found(message: str) -> ApplicationError:
    return ApplicationError(
        message, {"code": "not_found", "message": message}, type=NOT_FOUND, non_retryable=True
    )
