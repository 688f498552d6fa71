"""RecommendationWorkflow: the years-long follow-up of one oversight recommendation.

Commands are Updates with validators, as in IssueWorkflow. A timer loop plans the owner's
reminders, the escalation of an overdue high-priority recommendation and the long-outstanding
mark with pure functions, and re-plans whenever the recommendation changes. Because a
recommendation lives for years, the workflow continues as new when its history grows; the
state it carries over is all the plan needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail import MailActivities
    from activities.recommendations import (
        OpenEscalationIssueInput,
        OpenEscalationIssueResult,
        RecommendationActivities,
        RecordRecommendationEventInput,
        RecordRecommendationEventResult,
    )
    from domain.errors import DomainError
    from domain.recommendation_commands import (
        ClaimImplemented,
        CloseRecommendation,
        CreateRecommendation,
        LinkEscalationIssue,
        MarkLongOutstanding,
        RecommendationCommand,
        RecordAcceptance,
        RecordEscalationFailure,
        ReportProgress,
        ReturnToInProgress,
        SendReminder,
        UpdateRecord,
        VerifyImplementation,
    )
    from domain.recommendation_policy import RecommendationPolicy
    from domain.recommendation_reminders import FollowUp, FollowUpStep, next_step
    from domain.recommendation_terms import ReminderKind
    from domain.recommendations import Recommendation, RecommendationEvent
    from domain.roles import SYSTEM_ACTOR, Actor
    from workflows.errors import not_found, to_application_error
    from workflows.issue import PERSIST_RETRY, PERSIST_TIMEOUT

C = TypeVar("C", bound=BaseModel)

# Opening an issue waits for the issue's own workflow (at most twice its command timeout).
ESCALATION_TIMEOUT = timedelta(seconds=90)
# A run started by a creation that was refused ends (failed) instead of waiting for ever.
EMPTY_RUN_TIMEOUT = timedelta(minutes=5)


class RecommendationWorkflowInput(BaseModel):
    policy: RecommendationPolicy = RecommendationPolicy()
    # Continue as new once the history holds this many events (Temporal warns at 10,240).
    continue_as_new_after: int = 2_000
    send_retry_max_seconds: float = 300.0
    send_timeout_seconds: float = 70.0
    # Carried over by continue-as-new.
    state: Recommendation | None = None
    pending_outbox_ids: list[int] = []


class RecommendationRequest(BaseModel, Generic[C]):
    """One command and who sends it (authenticated by the caller)."""

    actor: Actor
    command: C


_SYSTEM_STEPS: dict[FollowUp, Callable[[FollowUpStep], RecommendationCommand]] = {
    FollowUp.REMIND_DUE: lambda s: SendReminder(
        reminder=ReminderKind.DUE, days_before=s.days_before
    ),
    FollowUp.REMIND_OVERDUE: lambda _: SendReminder(reminder=ReminderKind.OVERDUE),
    FollowUp.MARK_LONG_OUTSTANDING: lambda _: MarkLongOutstanding(),
}


@workflow.defn(name="RecommendationWorkflow")
class RecommendationWorkflow:
    @workflow.init
    def __init__(self, data: RecommendationWorkflowInput) -> None:
        self._config = data
        self._rec: Recommendation | None = data.state
        self._lock = asyncio.Lock()
        self._sends: set[int] = set()

    @workflow.run
    async def run(self, data: RecommendationWorkflowInput) -> Recommendation:
        for outbox_id in data.pending_outbox_ids:
            self._start_send(outbox_id)
        try:
            await workflow.wait_condition(lambda: self._rec is not None, timeout=EMPTY_RUN_TIMEOUT)
        except TimeoutError:
            raise ApplicationError("no recommendation was recorded", non_retryable=True) from None
        await self._follow_up()
        assert self._rec is not None
        if self._rec.is_open and self._continue_due():
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() and not self._lock.locked()
            )
            workflow.continue_as_new(
                self._config.model_copy(
                    update={"state": self._rec, "pending_outbox_ids": sorted(self._sends)}
                )
            )
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._sends)
        return self._rec

    def _continue_due(self) -> bool:
        info = workflow.info()
        return (
            info.get_current_history_length() >= self._config.continue_as_new_after
            or info.is_continue_as_new_suggested()
        )

    async def _follow_up(self) -> None:
        """Wait for the next planned step; re-plan whenever the recommendation changes."""
        while self._rec is not None and self._rec.is_open and not self._continue_due():
            rec = self._rec
            step = next_step(rec, self._config.policy, workflow.now())
            changed = self._changed_since(rec.version)
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
        return lambda: self._rec is not None and self._rec.version != version

    async def _take(self, step: FollowUpStep) -> None:
        command = (
            await self._open_escalation_issue()
            if step.action is FollowUp.OPEN_ESCALATION_ISSUE
            else _SYSTEM_STEPS[step.action](step)
        )
        try:
            await self._execute(SYSTEM_ACTOR, command)
        except ApplicationError as refused:
            # The recommendation moved on while the timer fired; the loop re-plans.
            workflow.logger.info("follow-up %s not taken: %s", step.action, refused.message)

    async def _open_escalation_issue(self) -> RecommendationCommand:
        assert self._rec is not None
        try:
            result: OpenEscalationIssueResult = await workflow.execute_activity_method(
                RecommendationActivities.open_escalation_issue,
                OpenEscalationIssueInput(rec=self._rec),
                start_to_close_timeout=ESCALATION_TIMEOUT,
                retry_policy=PERSIST_RETRY,
            )
        except ActivityError as error:
            cause = error.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(error)
            return RecordEscalationFailure(reason=reason[:2000] or "refused")
        return LinkEscalationIssue(issue_id=result.issue_id)

    @workflow.query
    def current(self) -> Recommendation | None:
        return self._rec

    # -- creation -------------------------------------------------------------------------

    @workflow.update
    async def create(self, request: RecommendationRequest[CreateRecommendation]) -> Recommendation:
        async with self._lock:
            if self._rec is not None:
                self._check_repeat(request)
                return self._rec  # a repeated create answers with the record as it is
            rec, event = Recommendation.create(
                request.command, request.actor, workflow.now(), self._config.policy
            )
            await self._persist(rec, event)
            self._rec = rec
            return rec

    @create.validator
    def _validate_create(self, request: RecommendationRequest[CreateRecommendation]) -> None:
        if request.command.recommendation_id != workflow.info().workflow_id:
            raise not_found("the recommendation's key does not match this workflow")
        if self._rec is not None:
            self._check_repeat(request)
            return
        try:
            Recommendation.check_create(request.command, request.actor)
        except DomainError as error:
            raise to_application_error(error) from None

    def _check_repeat(self, request: RecommendationRequest[CreateRecommendation]) -> None:
        assert self._rec is not None
        try:
            self._rec.check_repeat(request.command, request.actor)
        except DomainError as error:
            raise to_application_error(error) from None

    # -- commands -------------------------------------------------------------------------

    @workflow.update
    async def update_record(self, request: RecommendationRequest[UpdateRecord]) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @update_record.validator
    def _validate_update_record(self, request: RecommendationRequest[UpdateRecord]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def record_acceptance(
        self, request: RecommendationRequest[RecordAcceptance]
    ) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @record_acceptance.validator
    def _validate_record_acceptance(self, request: RecommendationRequest[RecordAcceptance]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def report_progress(
        self, request: RecommendationRequest[ReportProgress]
    ) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @report_progress.validator
    def _validate_report_progress(self, request: RecommendationRequest[ReportProgress]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def claim_implemented(
        self, request: RecommendationRequest[ClaimImplemented]
    ) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @claim_implemented.validator
    def _validate_claim_implemented(self, request: RecommendationRequest[ClaimImplemented]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def verify(self, request: RecommendationRequest[VerifyImplementation]) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @verify.validator
    def _validate_verify(self, request: RecommendationRequest[VerifyImplementation]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def return_to_in_progress(
        self, request: RecommendationRequest[ReturnToInProgress]
    ) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @return_to_in_progress.validator
    def _validate_return(self, request: RecommendationRequest[ReturnToInProgress]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def close(self, request: RecommendationRequest[CloseRecommendation]) -> Recommendation:
        return await self._execute(request.actor, request.command)

    @close.validator
    def _validate_close(self, request: RecommendationRequest[CloseRecommendation]) -> None:
        self._check(request.actor, request.command)

    # -- internals ------------------------------------------------------------------------

    def _check(self, actor: Actor, command: RecommendationCommand) -> Recommendation:
        if self._rec is None:
            raise not_found("the recommendation has not been recorded")
        try:
            self._rec.check(command, actor)
        except DomainError as error:
            raise to_application_error(error) from None
        return self._rec

    async def _execute(self, actor: Actor, command: RecommendationCommand) -> Recommendation:
        async with self._lock:
            # The state may have moved since the validator ran: check again.
            current = self._check(actor, command)
            if current.already_applied(command):
                return current
            rec, event = current.handle(command, actor, workflow.now(), self._config.policy)
            await self._persist(rec, event)
            self._rec = rec
            return rec

    async def _persist(self, rec: Recommendation, event: RecommendationEvent) -> None:
        result: RecordRecommendationEventResult = await workflow.execute_activity_method(
            RecommendationActivities.record_recommendation_event,
            RecordRecommendationEventInput(rec=rec, event=event),
            start_to_close_timeout=PERSIST_TIMEOUT,
            retry_policy=PERSIST_RETRY,
        )
        for outbox_id in result.outbox_ids:
            self._start_send(outbox_id)

    def _start_send(self, outbox_id: int) -> None:
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
