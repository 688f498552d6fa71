"""Record MeetingWorkflow, DigestWorkflow and AuditCheckpointWorkflow histories for replay.

    .venv/bin/python -m tests.workflows.record_meeting_histories v1

Run it when one of these workflows gains a new path, and keep the old files: they must still
replay (guard changes with `workflow.patched`). Issue and recommendation histories have
recorders of their own (record_histories.py, record_recommendation_histories.py).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle

from domain.calendar import BusinessCalendar
from domain.issues import (
    ApproveEscalation,
    DecisionOutcome,
    RaiseIssue,
    RequestEscalation,
)
from domain.meetings import (
    AddItem,
    DecideItem,
    ItemKind,
    MarkHeld,
    MeetingPolicy,
    RecordMinutes,
    Reschedule,
    ScheduleMeeting,
)
from iscflow.devserver import free_port, start_dev_server, stop_dev_server
from iscflow.directory import load_reference_data
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.meeting_commands import MeetingCommands
from iscflow.settings import MailSettings, Settings
from iscflow.temporal import connect
from storage import directory
from storage.db import create_db_engine, session_scope
from storage.migrate import upgrade
from tests.support.people import People, add_people
from worker import build_worker
from workflows.checkpoint import AuditCheckpointWorkflow
from workflows.digest import DigestInput, DigestWorkflow
from workflows.meeting import meeting_workflow_id

HISTORIES = Path(__file__).parent / "histories"
DAY_SECONDS = 0.3  # compressed working days, so that the agenda goes out while recording


async def _escalated(commands: IssueCommands, people: People, title: str) -> str:
    issue_id = str(uuid.uuid4())
    fp = people.fp_access.actor
    await commands.raise_issue(
        fp,
        RaiseIssue(
            issue_id=issue_id, title=title, description="d", theme="accessibility",
            sector="ITU-T",
        ),
    )  # fmt: skip
    await commands.send(issue_id, fp, RequestEscalation(reason="for the task force"))
    await commands.send(issue_id, people.chair.actor, ApproveEscalation())
    return issue_id


async def meeting_full_lifecycle(
    client: Client, commands: IssueCommands, meetings: MeetingCommands, people: People
) -> WorkflowHandle[object, object]:
    """Scheduled with an escalated issue on its agenda, a theme item added, moved; the agenda
    goes out by its timer; held; a decision per item; minutes."""
    await _escalated(commands, people, "Shared captioning contract")
    number = 900_000 + uuid.uuid4().int % 100_000
    secretariat = people.secretariat.actor
    starts = datetime.now(UTC) + timedelta(seconds=DAY_SECONDS * 6)
    await meetings.schedule(
        secretariat,
        ScheduleMeeting(number=number, title=f"ISC-TF meeting {number}", starts_at=starts),
    )
    await meetings.send(
        number,
        secretariat,
        AddItem(item_kind=ItemKind.THEME_UPDATE, title="Accessibility", theme="accessibility"),
    )
    await meetings.send(number, secretariat, Reschedule(starts_at=starts + timedelta(seconds=1)))
    # The agenda goes out by its timer: poll the workflow, which offers no event to wait on.
    while (current := await meetings.current(number)) is None or current.agenda_sent_at is None:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    held = await meetings.send(number, secretariat, MarkHeld())
    for item in held.items:
        await meetings.send(
            number,
            people.chair.actor,
            DecideItem(item_id=item.item_id, outcome=DecisionOutcome.RESOLVED, text="agreed"),
        )
    await meetings.send(number, secretariat, RecordMinutes())
    return client.get_workflow_handle(meeting_workflow_id(number))


async def digest(
    client: Client, commands: IssueCommands, meetings: MeetingCommands, people: People
) -> WorkflowHandle[object, object]:
    """The chair reads mail as a daily digest, and an escalation request waits: one digest."""
    await _escalated(commands, people, "Waiting in a digest")
    handle = await client.start_workflow(
        DigestWorkflow.run,
        DigestInput(send_retry_max_seconds=1),
        id=f"digest-{uuid.uuid4()}",
        task_queue=TASK_QUEUE,
    )
    return handle  # type: ignore[return-value]


async def audit_checkpoint(
    client: Client, commands: IssueCommands, meetings: MeetingCommands, people: People
) -> WorkflowHandle[object, object]:
    handle = await client.start_workflow(
        AuditCheckpointWorkflow.run, id=f"checkpoint-{uuid.uuid4()}", task_queue=TASK_QUEUE
    )
    return handle  # type: ignore[return-value]


SCENARIOS = {
    "meeting_full_lifecycle": meeting_full_lifecycle,
    "digest": digest,
    "audit_checkpoint": audit_checkpoint,
}
TASK_QUEUE = "record"


async def record(version: str) -> None:
    port = free_port()
    server = start_dev_server(port=port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sink = MailSink(Path(tmp) / "mail", port=free_port())
            sink.start()
            calendar = BusinessCalendar(day_seconds=DAY_SECONDS)
            settings = Settings(
                data_dir=Path(tmp),
                temporal_address=f"127.0.0.1:{port}",
                task_queue=TASK_QUEUE,
                mail=MailSettings(port=sink.port, retry_max_seconds=1),
                meeting_policy=MeetingPolicy(
                    agenda_days_before=2, minutes_due_days=2, calendar=calendar
                ),
            )
            engine = create_db_engine(settings.database_url)
            upgrade(engine)
            load_reference_data(engine)
            people = add_people(engine)
            with session_scope(engine) as session:
                directory.set_preferences(session=session, user_id="chair", digest="daily")
            client = await connect(settings)
            commands = IssueCommands.from_settings(client, settings)
            meetings = MeetingCommands.from_settings(client, settings)
            with ThreadPoolExecutor(16) as pool:
                async with build_worker(client, engine=engine, settings=settings, executor=pool):
                    for name, scenario in SCENARIOS.items():
                        handle = await scenario(client, commands, meetings, people)
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
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1"))
