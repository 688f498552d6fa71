"""Sending issue commands to their workflows, and turning refusals into clear errors.

Used by the API, the CLI's demo loader, the tests and the benchmarks: the only place that
knows how a command becomes a Temporal Update.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import DomainError
from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    Issue,
    IssueCommand,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    SetDeadline,
    WithdrawIssue,
)
from domain.ladder import Ladder
from domain.policy import IssuePolicy
from domain.roles import Actor
from iscflow.settings import Settings
from workflows.issue import IssueRequest, IssueWorkflow, IssueWorkflowInput, issue_workflow_id

STATUS_BY_TYPE = {
    "IllegalTransition": 409,
    "PermissionDenied": 403,
    "InvalidCommand": 422,
    "NotFound": 404,
}

UPDATES: dict[type[IssueCommand], Any] = {
    AddComment: IssueWorkflow.add_comment,
    ResolveIssue: IssueWorkflow.resolve,
    RequestEscalation: IssueWorkflow.request_escalation,
    ApproveEscalation: IssueWorkflow.approve_escalation,
    ReturnEscalation: IssueWorkflow.return_escalation,
    RecordDecision: IssueWorkflow.record_decision,
    CloseIssue: IssueWorkflow.close,
    WithdrawIssue: IssueWorkflow.withdraw,
    SetDeadline: IssueWorkflow.set_deadline,
}


class CommandRejected(Exception):
    """A command the system refused, with the HTTP status and details a caller can act on."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class IssueCommands:
    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        ladder: Ladder,
        policy: IssuePolicy,
        timeout: float = 30.0,
        send_retry_max_seconds: float = 300.0,
        send_timeout_seconds: float = 70.0,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._input = IssueWorkflowInput(
            ladder=ladder,
            policy=policy,
            send_retry_max_seconds=send_retry_max_seconds,
            send_timeout_seconds=send_timeout_seconds,
        )
        self._timeout = timeout

    @classmethod
    def from_settings(cls, client: Client, settings: Settings) -> IssueCommands:
        return cls(
            client,
            task_queue=settings.task_queue,
            ladder=settings.ladder,
            policy=settings.issue_policy,
            timeout=settings.command_timeout_seconds,
            send_retry_max_seconds=settings.mail.retry_max_seconds,
            send_timeout_seconds=settings.mail.send_timeout_seconds,
        )

    async def raise_issue(self, actor: Actor, command: RaiseIssue) -> Issue:
        """Start the issue's workflow and raise it; a repeat returns the same issue."""
        workflow_id = issue_workflow_id(command.issue_id)
        start = WithStartWorkflowOperation(
            IssueWorkflow.run,
            self._input,
            id=workflow_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A finished issue is never started again under the same id.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        request = IssueRequest[RaiseIssue](actor=actor, command=command)
        try:
            result: Issue = await self._bounded(
                self._client.execute_update_with_start_workflow(
                    IssueWorkflow.raise_issue, request, start_workflow_operation=start
                )
            )
            return result
        except WorkflowUpdateFailedError as error:
            raise rejection(error) from None
        except WorkflowAlreadyStartedError:
            # Only a finished issue gets here (a running one is reused): answer with it.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start.workflow_handle()  # the same refusal, retrieved so it is not logged
            final = await self._final_state(command.issue_id)
            try:
                final.check(command, actor)
            except DomainError as error:
                raise CommandRejected(
                    409, error.code, error.message, current_state=final.state.value
                ) from None
            return final

    async def send(self, issue_id: str, actor: Actor, command: IssueCommand) -> Issue:
        """Deliver one command to the issue's workflow and return the persisted issue."""
        handle = self._client.get_workflow_handle(issue_workflow_id(issue_id))
        update = UPDATES[type(command)]
        request = IssueRequest[Any](actor=actor, command=command)
        try:
            result: Issue = await self._bounded(handle.execute_update(update, request))
            return result
        except WorkflowUpdateFailedError as error:
            raise rejection(error) from None
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            if not await workflow_exists(self._client, issue_workflow_id(issue_id)):
                raise CommandRejected(404, "not_found", "no such issue") from None
            # The workflow finished (or finished while the command waited): answer with it.
            final = await self._final_state(issue_id)
            raise CommandRejected(
                409,
                "illegal_transition",
                f"the issue is {final.state.value} and takes no more commands",
                current_state=final.state.value,
                allowed_states=[],
            ) from None

    async def current(self, issue_id: str) -> Issue | None:
        handle = self._client.get_workflow_handle(issue_workflow_id(issue_id))
        result: Issue | None = await handle.query(IssueWorkflow.current)
        return result

    async def _final_state(self, issue_id: str) -> Issue:
        handle = self._client.get_workflow_handle(issue_workflow_id(issue_id), result_type=Issue)
        result: Issue = await final_result(handle)
        return result

    async def _bounded(self, awaitable: Any) -> Any:
        return await bounded(awaitable, self._timeout)


UNAVAILABLE_MESSAGE = (
    "no worker answered in time; the command may still be applied, check before sending it again"
)
# The Temporal server away or too slow: the caller may try again later.
UNREACHABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


async def bounded(awaitable: Any, limit: float) -> Any:
    """Wait for a command's answer; 503 if no worker gives one in time."""
    try:
        return await asyncio.wait_for(awaitable, limit)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # Cancelling a waiting update on timeout surfaces as the latter.
        raise CommandRejected(503, "unavailable", UNAVAILABLE_MESSAGE) from None
    except RPCError as error:
        if error.status not in UNREACHABLE:
            raise
        raise CommandRejected(
            503, "unavailable", f"the workflow service is unreachable; {UNAVAILABLE_MESSAGE}"
        ) from None


async def final_result(handle: WorkflowHandle[Any, Any]) -> Any:
    """A finished workflow's entity; 409 if it ended without one (an operator terminated it,
    or it failed): such an entity takes no more commands."""
    try:
        return await handle.result()
    except WorkflowFailureError:
        raise CommandRejected(
            409,
            "workflow_stopped",
            f"{handle.id} was stopped (terminated or failed) and takes no more commands",
            current_state="stopped",
            allowed_states=[],
        ) from None


async def workflow_exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def rejection(error: WorkflowUpdateFailedError) -> CommandRejected:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in STATUS_BY_TYPE:
        details: dict[str, Any] = dict(cause.details[0]) if cause.details else {}
        code = str(details.pop("code", cause.type))
        message = str(details.pop("message", cause.message))
        return CommandRejected(STATUS_BY_TYPE[cause.type], code, message, **details)
    message = str(cause.message if isinstance(cause, ApplicationError) else error)
    return CommandRejected(500, "command_failed", message)
