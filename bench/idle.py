"""`iscflow bench idle`: N open issues waiting on reminder timers, then every reminder delivered.

The issues use a compressed business calendar, one per issue, aimed so that every reminder
timer falls due at one moment just after the last issue is raised (the calibration run
tells how long raising takes). A worker with a small workflow cache (its own process) raises
them; its memory is read once every issue waits. A worker with the default cache (1,000)
replaces it and takes the burst of timers: each reminder is recorded (ReminderSent audit
row) and mailed to the theme's two focal points; its peak memory is read at the end. The
baseline does the same with bare workflows: update-with-start and one send, a timer, then
one record and two sends.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from bench.bare import BareInput, BareStep, BareWorkflow
from bench.procstat import mib
from bench.report import emit, machine, progress, ratio
from bench.stack import THEME, Stack, open_stack
from bench.worker_process import WorkerProcess
from domain.calendar import BusinessCalendar
from domain.issues import RaiseIssue, WithdrawIssue
from domain.policy import IssuePolicy
from iscflow.issue_commands import IssueCommands
from iscflow.settings import Settings
from storage.models import AuditEventRow, OutboxRow

DEFAULT_SIZE = 10_000
QUICK_SIZE = 300
DEFAULT_CONCURRENCY = 32
SMALL_CACHE = 100
CALIBRATION_WARM_UP = 20  # not timed: the worker's first workflows are slower
CALIBRATION = 80
# Raising is planned to take this much longer than the calibration predicts, plus the time
# to swap the workers.
SLACK_FACTOR = 1.3
SLACK_SECONDS = 15.0
# The one reminder goes out one (compressed) day after raising; the deadline is a year away.
DISCUSSION_DAYS = 365
REMINDER_DAYS_BEFORE = 364
REMINDER_MAILS = 2  # the theme's two focal points
RSS_TARGET_BYTES = 2**30
POLL_SECONDS = 1.0  # each poll is a short read transaction on the same database


class Aim:
    """Timers that fall due at one moment: each issue's delay is what remains until then."""

    def __init__(self, fire_at: float) -> None:
        self.fire_at = fire_at
        self.late = 0

    @property
    def left(self) -> float:
        return self.fire_at - time.monotonic()

    def delay(self) -> float:
        remaining = self.fire_at - time.monotonic()
        if remaining < 1.0:
            self.late += 1
            return 1.0
        return remaining


@dataclass(frozen=True)
class Plan:
    """How the timers are aimed: a calibration run, then slack on top of its prediction."""

    calibration: int = CALIBRATION
    slack_factor: float = SLACK_FACTOR
    slack_seconds: float = SLACK_SECONDS
    warm_up: int = CALIBRATION_WARM_UP

    @property
    def extra(self) -> int:
        """Issues or workflows the calibration adds to the run."""
        return self.warm_up + self.calibration

    def aim(self, size: int, calibration_seconds: float) -> Aim:
        predicted = size * calibration_seconds / self.calibration
        return Aim(time.monotonic() + predicted * self.slack_factor + self.slack_seconds)


async def _run_all(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def bounded(i: int) -> None:
        async with gate:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(bounded(i) for i in range(count)))
    return time.perf_counter() - started


async def _wait_for(
    done: Callable[[], Awaitable[bool]], limit: float, worker: WorkerProcess
) -> tuple[bool, int]:
    """Poll until `done` (for `limit` seconds at most); whether it happened, and the worker's
    peak RSS meanwhile."""
    deadline = time.monotonic() + limit
    while not await done():
        if time.monotonic() > deadline:
            return False, worker.memory().peak_rss_bytes
        await asyncio.sleep(POLL_SECONDS)
    return True, worker.memory().peak_rss_bytes


def _memory_figures(prefix: str, worker: WorkerProcess) -> dict[str, float]:
    memory = worker.memory()
    return {
        f"{prefix}_rss_mib": mib(memory.rss_bytes),
        f"{prefix}_peak_rss_mib": mib(memory.peak_rss_bytes),
    }


# -- the project ------------------------------------------------------------------------------


def _commands(stack: Stack, settings: Settings, day_seconds: float) -> IssueCommands:
    policy = IssuePolicy(
        discussion_days=DISCUSSION_DAYS,
        reminder_days_before=(REMINDER_DAYS_BEFORE,),
        calendar=BusinessCalendar(day_seconds=day_seconds),
    )
    return IssueCommands.from_settings(
        stack.client, settings.model_copy(update={"issue_policy": policy})
    )


async def _raise(commands: IssueCommands, stack: Stack) -> str:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(
        stack.cast.author.actor,
        RaiseIssue(
            issue_id=issue_id,
            title=f"Idle issue {issue_id[:8]}",
            description="Waits for its reminder.",
            theme=THEME,
            sector="ITU-T",
        ),
    )
    return issue_id


def _delivered(stack: Stack) -> tuple[int, int, int]:
    """ReminderSent audit rows, distinct issues reminded, reminder mails sent."""
    with Session(stack.engine) as session:
        reminders = session.exec(
            select(func.count(), func.count(func.distinct(AuditEventRow.stream))).where(
                AuditEventRow.action == "ReminderSent"
            )
        ).one()
        mails = session.exec(
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.kind == "discussion_reminder", col(OutboxRow.sent_at).is_not(None))
        ).one()
    return int(reminders[0]), int(reminders[1]), int(mails)


def _mails_sent(stack: Stack) -> int:
    with Session(stack.engine) as session:
        sent = session.exec(
            select(func.count()).select_from(OutboxRow).where(col(OutboxRow.sent_at).is_not(None))
        ).one()
    return int(sent)


async def run_project(stack: Stack, size: int, concurrency: int, plan: Plan) -> dict[str, Any]:
    settings = stack.for_queue("bench-idle-project")
    workers = stack.root / "workers"
    first = WorkerProcess(
        "project", settings, directory=workers, max_cached_workflows=SMALL_CACHE
    ).start()
    try:
        # Calibration: how fast issues are raised here (then withdrawn: no timer remains).
        far = _commands(stack, settings, day_seconds=3600.0)
        calibration_ids: list[str] = []

        async def calibrate(_: int) -> None:
            calibration_ids.append(await _raise(far, stack))

        await _run_all(plan.warm_up, concurrency, calibrate)
        seconds = await _run_all(plan.calibration, concurrency, calibrate)
        author = stack.cast.author.actor
        await asyncio.gather(
            *(far.send(i, author, WithdrawIssue(reason="calibration")) for i in calibration_ids)
        )
        aim = plan.aim(size, seconds)
        progress(f"idle: raising {size} issues; their reminders fall due in {aim.left:.0f} s")

        async def one(_: int) -> None:
            await _raise(_commands(stack, settings, aim.delay()), stack)

        meter = stack.cpu_meter(first.pid).start()
        raise_seconds = await _run_all(size, concurrency, one)
        raise_cpu = meter.stop()
        expected_sent = size + plan.extra
        ready, _ = await _wait_for(
            lambda: asyncio.to_thread(lambda: _mails_sent(stack) >= expected_sent), 120, first
        )
        idle = _memory_figures("small_cache_idle", first)
        progress(f"idle: {size} raised in {raise_seconds:.0f} s; worker {idle}")
    finally:
        first.stop()
    second = WorkerProcess("project", settings, directory=workers).start()
    try:
        await asyncio.sleep(max(0.0, aim.fire_at - time.monotonic()))
        fire_started = time.perf_counter()
        meter = stack.cpu_meter(second.pid).start()
        expected = (size, size, size * REMINDER_MAILS)
        progress(f"idle: timers due; waiting for {size} reminders")
        delivered, _ = await _wait_for(
            lambda: asyncio.to_thread(lambda: _delivered(stack) == expected),
            max(600.0, size / 2),
            second,
        )
        delivery_seconds = time.perf_counter() - fire_started
        delivery_cpu = meter.stop()
        busy = _memory_figures("default_cache_delivery", second)
    finally:
        second.stop()
    reminders, reminded, mails = _delivered(stack)
    peak = max(idle["small_cache_idle_peak_rss_mib"], busy["default_cache_delivery_peak_rss_mib"])
    return {
        "open_issues": size,
        "raise_seconds": round(raise_seconds, 2),
        "raised_per_second": round(size / raise_seconds, 2),
        "raised_after_timers_due": aim.late,
        "all_raise_mails_sent": ready,
        **idle,
        **busy,
        "peak_rss_mib": peak,
        "small_cache": SMALL_CACHE,
        "reminders_recorded": reminders,
        "issues_reminded": reminded,
        "reminder_mails_sent": mails,
        "mails_received_by_sink": stack.sink.stored,
        "all_delivered": delivered and (reminders, reminded, mails) == expected,
        "delivery_seconds": round(delivery_seconds, 2),
        "reminders_per_second": round(reminders / delivery_seconds, 2),
        "cpu_seconds_raising": raise_cpu,
        "cpu_seconds_delivering": delivery_cpu,
    }


# -- the baseline -----------------------------------------------------------------------------


async def _start_bare(client: Client, task_queue: str, timer_seconds: float) -> None:
    start = WithStartWorkflowOperation(
        BareWorkflow.run,
        BareInput(timer_seconds=timer_seconds, timer_sends=REMINDER_MAILS),
        id=f"bench-idle-{uuid.uuid4()}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    await client.execute_update_with_start_workflow(
        BareWorkflow.step, BareStep(sends=1), start_workflow_operation=start
    )


async def _completed(client: Client, task_queue: str) -> int:
    query = f'TaskQueue="{task_queue}" AND ExecutionStatus="Completed"'
    return (await client.count_workflows(query)).count


async def run_baseline(stack: Stack, size: int, concurrency: int, plan: Plan) -> dict[str, Any]:
    settings = stack.for_queue("bench-idle-bare")
    queue = settings.task_queue
    workers = stack.root / "workers"
    first = WorkerProcess(
        "bare", settings, directory=workers, max_cached_workflows=SMALL_CACHE
    ).start()
    try:
        await _run_all(plan.warm_up, concurrency, lambda _: _start_bare(stack.client, queue, 0.001))
        seconds = await _run_all(
            plan.calibration, concurrency, lambda _: _start_bare(stack.client, queue, 0.001)
        )
        # Completed calibration workflows are counted apart from the measured ones.
        calibrated, _ = await _wait_for(
            lambda: _count_is(stack.client, queue, plan.extra), 60, first
        )
        aim = plan.aim(size, seconds)
        progress(f"idle: baseline, {size} bare workflows; timers due in {aim.left:.0f} s")
        start_seconds = await _run_all(
            size, concurrency, lambda _: _start_bare(stack.client, queue, aim.delay())
        )
        await asyncio.sleep(2.0)  # let the last sends finish
        idle = _memory_figures("small_cache_idle", first)
    finally:
        first.stop()
    second = WorkerProcess("bare", settings, directory=workers).start()
    try:
        await asyncio.sleep(max(0.0, aim.fire_at - time.monotonic()))
        fire_started = time.perf_counter()
        delivered, _ = await _wait_for(
            lambda: _count_is(stack.client, queue, size + plan.extra),
            max(600.0, size / 2),
            second,
        )
        delivery_seconds = time.perf_counter() - fire_started
        busy = _memory_figures("default_cache_delivery", second)
    finally:
        second.stop()
    done = await _completed(stack.client, queue) - plan.extra
    return {
        "open_workflows": size,
        "start_seconds": round(start_seconds, 2),
        "started_per_second": round(size / start_seconds, 2),
        "calibrated": calibrated,
        **idle,
        **busy,
        "reminders_delivered": done,
        "all_delivered": delivered,
        "delivery_seconds": round(delivery_seconds, 2),
        "reminders_per_second": round(done / delivery_seconds, 2),
    }


async def _count_is(client: Client, task_queue: str, expected: int) -> bool:
    return await _completed(client, task_queue) >= expected


async def run(
    *,
    size: int = DEFAULT_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    database_url: str | None,
    plan: Plan | None = None,
) -> dict[str, Any]:
    plan = plan or Plan()
    async with open_stack("idle", database_url=database_url) as stack:
        baseline = await run_baseline(stack, size, concurrency, plan)
        progress(f"idle: baseline delivered {baseline['reminders_per_second']}/s; the project")
        project = await run_project(stack, size, concurrency, plan)
        progress(f"idle: project delivered {project['reminders_per_second']}/s")
        peak = project["peak_rss_mib"]
        return {
            "benchmark": "idle",
            "database": stack.database,
            "size": size,
            "unit": "reminders/s; MiB",
            "project": project,
            "baseline": baseline,
            "ratio": ratio(project["reminders_per_second"], baseline["reminders_per_second"]),
            "rss_ratio": ratio(
                project["default_cache_delivery_peak_rss_mib"],
                baseline["default_cache_delivery_peak_rss_mib"],
            ),
            "target": "worker peak RSS <= 1024 MiB, every reminder delivered",
            "target_met": peak * 2**20 <= RSS_TARGET_BYTES and project["all_delivered"],
            "machine": machine(),
        }


def main(*, size: int, concurrency: int, database_url: str | None) -> None:
    emit(asyncio.run(run(size=size, concurrency=concurrency, database_url=database_url)))
