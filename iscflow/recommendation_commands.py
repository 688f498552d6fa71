"""Sending recommendation commands to their workflows (API, CLI import, demo and tests)."""

from __future__ import annotations

import contextlib
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import DomainError
from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    CreateRecommendation,
    RecommendationCommand,
    RecordAcceptance,
    ReportProgress,
    ReturnToInProgress,
    UpdateRecord,
    VerifyImplementation,
)
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendations import Recommendation
from domain.roles import Actor
from iscflow.issue_commands import (
    CommandRejected,
    bounded,
    final_result,
    rejection,
    workflow_exists,
)
from iscflow.recommendation_settings import RecommendationSettings
from iscflow.settings import Settings
from workflows.recommendation import (
    RecommendationRequest,
    RecommendationWorkflow,
    RecommendationWorkflowInput,
)

UPDATES: dict[type[RecommendationCommand], Any] = {
    UpdateRecord: RecommendationWorkflow.update_record,
    RecordAcceptance: RecommendationWorkflow.record_acceptance,
    ReportProgress: RecommendationWorkflow.report_progress,
    ClaimImplemented: RecommendationWorkflow.claim_implemented,
    VerifyImplementation: RecommendationWorkflow.verify,
    ReturnToInProgress: RecommendationWorkflow.return_to_in_progress,
    CloseRecommendation: RecommendationWorkflow.close,
}


class RecommendationCommands:
    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        config: RecommendationSettings,
        timeout: float = 30.0,
        send_retry_max_seconds: float = 300.0,
        send_timeout_seconds: float = 70.0,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._input = RecommendationWorkflowInput(
            policy=config.policy,
            continue_as_new_after=config.continue_as_new_after,
            send_retry_max_seconds=send_retry_max_seconds,
            send_timeout_seconds=send_timeout_seconds,
        )
        self._timeout = timeout

    @classmethod
    def from_settings(cls, client: Client, settings: Settings) -> RecommendationCommands:
        return cls(
            client,
            task_queue=settings.task_queue,
            config=settings.recommendations,
            timeout=settings.command_timeout_seconds,
            send_retry_max_seconds=settings.mail.retry_max_seconds,
            send_timeout_seconds=settings.mail.send_timeout_seconds,
        )

    @property
    def policy(self) -> RecommendationPolicy:
        return self._input.policy

    async def create(self, actor: Actor, command: CreateRecommendation) -> Recommendation:
        """Start the recommendation's workflow and record it; a repeat returns it as it is."""
        start = WithStartWorkflowOperation(
            RecommendationWorkflow.run,
            self._input,
            id=command.recommendation_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A closed recommendation is never started again; a run that failed (its
            # creation was refused) may be.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
        request = RecommendationRequest[CreateRecommendation](actor=actor, command=command)
        try:
            result: Recommendation = await bounded(
                self._client.execute_update_with_start_workflow(
                    RecommendationWorkflow.create, request, start_workflow_operation=start
                ),
                self._timeout,
            )
            return result
        except WorkflowUpdateFailedError as error:
            raise rejection(error) from None
        except WorkflowAlreadyStartedError:
            # Only a closed recommendation gets here (a running one is reused).
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start.workflow_handle()
            final = await self._final_state(command.recommendation_id)
            try:
                final.check_repeat(command, actor)
            except DomainError as error:
                raise CommandRejected(
                    409, error.code, error.message, current_state=final.implementation.value
                ) from None
            return final

    async def send(
        self, recommendation_id: str, actor: Actor, command: RecommendationCommand
    ) -> Recommendation:
        """Deliver one command to the recommendation's workflow; return the persisted state."""
        handle = self._client.get_workflow_handle(recommendation_id)
        request = RecommendationRequest[Any](actor=actor, command=command)
        try:
            result: Recommendation = await bounded(
                handle.execute_update(UPDATES[type(command)], request), self._timeout
            )
            return result
        except WorkflowUpdateFailedError as error:
            raise rejection(error) from None
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            if not await workflow_exists(self._client, recommendation_id):
                raise CommandRejected(404, "not_found", "no such recommendation") from None
            final = await self._final_state(recommendation_id)
            state = final.implementation.value
            if not final.is_open and final.acceptance.value in {"not_accepted", "not_relevant"}:
                state = final.acceptance.value
            raise CommandRejected(
                409,
                "illegal_transition",
                f"the recommendation is {state} and takes no more commands",
                current_state=state,
                allowed_states=[],
            ) from None

    async def current(self, recommendation_id: str) -> Recommendation | None:
        handle = self._client.get_workflow_handle(recommendation_id)
        result: Recommendation | None = await handle.query(RecommendationWorkflow.current)
        return result

    async def _final_state(self, recommendation_id: str) -> Recommendation:
        handle = self._client.get_workflow_handle(recommendation_id, result_type=Recommendation)
        result: Recommendation = await final_result(handle)
        return result
