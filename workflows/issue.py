"""IssueWorkflow: the durable life of one key issue, driven by Temporal Updates.

Each command is an Update. Its validator applies the domain rule and the role rule, so an
illegal command is rejected before it enters history. The handler re-checks under a lock
(another command may have been applied while it waited), applies the transition, and
persists the resulting event through one activity before answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.issues import IssueActivities, RecordIssueEventInput, RecordIssueEventResult
    from activities.mail import MailActivities
    from domain.errors import DomainError
    from domain.issues import (
        AddComment,
        ApproveEscalation,
        CloseIssue,
        Issue,
        IssueCommand,
        IssueEvent,
        RaiseIssue,
        RecordDecision,
        RequestEscalation,
        ResolveIssue,
        ReturnEscalation,
        SendReminder,
        SetDeadline,
        WithdrawIssue,
    )
    from domain.ladder import DEFAULT_LADDER, Ladder
    from domain.policy import IssuePolicy
    from domain.reminders import PlannedStep, TimerAction, next_step
    from domain.roles import SYSTEM_ACTOR, Actor
    from workflows.errors import not_found, to_application_error

C = TypeVar("C", bound=BaseModel)

PERSIST_TIMEOUT = timedelta(seconds=30)
# Persisting must eventually succeed: retry for as long as the database is away.
PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)


# Timers, working-day deadlines and e-mail arrived together; histories recorded before
# them replay along the old path.
REMINDERS_PATCH = "reminders-and-mail-v1"
DEADLINE_PASSED_REASON = "The discussion deadline passed without a resolution."


def issue_workflow_id(issue_id: str) -> str:
    return f"issue-{issue_id}"


class IssueWorkflowInput(BaseModel):
    ladder: Ladder = DEFAULT_LADDER
    policy: IssuePolicy = IssuePolicy()
    send_retry_max_seconds: float = 300.0
    send_timeout_seconds: float = 70.0


class IssueRequest(BaseModel, Generic[C]):
    """One command and who sends it (authenticated by the caller)."""

    actor: Actor
    command: C


@workflow.defn(name="IssueWorkflow")
class IssueWorkflow:
    @workflow.init
    def __init__(self, data: IssueWorkflowInput) -> None:
        self._config = data
        self._issue: Issue | None = None
        self._lock = asyncio.Lock()
        self._sends: set[int] = set()

    @workflow.run
    async def run(self, data: IssueWorkflowInput) -> Issue:
        if workflow.patched(REMINDERS_PATCH):
            await self._run_timers()
        await workflow.wait_condition(
            lambda: (
                self._issue is not None
                and self._issue.is_terminal
                and workflow.all_handlers_finished()
                and not self._sends
            )
        )
        assert self._issue is not None
        return self._issue

    async def _run_timers(self) -> None:
        """Wait for the next planned step; re-plan whenever the issue changes."""
        await workflow.wait_condition(lambda: self._issue is not None)
        while self._issue is not None and not self._issue.is_terminal:
            issue = self._issue
            step = next_step(issue, workflow.now())
            changed = self._changed_since(issue.version)
            if step is None:
                await workflow.wait_condition(changed)
                continue
            delay = (step.due - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(changed, timeout=timedelta(seconds=delay))
                    continue
                except TimeoutError:
                    pass
            await self._take(step)

    def _changed_since(self, version: int) -> Callable[[], bool]:
        return lambda: self._issue is not None and self._issue.version != version

    async def _take(self, step: PlannedStep) -> None:
        command: IssueCommand
        if step.action is TimerAction.DEADLINE_PASSED:
            command = RequestEscalation(reason=DEADLINE_PASSED_REASON)
        else:
            assert step.reminder is not None
            command = SendReminder(reminder=step.reminder, days_before=step.days_before)
        try:
            await self._execute(SYSTEM_ACTOR, command)
        except ApplicationError as refused:
            # The issue moved on while the timer fired; the loop re-plans from its new state.
            workflow.logger.info("timer step %s not taken: %s", step.action, refused.message)

    @workflow.query
    def current(self) -> Issue | None:
        return self._issue

    # -- creation -------------------------------------------------------------------------

    @workflow.update
    async def raise_issue(self, request: IssueRequest[RaiseIssue]) -> Issue:
        async with self._lock:
            if self._issue is not None:
                self._check(request.actor, request.command)
                return self._issue  # a repeated create answers with the issue as it is
            policy = self._config.policy
            if not workflow.patched(REMINDERS_PATCH):
                policy = policy.model_copy(update={"working_days": False})
            issue, event = Issue.raise_issue(
                request.command,
                request.actor,
                workflow.now(),
                ladder=self._config.ladder,
                policy=policy,
            )
            await self._persist(issue, event)
            self._issue = issue
            return issue

    @raise_issue.validator
    def _validate_raise_issue(self, request: IssueRequest[RaiseIssue]) -> None:
        if issue_workflow_id(request.command.issue_id) != workflow.info().workflow_id:
            raise not_found("the issue id does not match this workflow")
        if self._issue is not None:
            self._check(request.actor, request.command)
            return
        try:
            Issue.check_raise(request.command, request.actor)
        except DomainError as error:
            raise to_application_error(error) from None

    # -- commands -------------------------------------------------------------------------

    @workflow.update
    async def add_comment(self, request: IssueRequest[AddComment]) -> Issue:
        return await self._execute(request.actor, request.command)

    @add_comment.validator
    def _validate_add_comment(self, request: IssueRequest[AddComment]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def resolve(self, request: IssueRequest[ResolveIssue]) -> Issue:
        return await self._execute(request.actor, request.command)

    @resolve.validator
    def _validate_resolve(self, request: IssueRequest[ResolveIssue]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def request_escalation(self, request: IssueRequest[RequestEscalation]) -> Issue:
        return await self._execute(request.actor, request.command)

    @request_escalation.validator
    def _validate_request_escalation(self, request: IssueRequest[RequestEscalation]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def approve_escalation(self, request: IssueRequest[ApproveEscalation]) -> Issue:
        return await self._execute(request.actor, request.command)

    @approve_escalation.validator
    def _validate_approve_escalation(self, request: IssueRequest[ApproveEscalation]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def return_escalation(self, request: IssueRequest[ReturnEscalation]) -> Issue:
        return await self._execute(request.actor, request.command)

    @return_escalation.validator
    def _validate_return_escalation(self, request: IssueRequest[ReturnEscalation]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def record_decision(self, request: IssueRequest[RecordDecision]) -> Issue:
        return await self._execute(request.actor, request.command)

    @record_decision.validator
    def _validate_record_decision(self, request: IssueRequest[RecordDecision]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def close(self, request: IssueRequest[CloseIssue]) -> Issue:
        return await self._execute(request.actor, request.command)

    @close.validator
    def _validate_close(self, request: IssueRequest[CloseIssue]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def withdraw(self, request: IssueRequest[WithdrawIssue]) -> Issue:
        return await self._execute(request.actor, request.command)

    @withdraw.validator
    def _validate_withdraw(self, request: IssueRequest[WithdrawIssue]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def set_deadline(self, request: IssueRequest[SetDeadline]) -> Issue:
        return await self._execute(request.actor, request.command)

    @set_deadline.validator
    def _validate_set_deadline(self, request: IssueRequest[SetDeadline]) -> None:
        self._check(request.actor, request.command)

    # -- internals ------------------------------------------------------------------------

    def _check(self, actor: Actor, command: IssueCommand) -> Issue:
        if self._issue is None:
            raise not_found("the issue has not been raised")
        try:
            self._issue.check(command, actor, workflow.now())
        except DomainError as error:
            raise to_application_error(error) from None
        return self._issue

    async def _execute(self, actor: Actor, command: IssueCommand) -> Issue:
        async with self._lock:
            # The state may have moved since the validator ran: check again.
            current = self._check(actor, command)
            if current.already_applied(command):
                return current
            issue, event = current.handle(command, actor, workflow.now())
            await self._persist(issue, event)
            self._issue = issue
            return issue

    async def _persist(self, issue: Issue, event: IssueEvent) -> None:
        notify = workflow.patched(REMINDERS_PATCH)
        result: RecordIssueEventResult = await workflow.execute_activity_method(
            IssueActivities.record_issue_event,
            RecordIssueEventInput(issue=issue, event=event, notify=notify),
            start_to_close_timeout=PERSIST_TIMEOUT,
            retry_policy=PERSIST_RETRY,
        )
        for outbox_id in result.outbox_ids:
            if outbox_id not in self._sends:
                self._sends.add(outbox_id)
                asyncio.create_task(self._send(outbox_id))  # noqa: RUF006 (tracked in _sends)

    async def _send(self, outbox_id: int) -> None:
        """Deliver one notification; retried until the SMTP server takes it."""
        try:
            await workflow.execute_activity_method(
                MailActivities.send_notification,
                outbox_id,
                start_to_close_timeout=timedelta(seconds=self._config.send_timeout_seconds),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=self._config.send_retry_max_seconds),
                ),
            )
        finally:
            self._sends.discard(outbox_id)
