"""Sending meeting commands to their workflows (API, CLI, demo and tests)."""

from __future__ import annotations

import contextlib
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.meetings import (
    AddItem,
    DecideItem,
    MarkHeld,
    Meeting,
    MeetingCommand,
    MeetingPolicy,
    RecordMinutes,
    RemoveItem,
    ReorderItems,
    Reschedule,
    ScheduleMeeting,
    SendAgenda,
)
from domain.roles import Actor
from iscflow.issue_commands import (
    CommandRejected,
    bounded,
    final_result,
    rejection,
    workflow_exists,
)
from iscflow.settings import Settings
from workflows.meeting import (
    MeetingRequest,
    MeetingWorkflow,
    MeetingWorkflowInput,
    meeting_workflow_id,
)

UPDATES: dict[type[MeetingCommand], Any] = {
    Reschedule: MeetingWorkflow.reschedule,
    AddItem: MeetingWorkflow.add_item,
    RemoveItem: MeetingWorkflow.remove_item,
    ReorderItems: MeetingWorkflow.reorder,
    SendAgenda: MeetingWorkflow.send_agenda,
    MarkHeld: MeetingWorkflow.mark_held,
    DecideItem: MeetingWorkflow.decide_item,
    RecordMinutes: MeetingWorkflow.record_minutes,
}


class MeetingCommands:
    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        policy: MeetingPolicy,
        timeout: float = 30.0,
        send_retry_max_seconds: float = 300.0,
        send_timeout_seconds: float = 70.0,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._input = MeetingWorkflowInput(
            policy=policy,
            send_retry_max_seconds=send_retry_max_seconds,
            send_timeout_seconds=send_timeout_seconds,
        )
        self._timeout = timeout

    @classmethod
    def from_settings(cls, client: Client, settings: Settings) -> MeetingCommands:
        return cls(
            client,
            task_queue=settings.task_queue,
            policy=settings.meeting_policy,
            timeout=settings.command_timeout_seconds,
            send_retry_max_seconds=settings.mail.retry_max_seconds,
            send_timeout_seconds=settings.mail.send_timeout_seconds,
        )

    async def schedule(self, actor: Actor, command: ScheduleMeeting) -> Meeting:
        """Start the meeting's workflow; scheduling the same number again returns it."""
        start = WithStartWorkflowOperation(
            MeetingWorkflow.run,
            self._input,
            id=meeting_workflow_id(command.number),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        request = MeetingRequest[ScheduleMeeting](actor=actor, command=command)
        try:
            result: Meeting = await bounded(
                self._client.execute_update_with_start_workflow(
                    MeetingWorkflow.schedule, request, start_workflow_operation=start
                ),
                self._timeout,
            )
            return result
        except WorkflowUpdateFailedError as error:
            raise rejection(error) from None
        except WorkflowAlreadyStartedError:
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start.workflow_handle()
            return await self._final(command.number)

    async def send(self, number: int, actor: Actor, command: MeetingCommand) -> Meeting:
        handle = self._client.get_workflow_handle(meeting_workflow_id(number))
        request = MeetingRequest[Any](actor=actor, command=command)
        try:
            result: Meeting = await bounded(
                handle.execute_update(UPDATES[type(command)], request), self._timeout
            )
            return result
        except WorkflowUpdateFailedError as error:
            raise rejection(error) from None
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            if not await workflow_exists(self._client, meeting_workflow_id(number)):
                raise CommandRejected(404, "not_found", f"no meeting {number}") from None
            final = await self._final(number)
            raise CommandRejected(
                409,
                "illegal_transition",
                f"meeting {number} is {final.state.value} and takes no more commands",
                current_state=final.state.value,
                allowed_states=[],
            ) from None

    async def current(self, number: int) -> Meeting | None:
        handle = self._client.get_workflow_handle(meeting_workflow_id(number))
        result: Meeting | None = await handle.query(MeetingWorkflow.current)
        return result

    async def _final(self, number: int) -> Meeting:
        handle = self._client.get_workflow_handle(meeting_workflow_id(number), result_type=Meeting)
        result: Meeting = await final_result(handle)
        return result
