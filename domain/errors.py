"""The domain's error types: one for illegal transitions, one for missing rights."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises; `code` is stable and machine readable."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(DomainError):
    """The command is not allowed in the entity's current state."""

    code = "illegal_transition"

    def __init__(
        self, *, action: str, state: str, allowed_states: list[str], message: str | None = None
    ) -> None:
        allowed = ", ".join(allowed_states) or "no state"
        super().__init__(
            message
            or f"cannot {action.replace('_', ' ')} while the issue is {state}; "
            f"allowed only when it is {allowed}"
        )
        self.action = action
        self.state = state
        self.allowed_states = allowed_states


class PermissionDenied(DomainError):
    """The actor lacks the right to perform the command."""

    code = "permission_denied"


class InvalidCommand(DomainError):
    """The command's data breaks a domain rule; `field` names the offending field."""

    code = "invalid_command"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
