"""`iscflow bench api`: command latency over HTTP against the same commands as Temporal updates.

20 concurrent clients each drive issues through raise → comment → request escalation →
approve → decision → close. Over HTTP they call the API (uvicorn, in this process) with their
bearer tokens; directly, they send the same updates to the same workflows with the Temporal
client. One worker (its own process) serves both. The two modes alternate round by round, so
a load that comes and goes on the machine weighs on both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import uvicorn
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.app import create_app
from bench.report import emit, latency_summary, machine, progress, ratio
from bench.stack import THEME, Stack, open_stack
from bench.worker_process import WorkerProcess
from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
)
from domain.roles import Actor
from iscflow.devserver import free_port
from iscflow.settings import Settings
from workflows.issue import IssueRequest, IssueWorkflow, IssueWorkflowInput, issue_workflow_id

CLIENTS = 20
DEFAULT_ROUNDS = 10
QUICK_ROUNDS = 2
TARGET_P95_RATIO = 1.5
KEEP_ALIVE_SECONDS = 600
STEPS = ("raise", "comment", "request_escalation", "approve", "decision", "close")

Latencies = dict[str, list[float]]


class Failures:
    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def add(self, message: str) -> None:
        self.count += 1
        self.first = self.first or message


async def _measure(latencies: Latencies, step: str, call: Callable[[], Awaitable[bool]]) -> bool:
    """Time one command; False if it failed (the lifecycle then stops)."""
    started = time.perf_counter()
    ok = await call()
    latencies.setdefault(step, []).append(time.perf_counter() - started)
    return ok


# -- over HTTP --------------------------------------------------------------------------------


async def http_lifecycle(
    http: httpx.AsyncClient, tokens: dict[str, str], latencies: Latencies, failures: Failures
) -> None:
    issue_id = str(uuid.uuid4())
    base = f"/api/v1/issues/{issue_id}"

    def post(path: str, who: str, body: dict[str, Any], expect: int = 200) -> Any:
        async def call() -> bool:
            try:
                response = await http.post(
                    path, json=body, headers={"Authorization": f"Bearer {tokens[who]}"}
                )
            except httpx.TransportError as error:
                failures.add(f"{path}: {error!r}")
                return False
            if response.status_code != expect:
                failures.add(f"{path}: {response.status_code} {response.text[:200]}")
            return response.status_code == expect

        return call

    raise_body = {
        "id": issue_id,
        "title": f"Benchmark issue {issue_id[:8]}",
        "description": "Driven through its lifecycle over HTTP.",
        "theme": THEME,
    }
    steps: list[tuple[str, Callable[[], Awaitable[bool]]]] = [
        ("raise", post("/api/v1/issues", "author", raise_body, 201)),
        ("comment", post(f"{base}/comments", "colleague", {"body": "Agreed, escalate it."})),
        ("request_escalation", post(f"{base}/escalation-request", "author", {"reason": "Chair"})),
        ("approve", post(f"{base}/escalation-request/approve", "chair", {"note": "Agenda"})),
        ("decision", post(f"{base}/decision", "chair", {"outcome": "resolved", "text": "Done"})),
        ("close", post(f"{base}/close", "chair", {})),
    ]
    for step, call in steps:
        if not await _measure(latencies, step, call):
            return


# -- directly as Temporal updates -------------------------------------------------------------


async def direct_lifecycle(
    client: Client,
    settings: Settings,
    actors: dict[str, Actor],
    latencies: Latencies,
    failures: Failures,
) -> None:
    issue_id = str(uuid.uuid4())
    workflow_id = issue_workflow_id(issue_id)
    raise_command = RaiseIssue(
        issue_id=issue_id,
        title=f"Benchmark issue {issue_id[:8]}",
        description="Driven through its lifecycle by Temporal updates.",
        theme=THEME,
        sector="ITU-T",
    )

    async def raise_issue() -> bool:
        start = WithStartWorkflowOperation(
            IssueWorkflow.run,
            IssueWorkflowInput(ladder=settings.ladder, policy=settings.issue_policy),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        issue = await client.execute_update_with_start_workflow(
            IssueWorkflow.raise_issue,
            IssueRequest[RaiseIssue](actor=actors["author"], command=raise_command),
            start_workflow_operation=start,
        )
        return issue.id == issue_id

    handle = client.get_workflow_handle(workflow_id)

    def update(method: Any, who: str, command: Any) -> Callable[[], Awaitable[bool]]:
        async def call() -> bool:
            request = IssueRequest[Any](actor=actors[who], command=command)
            await handle.execute_update(method, request)
            return True

        return call

    steps: list[tuple[str, Callable[[], Awaitable[bool]]]] = [
        ("raise", raise_issue),
        ("comment", update(IssueWorkflow.add_comment, "colleague", AddComment(body="Agreed."))),
        (
            "request_escalation",
            update(IssueWorkflow.request_escalation, "author", RequestEscalation(reason="Chair")),
        ),
        (
            "approve",
            update(IssueWorkflow.approve_escalation, "chair", ApproveEscalation(note="Agenda")),
        ),
        (
            "decision",
            update(
                IssueWorkflow.record_decision,
                "chair",
                RecordDecision(outcome=DecisionOutcome.RESOLVED, text="Done"),
            ),
        ),
        ("close", update(IssueWorkflow.close, "chair", CloseIssue())),
    ]
    for step, call in steps:
        try:
            await _measure(latencies, step, call)
        except Exception as error:  # counted; the lifecycle stops there
            failures.add(f"{step}: {error!r}")
            return


# -- the run ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve_api(stack: Stack, settings: Settings) -> AsyncIterator[str]:
    """The project's API on a free port of this process, as `iscflow api` serves it."""
    app = create_app(settings, engine=stack.engine, client=stack.client)
    port = free_port()
    # Keep-alive outlasts a round of the other mode: clients keep their connections, as a
    # busy client would, instead of racing the server closing an idle one.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _summary(latencies: Latencies) -> dict[str, Any]:
    every = [value for values in latencies.values() for value in values]
    return {
        **latency_summary(every),
        "p95_ms_by_command": {
            step: latency_summary(latencies[step])["p95_ms"] for step in STEPS if step in latencies
        },
    }


async def run(
    *, rounds: int = DEFAULT_ROUNDS, database_url: str | None, clients: int = CLIENTS
) -> dict[str, Any]:
    async with open_stack("api", database_url=database_url) as stack:
        settings = stack.for_queue("bench-api")
        cast = stack.cast
        tokens = {"author": cast.author.token, "colleague": cast.colleague.token}
        tokens["chair"] = cast.chair.token
        actors = {"author": cast.author.actor, "colleague": cast.colleague.actor}
        actors["chair"] = cast.chair.actor
        worker = WorkerProcess("project", settings, directory=stack.root / "workers").start()
        http_latency: Latencies = {}
        direct_latency: Latencies = {}
        http_failures, direct_failures = Failures(), Failures()
        try:
            async with (
                serve_api(stack, settings) as base_url,
                contextlib.AsyncExitStack() as exits,
            ):
                https = [
                    await exits.enter_async_context(
                        httpx.AsyncClient(base_url=base_url, timeout=300)
                    )
                    for _ in range(clients)
                ]
                # Warm up both paths (first workflows on a worker, first requests).
                warm_up = min(5, clients)
                await asyncio.gather(
                    *(http_lifecycle(h, tokens, {}, Failures()) for h in https[:warm_up]),
                    *(
                        direct_lifecycle(stack.client, settings, actors, {}, Failures())
                        for _ in range(warm_up)
                    ),
                )
                progress(f"api: {rounds} rounds of {clients} concurrent lifecycles per mode")
                meter = stack.cpu_meter(worker.pid).start()
                for number in range(rounds):
                    await asyncio.gather(
                        *(
                            direct_lifecycle(
                                stack.client, settings, actors, direct_latency, direct_failures
                            )
                            for _ in range(clients)
                        )
                    )
                    await asyncio.gather(
                        *(http_lifecycle(h, tokens, http_latency, http_failures) for h in https)
                    )
                    if (number + 1) % max(1, rounds // 5) == 0:
                        progress(f"api: round {number + 1}/{rounds}")
                cpu = meter.stop()
        finally:
            worker.stop()
        project = {**_summary(http_latency), "failures": http_failures.count}
        baseline = {**_summary(direct_latency), "failures": direct_failures.count}
        if http_failures.first or direct_failures.first:
            progress(f"api: first failures: {http_failures.first} / {direct_failures.first}")
        figure = ratio(project["p95_ms"], baseline["p95_ms"])
        return {
            "benchmark": "api",
            "database": stack.database,
            "clients": clients,
            "rounds": rounds,
            "lifecycles_per_mode": rounds * clients,
            "unit": "ms per command",
            "project": project,
            "baseline": baseline,
            "ratio": figure,
            "ratio_p50": ratio(project["p50_ms"], baseline["p50_ms"]),
            "ratio_p99": ratio(project["p99_ms"], baseline["p99_ms"]),
            "target": f"p95 ratio <= {TARGET_P95_RATIO}",
            "target_met": figure <= TARGET_P95_RATIO,
            "cpu_seconds_both_modes": cpu,
            "machine": machine(),
        }


def main(*, rounds: int, database_url: str | None) -> None:
    emit(asyncio.run(run(rounds=rounds, database_url=database_url)))
