"""Record workflow histories for the replay tests: `python -m tests.workflows.record_histories`.

Run it when a workflow gains a new path, and commit the new JSON files next to the old ones:
old histories must keep replaying after every change (use `workflow.patched`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from domain.calendar import BusinessCalendar
from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    SetDeadline,
    WithdrawIssue,
)
from domain.policy import IssuePolicy
from iscflow.devserver import free_port, start_dev_server, stop_dev_server
from iscflow.directory import load_reference_data
from iscflow.issue_commands import CommandRejected, IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings, Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from storage.migrate import upgrade
from tests.support.people import People, add_people
from worker import build_worker
from workflows.issue import issue_workflow_id

HISTORIES = Path(__file__).parent / "histories"

Scenario = Callable[[IssueCommands, People, str], Awaitable[None]]


def _raise(issue_id: str) -> RaiseIssue:
    return RaiseIssue(
        issue_id=issue_id,
        title="Recorded issue",
        description="An issue whose history is kept for replay tests.",
        theme="accessibility",
        sector="ITU-T",
    )


async def full_lifecycle(c: IssueCommands, p: People, iid: str) -> None:
    fp, chair = p.fp_access.actor, p.chair.actor
    await c.raise_issue(fp, _raise(iid))
    await c.raise_issue(fp, _raise(iid))  # a repeated create
    await c.send(iid, p.fp_access_d.actor, AddComment(body="agreed"))
    await c.send(iid, fp, RequestEscalation(reason="budget"))
    await c.send(iid, chair, ReturnEscalation(reason="ask GS"))
    await c.send(iid, fp, RequestEscalation(reason="GS cannot"))
    with contextlib.suppress(CommandRejected):  # refused by the validator: not in history
        await c.send(iid, p.auditor.actor, ApproveEscalation())
    await c.send(iid, chair, ApproveEscalation())
    await c.send(iid, chair, RecordDecision(outcome=DecisionOutcome.RESOLVED, text="fund it"))
    await c.send(iid, p.secretariat.actor, CloseIssue())


async def ladder_to_the_top(c: IssueCommands, p: People, iid: str) -> None:
    fp, chair = p.fp_access.actor, p.chair.actor
    await c.raise_issue(fp, _raise(iid))
    await c.send(iid, fp, RequestEscalation(reason="r"))
    await c.send(iid, chair, ApproveEscalation())
    await c.send(iid, chair, RecordDecision(outcome=DecisionOutcome.DEFERRED, text="next time"))
    await c.send(iid, chair, RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="up"))
    await c.send(iid, p.executive.actor, ApproveEscalation())
    await c.send(
        iid, p.executive.actor, RecordDecision(outcome=DecisionOutcome.REFERRED_BACK, text="back")
    )
    await c.send(iid, fp, ResolveIssue(resolution="settled"))
    await c.send(iid, fp, CloseIssue())


async def withdrawn(c: IssueCommands, p: People, iid: str) -> None:
    await c.raise_issue(p.fp_access.actor, _raise(iid))
    await c.send(iid, p.fp_access.actor, WithdrawIssue(reason="duplicate"))


async def deadline_passed(c: IssueCommands, p: People, iid: str) -> None:
    """Reminders, the automatic escalation request, a moved deadline, approver reminders."""
    chair = p.chair.actor
    issue = await c.raise_issue(p.fp_access.actor, _raise(iid))
    await c.send(iid, p.fp_access_d.actor, AddComment(body="looking"))
    later = issue.created_at + timedelta(seconds=DAY_SECONDS * 6)
    await c.send(iid, chair, SetDeadline(deadline=later))
    while True:  # until the deadline passes and the system requests escalation
        current = await c.current(iid)
        if current is not None and current.state is IssueState.ESCALATION_REQUESTED:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(DAY_SECONDS * 5)  # approver reminders
    await c.send(iid, chair, ApproveEscalation())
    await c.send(iid, chair, RecordDecision(outcome=DecisionOutcome.RESOLVED, text="ok"))
    await c.send(iid, chair, CloseIssue())


SCENARIOS: dict[str, Scenario] = {
    "issue_full_lifecycle": full_lifecycle,
    "issue_ladder_to_the_top": ladder_to_the_top,
    "issue_withdrawn": withdrawn,
    "issue_deadline_passed": deadline_passed,
}

# Compressed working days, so that reminders and deadlines happen while recording.
DAY_SECONDS = 0.3


async def record(version: str) -> None:
    port = free_port()
    server = start_dev_server(port=port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sink = MailSink(Path(tmp) / "mail", port=free_port())
            sink.start()
            settings = Settings(
                data_dir=Path(tmp),
                temporal_address=f"127.0.0.1:{port}",
                task_queue="record",
                mail=MailSettings(port=sink.port),
                issue_policy=IssuePolicy(calendar=BusinessCalendar(day_seconds=DAY_SECONDS)),
            )
            engine = create_db_engine(settings.database_url)
            upgrade(engine)
            load_reference_data(engine)
            people = add_people(engine)
            client = await connect(settings)
            commands = IssueCommands.from_settings(client, settings)
            with ThreadPoolExecutor(16) as pool:
                async with build_worker(client, engine=engine, settings=settings, executor=pool):
                    for name, scenario in SCENARIOS.items():
                        iid = str(uuid.uuid4())
                        await scenario(commands, people, iid)
                        handle = client.get_workflow_handle(issue_workflow_id(iid))
                        await handle.result()
                        history = await handle.fetch_history()
                        path = HISTORIES / f"{name}.{version}.json"
                        path.write_text(history.to_json())
                        print(f"recorded {path.name}")
            engine.dispose()
            sink.stop()
    finally:
        stop_dev_server(server)


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v2"))
