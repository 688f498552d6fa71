"""Record RecommendationWorkflow histories for the replay tests.

    .venv/bin/python -m tests.workflows.record_recommendation_histories v1

Run it when the workflow gains a new path, and keep the old files: they must still replay
(guard changes with `workflow.patched`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from temporalio.client import Client

from domain.calendar import BusinessCalendar
from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    RecordAcceptance,
    ReportProgress,
    ReturnToInProgress,
    VerifyImplementation,
)
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import Acceptance, Implementation, Priority
from iscflow.devserver import free_port, start_dev_server, stop_dev_server
from iscflow.directory import load_reference_data
from iscflow.issue_commands import CommandRejected
from iscflow.mailsink import MailSink
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.recommendation_settings import RecommendationSettings
from iscflow.settings import MailSettings, Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from storage.migrate import upgrade
from tests.support.people import People, add_people
from tests.support.recommendations import create_command
from worker import build_worker

HISTORIES = Path(__file__).parent / "histories"
DAY_SECONDS = 0.2  # compressed working days, so that reminders happen while recording
CONTINUE_AFTER = 40
EVIDENCE = ("https://www.itu.int/evidence.pdf",)

# Each scenario returns the run ids (oldest first) whose histories it wants kept.
Scenario = Callable[[RecommendationCommands, People, Client], Awaitable[str]]


def _symbol() -> str:
    return f"IA-{uuid.uuid4().hex[:8]}"


def _in_days(days: int) -> date:
    zone = BusinessCalendar().zone
    return datetime.now(zone).date() + timedelta(days=days)


async def full_lifecycle(c: RecommendationCommands, p: People, _: Client) -> str:
    """Acceptance, progress, a claim returned, a claim verified (closes the workflow)."""
    command = create_command(symbol=_symbol(), target_date=_in_days(400))
    rec = await c.create(p.secretariat.actor, command)
    await c.create(p.secretariat.actor, command)  # a repeated create
    owner = p.fp_access.actor
    await c.send(rec.id, p.secretariat.actor, RecordAcceptance(acceptance=Acceptance.ACCEPTED))
    await c.send(rec.id, owner, ReportProgress(percentage=50, narrative="Half."))
    await c.send(rec.id, owner, ClaimImplemented(narrative="Done.", evidence=EVIDENCE))
    with contextlib.suppress(CommandRejected):  # refused by the validator: not in history
        await c.send(rec.id, owner, VerifyImplementation())
    await c.send(rec.id, p.auditor.actor, ReturnToInProgress(reason="Not published."))
    await c.send(rec.id, owner, ClaimImplemented(narrative="Published.", evidence=EVIDENCE))
    await c.send(rec.id, p.auditor.actor, VerifyImplementation(note="Checked."))
    return rec.id


async def reminders_and_escalation(c: RecommendationCommands, p: People, client: Client) -> str:
    """Due reminders, the target passing, the linked issue, overdue reminders, a closure."""
    command = create_command(
        symbol=_symbol(),
        acceptance=Acceptance.ACCEPTED,
        priority=Priority.HIGH,
        target_date=_in_days(8),
    )
    rec = await c.create(p.secretariat.actor, command)
    while True:  # until the linked issue is recorded
        current = await c.current(rec.id)
        if current is not None and current.escalation_issue_id is not None:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(DAY_SECONDS * 6)  # an overdue reminder
    closure = CloseRecommendation(
        outcome=Implementation.NOT_IMPLEMENTED, justification="Budget withdrawn."
    )
    await c.send(rec.id, p.fp_access.actor, closure)
    return rec.id


async def continued_as_new(c: RecommendationCommands, p: People, client: Client) -> str:
    """Enough progress reports to continue as new; then a claim and its verification."""
    command = create_command(
        symbol=_symbol(), acceptance=Acceptance.ACCEPTED, target_date=_in_days(400)
    )
    rec = await c.create(p.secretariat.actor, command)
    owner = p.fp_access.actor
    for percentage in range(5, 100, 10):
        await c.send(rec.id, owner, ReportProgress(percentage=percentage, narrative="More."))
    await c.send(rec.id, owner, ClaimImplemented(narrative="Done.", evidence=EVIDENCE))
    await c.send(rec.id, p.auditor.actor, VerifyImplementation())
    return rec.id


SCENARIOS: dict[str, Scenario] = {
    "recommendation_full_lifecycle": full_lifecycle,
    "recommendation_reminders_and_escalation": reminders_and_escalation,
    "recommendation_continued_as_new": continued_as_new,
}


async def _save_runs(client: Client, workflow_id: str, name: str, version: str) -> None:
    """Every run of the workflow, oldest first: `<name>.<version>.json`, then `.run2` …"""
    runs = [
        execution.run_id
        async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'")
    ]
    await client.get_workflow_handle(workflow_id).result()
    for position, run_id in enumerate(reversed(runs), start=1):
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        suffix = "" if position == 1 else f".run{position}"
        path = HISTORIES / f"{name}{suffix}.{version}.json"
        path.write_text(history.to_json())
        print(f"recorded {path.name}")


async def record(version: str) -> None:
    port = free_port()
    server = start_dev_server(port=port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sink = MailSink(Path(tmp) / "mail", port=free_port())
            sink.start()
            policy = RecommendationPolicy(calendar=BusinessCalendar(day_seconds=DAY_SECONDS))
            settings = Settings(
                data_dir=Path(tmp),
                temporal_address=f"127.0.0.1:{port}",
                task_queue="record",
                mail=MailSettings(port=sink.port),
                recommendations=RecommendationSettings(
                    policy=policy, continue_as_new_after=CONTINUE_AFTER
                ),
            )
            engine = create_db_engine(settings.database_url)
            upgrade(engine)
            load_reference_data(engine)
            people = add_people(engine)
            client = await connect(settings)
            commands = RecommendationCommands.from_settings(client, settings)
            with ThreadPoolExecutor(16) as pool:
                async with build_worker(client, engine=engine, settings=settings, executor=pool):
                    for name, scenario in SCENARIOS.items():
                        workflow_id = await scenario(commands, people, client)
                        await _save_runs(client, workflow_id, name, version)
            engine.dispose()
            sink.stop()
    finally:
        stop_dev_server(server)


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1"))
