"""`iscflow bench lifecycle`: full issue lifecycles per second against bare Temporal.

Each lifecycle is raise → comment → request escalation → approve → decision → close, sent
through `IssueCommands` to a worker built by `worker.build_worker` in its own process, with
every e-mail delivered to a real SMTP server. The baseline runs the bare workflow of
`bench.bare` on the same dev server with the same worker settings: as many workflows,
updates and activities, with trivial bodies.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, func, select
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from bench.bare import BareInput, BareStep, BareWorkflow
from bench.report import emit, machine, progress, ratio
from bench.stack import THEME, Cast, Stack, open_stack
from bench.worker_process import WorkerProcess
from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    Issue,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
)
from iscflow.issue_commands import IssueCommands
from storage.models import AuditEventRow, IssueRow, OutboxRow
from workflows.issue import issue_workflow_id

DEFAULT_SIZE = 500
QUICK_SIZE = 30
DEFAULT_CONCURRENCY = 32
WARM_UP = 5
TARGET_RATIO = 0.75

# The e-mails each step causes with the bench's cast (the actor is never notified):
# raised → the other focal point; escalation requested → the chair; approved and decided →
# both focal points. The baseline sends as many.
SENDS_PER_STEP = (1, 0, 1, 2, 2, 0)
STEPS = len(SENDS_PER_STEP)
MAILS_PER_LIFECYCLE = sum(SENDS_PER_STEP)


class LifecycleRun(BaseModel):
    lifecycles: int
    seconds: float
    lifecycles_per_second: float
    updates: int
    activities: int
    # CPU time each process used during the timed part: what the run was limited by.
    cpu_seconds: dict[str, float]


async def _timed(
    count: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, int]:
    """Run `one(i)` for i < count, at most `concurrency` at a time; wall time and count."""
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def bounded(i: int) -> None:
        nonlocal done
        async with gate:
            await one(i)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(bounded(i) for i in range(count)))
    return time.perf_counter() - started, done


# -- the project ------------------------------------------------------------------------------


async def project_lifecycle(commands: IssueCommands, client: Client, cast: Cast) -> IssueState:
    """One issue through its whole life; returns its final state once its workflow ended."""
    issue_id = str(uuid.uuid4())
    author, chair = cast.author.actor, cast.chair.actor
    await commands.raise_issue(
        author,
        RaiseIssue(
            issue_id=issue_id,
            title=f"Benchmark issue {issue_id[:8]}",
            description="Driven through its whole lifecycle by the benchmark.",
            theme=THEME,
            sector="ITU-T",
        ),
    )
    await commands.send(issue_id, cast.colleague.actor, AddComment(body="Agreed, escalate it."))
    await commands.send(issue_id, author, RequestEscalation(reason="Needs the task force."))
    await commands.send(issue_id, chair, ApproveEscalation(note="On the next agenda."))
    await commands.send(
        issue_id, chair, RecordDecision(outcome=DecisionOutcome.RESOLVED, text="Decided.")
    )
    await commands.send(issue_id, chair, CloseIssue())
    # The workflow ends once its last e-mail is delivered.
    handle = client.get_workflow_handle(issue_workflow_id(issue_id), result_type=Issue)
    final: Issue = await handle.result()
    return final.state


async def run_project(
    stack: Stack, size: int, concurrency: int, warm_up: int = WARM_UP
) -> dict[str, Any]:
    settings = stack.for_queue("bench-lifecycle-project")
    commands = IssueCommands.from_settings(stack.client, settings)
    worker = WorkerProcess("project", settings, directory=stack.root / "workers").start()
    states: list[IssueState] = []

    async def one(_: int) -> None:
        states.append(await project_lifecycle(commands, stack.client, stack.cast))

    try:
        await _timed(warm_up, warm_up, one)
        states.clear()
        meter = stack.cpu_meter(worker.pid).start()
        seconds, done = await _timed(size, concurrency, one)
        cpu = meter.stop()
    finally:
        worker.stop()
    counts = _project_counts(stack)
    mails = counts["mails_sent"]
    closed = sum(1 for s in states if s is IssueState.CLOSED)
    run = LifecycleRun(
        lifecycles=closed,
        seconds=round(seconds, 3),
        lifecycles_per_second=round(closed / seconds, 2),
        updates=closed * STEPS,
        activities=closed * STEPS + closed * MAILS_PER_LIFECYCLE,
        cpu_seconds=cpu,
    )
    total = size + warm_up
    return {
        **run.model_dump(),
        "lifecycles_started": done,
        "audit_rows": counts["audit_rows"] - warm_up * STEPS,
        "issues_closed": counts["issues_closed"] - warm_up,
        "mails_sent": mails - warm_up * MAILS_PER_LIFECYCLE,
        "mails_received": stack.sink.stored - warm_up * MAILS_PER_LIFECYCLE,
        "all_mails_delivered": mails == total * MAILS_PER_LIFECYCLE
        and stack.sink.stored == total * MAILS_PER_LIFECYCLE,
    }


def _project_counts(stack: Stack) -> dict[str, int]:
    with Session(stack.engine) as session:
        audit_rows = session.exec(select(func.count()).select_from(AuditEventRow)).one()
        closed = session.exec(
            select(func.count()).select_from(IssueRow).where(IssueRow.state == "closed")
        ).one()
        sent = session.exec(
            select(func.count()).select_from(OutboxRow).where(col(OutboxRow.sent_at).is_not(None))
        ).one()
    return {"audit_rows": int(audit_rows), "issues_closed": int(closed), "mails_sent": int(sent)}


# -- the baseline -----------------------------------------------------------------------------


async def bare_lifecycle(client: Client, task_queue: str) -> bool:
    """The same shape on bare Temporal: update-with-start, five updates, the sends."""
    workflow_id = f"bench-bare-{uuid.uuid4()}"
    start = WithStartWorkflowOperation(
        BareWorkflow.run,
        BareInput(),
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    await client.execute_update_with_start_workflow(
        BareWorkflow.step, BareStep(sends=SENDS_PER_STEP[0]), start_workflow_operation=start
    )
    handle = await start.workflow_handle()
    for position, sends in enumerate(SENDS_PER_STEP[1:], start=2):
        await handle.execute_update(
            BareWorkflow.step, BareStep(sends=sends, closes=position == STEPS)
        )
    final = await handle.result()
    return final.closed


async def run_baseline(
    stack: Stack, size: int, concurrency: int, warm_up: int = WARM_UP
) -> dict[str, Any]:
    settings = stack.for_queue("bench-lifecycle-bare")
    worker = WorkerProcess("bare", settings, directory=stack.root / "workers").start()
    closed: list[bool] = []

    async def one(_: int) -> None:
        closed.append(await bare_lifecycle(stack.client, settings.task_queue))

    try:
        await _timed(warm_up, warm_up, one)
        closed.clear()
        meter = stack.cpu_meter(worker.pid).start()
        seconds, _ = await _timed(size, concurrency, one)
        cpu = meter.stop()
    finally:
        worker.stop()
    done = sum(closed)
    return LifecycleRun(
        lifecycles=done,
        seconds=round(seconds, 3),
        lifecycles_per_second=round(done / seconds, 2),
        updates=done * STEPS,
        activities=done * STEPS + done * MAILS_PER_LIFECYCLE,
        cpu_seconds=cpu,
    ).model_dump()


async def run(
    *,
    size: int = DEFAULT_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    database_url: str | None,
    warm_up: int = WARM_UP,
) -> dict[str, Any]:
    """Both runs on one stack; returns the result that `iscflow bench lifecycle` prints."""
    async with open_stack("lifecycle", database_url=database_url) as stack:
        progress(f"lifecycle: baseline, {size} bare workflows, {concurrency} at a time")
        baseline = await run_baseline(stack, size, concurrency, warm_up)
        progress(f"lifecycle: baseline {baseline['lifecycles_per_second']}/s; now the project")
        project = await run_project(stack, size, concurrency, warm_up)
        progress(f"lifecycle: project {project['lifecycles_per_second']}/s")
        figure = ratio(project["lifecycles_per_second"], baseline["lifecycles_per_second"])
        return {
            "benchmark": "lifecycle",
            "database": stack.database,
            "size": size,
            "concurrency": concurrency,
            "unit": "lifecycles/s",
            "project": project,
            "baseline": baseline,
            "ratio": figure,
            "target": f"ratio >= {TARGET_RATIO}",
            "target_met": figure >= TARGET_RATIO,
            "machine": machine(),
        }


def main(*, size: int, concurrency: int, database_url: str | None) -> None:
    emit(asyncio.run(run(size=size, concurrency=concurrency, database_url=database_url)))
