"""The baseline: bare Temporal doing the same number of workflows, updates and activities.

One workflow per entity, started by update-with-start; every update runs one "record"
activity (synchronous, in the worker's thread pool, as the project's persistence does) under
a lock, then starts its "send" activities in the background (asynchronous, as the project's
SMTP delivery does); the workflow ends once it is closed and every send has finished. All
bodies are trivial, so what remains is the engine's own cost.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from workflows.sandbox import workflow_runner

ACTIVITY_TIMEOUT = timedelta(seconds=30)


class BareInput(BaseModel):
    # Idle benchmark: wait this long, then take one step like a reminder (`timer_sends` sends).
    timer_seconds: float | None = None
    timer_sends: int = 0


class BareStep(BaseModel):
    sends: int = 0
    closes: bool = False


class BareState(BaseModel):
    steps: int = 0
    closed: bool = False


class BareRecord(BaseModel):
    step: int


class BareRecorded(BaseModel):
    step: int
    sends: list[int]


@activity.defn(name="bench_bare_record")
def bare_record(data: BareRecord) -> BareRecorded:
    return BareRecorded(step=data.step, sends=[])


@activity.defn(name="bench_bare_send")
async def bare_send(number: int) -> int:
    return number


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    @workflow.init
    def __init__(self, data: BareInput) -> None:
        self._state = BareState()
        self._lock = asyncio.Lock()
        self._sending = 0

    @workflow.run
    async def run(self, data: BareInput) -> BareState:
        if data.timer_seconds is not None:
            await workflow.sleep(data.timer_seconds)
            await self._take(BareStep(sends=data.timer_sends, closes=True))
        await workflow.wait_condition(
            lambda: self._state.closed and workflow.all_handlers_finished() and self._sending == 0
        )
        return self._state

    @workflow.update
    async def step(self, step: BareStep) -> BareState:
        return await self._take(step)

    async def _take(self, step: BareStep) -> BareState:
        async with self._lock:
            number = self._state.steps + 1
            await workflow.execute_activity(
                bare_record, BareRecord(step=number), start_to_close_timeout=ACTIVITY_TIMEOUT
            )
            self._state = BareState(steps=number, closed=step.closes)
            for send in range(step.sends):
                self._sending += 1
                asyncio.create_task(self._send(send))  # noqa: RUF006 (counted in _sending)
            return self._state

    async def _send(self, number: int) -> None:
        try:
            await workflow.execute_activity(
                bare_send, number, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        finally:
            self._sending -= 1


def build_bare_worker(
    client: Client,
    *,
    task_queue: str,
    executor: ThreadPoolExecutor,
    max_concurrent_activities: int,
    max_cached_workflows: int | None = None,
) -> Worker:
    """The same worker settings as `worker.build_worker`, with the bare workflow."""
    options: dict[str, int] = {}
    if max_cached_workflows is not None:
        options["max_cached_workflows"] = max_cached_workflows
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        workflow_runner=workflow_runner(),
        activities=[bare_record, bare_send],
        activity_executor=executor,
        max_concurrent_activities=max_concurrent_activities,
        **options,  # type: ignore[arg-type]
    )
