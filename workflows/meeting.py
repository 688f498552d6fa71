"""MeetingWorkflow: one task-force meeting, from scheduling to its minutes.

Commands are Updates with validators (as for issues). Timers send the agenda a configured
number of working days before the meeting, mark it held when it starts, and remind the
secretariat while the minutes are not recorded. A decision on an issue item is delivered to
the issue's own workflow first; only if the issue accepts it is the meeting's record written.
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
    from activities.meetings import (
        AgendaCandidates,
        DeliverDecisionInput,
        MeetingActivities,
        RecordMeetingEventInput,
        RecordMeetingEventResult,
    )
    from domain.errors import DomainError
    from domain.issues import RecordDecision
    from domain.meetings import (
        AddItem,
        DecideItem,
        ItemKind,
        MarkHeld,
        Meeting,
        MeetingCommand,
        MeetingEvent,
        MeetingPolicy,
        RecordMinutes,
        RemoveItem,
        ReorderItems,
        Reschedule,
        ScheduleMeeting,
        SendAgenda,
        decision_reference,
    )
    from domain.roles import SYSTEM_ACTOR, Actor
    from workflows.errors import not_found, to_application_error

C = TypeVar("C", bound=BaseModel)

PERSIST_TIMEOUT = timedelta(seconds=30)
PERSIST_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)


def meeting_workflow_id(number: int) -> str:
    return f"meeting-{number}"


class MeetingWorkflowInput(BaseModel):
    policy: MeetingPolicy = MeetingPolicy()
    send_retry_max_seconds: float = 300.0
    send_timeout_seconds: float = 70.0


class MeetingRequest(BaseModel, Generic[C]):
    actor: Actor
    command: C


@workflow.defn(name="MeetingWorkflow")
class MeetingWorkflow:
    @workflow.init
    def __init__(self, data: MeetingWorkflowInput) -> None:
        self._config = data
        self._meeting: Meeting | None = None
        self._lock = asyncio.Lock()
        self._sends: set[int] = set()

    @workflow.run
    async def run(self, data: MeetingWorkflowInput) -> Meeting:
        await workflow.wait_condition(lambda: self._meeting is not None)
        while self._meeting is not None and (planned := self._meeting.next_timer()):
            due, command = planned
            version = self._meeting.version
            delay = (due - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(
                        self._changed(version), timeout=timedelta(seconds=delay)
                    )
                    continue
                except TimeoutError:
                    pass
            await self._system(command)
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._sends)
        assert self._meeting is not None
        return self._meeting

    def _changed(self, version: int) -> Callable[[], bool]:
        return lambda: self._meeting is not None and self._meeting.version != version

    async def _system(self, command: MeetingCommand) -> None:
        try:
            if isinstance(command, SendAgenda):
                await self._refresh_agenda()
            await self._execute(SYSTEM_ACTOR, command)
        except ApplicationError as refused:
            workflow.logger.info("timer step not taken: %s", refused.message)

    @workflow.query
    def current(self) -> Meeting | None:
        return self._meeting

    # -- creation -------------------------------------------------------------------------

    @workflow.update
    async def schedule(self, request: MeetingRequest[ScheduleMeeting]) -> Meeting:
        async with self._lock:
            if self._meeting is not None:
                return self._meeting
            try:
                meeting, event = Meeting.schedule(
                    request.command, request.actor, workflow.now(), self._config.policy
                )
            except DomainError as error:
                raise to_application_error(error) from None
            await self._persist(meeting, event)
        await self._refresh_agenda()
        assert self._meeting is not None
        return self._meeting

    @schedule.validator
    def _validate_schedule(self, request: MeetingRequest[ScheduleMeeting]) -> None:
        if meeting_workflow_id(request.command.number) != workflow.info().workflow_id:
            raise not_found("the meeting number does not match this workflow")

    # -- commands -------------------------------------------------------------------------

    @workflow.update
    async def reschedule(self, request: MeetingRequest[Reschedule]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @reschedule.validator
    def _validate_reschedule(self, request: MeetingRequest[Reschedule]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def add_item(self, request: MeetingRequest[AddItem]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @add_item.validator
    def _validate_add_item(self, request: MeetingRequest[AddItem]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def remove_item(self, request: MeetingRequest[RemoveItem]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @remove_item.validator
    def _validate_remove_item(self, request: MeetingRequest[RemoveItem]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def reorder(self, request: MeetingRequest[ReorderItems]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @reorder.validator
    def _validate_reorder(self, request: MeetingRequest[ReorderItems]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def send_agenda(self, request: MeetingRequest[SendAgenda]) -> Meeting:
        await self._refresh_agenda()
        return await self._execute(request.actor, request.command)

    @send_agenda.validator
    def _validate_send_agenda(self, request: MeetingRequest[SendAgenda]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def mark_held(self, request: MeetingRequest[MarkHeld]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @mark_held.validator
    def _validate_mark_held(self, request: MeetingRequest[MarkHeld]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def decide_item(self, request: MeetingRequest[DecideItem]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @decide_item.validator
    def _validate_decide_item(self, request: MeetingRequest[DecideItem]) -> None:
        self._check(request.actor, request.command)

    @workflow.update
    async def record_minutes(self, request: MeetingRequest[RecordMinutes]) -> Meeting:
        return await self._execute(request.actor, request.command)

    @record_minutes.validator
    def _validate_record_minutes(self, request: MeetingRequest[RecordMinutes]) -> None:
        self._check(request.actor, request.command)

    # -- internals ------------------------------------------------------------------------

    def _check(self, actor: Actor, command: MeetingCommand) -> Meeting:
        if self._meeting is None:
            raise not_found("the meeting has not been scheduled")
        try:
            self._meeting.check(command, actor, workflow.now())
        except DomainError as error:
            raise to_application_error(error) from None
        return self._meeting

    async def _execute(self, actor: Actor, command: MeetingCommand) -> Meeting:
        async with self._lock:
            current = self._check(actor, command)
            if isinstance(command, DecideItem):
                await self._deliver(current, actor, command)
            meeting, event = current.handle(command, actor, workflow.now())
            await self._persist(meeting, event)
            return meeting

    async def _deliver(self, meeting: Meeting, actor: Actor, command: DecideItem) -> None:
        """The issue takes the decision first; its refusal becomes the meeting's refusal."""
        item = meeting.item(command.item_id)
        if item is None or item.kind is not ItemKind.ISSUE or item.issue_id is None:
            return
        decision = RecordDecision(
            outcome=command.outcome,
            text=command.text,
            new_deadline=command.new_deadline,
            reference=decision_reference(meeting.number, item.item_id),
        )
        try:
            await workflow.execute_activity_method(
                MeetingActivities.deliver_decision,
                DeliverDecisionInput(issue_id=item.issue_id, actor=actor, decision=decision),
                start_to_close_timeout=PERSIST_TIMEOUT,
                retry_policy=PERSIST_RETRY,
            )
        except ActivityError as failed:
            if isinstance(failed.cause, ApplicationError):
                raise failed.cause from None
            raise

    async def _refresh_agenda(self) -> None:
        """Put on the agenda every issue escalated to this level and awaiting a meeting."""
        if self._meeting is None or self._meeting.state.value != "scheduled":
            return
        candidates: AgendaCandidates = await workflow.execute_activity_method(
            MeetingActivities.issues_for_agenda,
            self._config.policy.level,
            start_to_close_timeout=PERSIST_TIMEOUT,
            retry_policy=PERSIST_RETRY,
        )
        for candidate in candidates.items:
            if self._meeting.issue_item(candidate.issue_id) is None:
                command = AddItem(
                    item_kind=ItemKind.ISSUE, title=candidate.title, issue_id=candidate.issue_id
                )
                try:
                    await self._execute(SYSTEM_ACTOR, command)
                except ApplicationError as refused:
                    workflow.logger.info("agenda item not added: %s", refused.message)

    async def _persist(self, meeting: Meeting, event: MeetingEvent) -> None:
        result: RecordMeetingEventResult = await workflow.execute_activity_method(
            MeetingActivities.record_meeting_event,
            RecordMeetingEventInput(meeting=meeting, event=event),
            start_to_close_timeout=PERSIST_TIMEOUT,
            retry_policy=PERSIST_RETRY,
        )
        self._meeting = meeting
        for outbox_id in result.outbox_ids:
            if outbox_id not in self._sends:
                self._sends.add(outbox_id)
                asyncio.create_task(self._send(outbox_id))  # noqa: RUF006 (tracked in _sends)

    async def _send(self, outbox_id: int) -> None:
        try:
            await workflow.execute_activity_method(
                MailActivities.send_notification,
                outbox_id,
                start_to_close_timeout=timedelta(seconds=self._config.send_timeout_seconds),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    maximum_interval=timedelta(seconds=self._config.send_retry_max_seconds),
                ),
            )
        finally:
            self._sends.discard(outbox_id)
