"""Killing the worker mid-lifecycle loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from temporalio.client import Client

from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
)
from iscflow.issue_commands import IssueCommands
from iscflow.settings import Settings
from storage.models import AuditEventRow, IssueRow
from tests.support.people import People
from tests.support.processes import start_worker_process

ISSUES = 20
EVENTS_PER_ISSUE = 6


async def _lifecycle(commands: IssueCommands, people: People, issue_id: str) -> IssueState:
    fp, chair = people.fp_access.actor, people.chair.actor
    await commands.raise_issue(
        fp,
        RaiseIssue(
            issue_id=issue_id,
            title=f"Issue {issue_id[:8]}",
            description="Driven through its lifecycle while the worker dies.",
            theme="accessibility",
            sector="ITU-T",
        ),
    )
    await commands.send(issue_id, people.fp_access_d.actor, AddComment(body="agreed"))
    await commands.send(issue_id, fp, RequestEscalation(reason="needs the chair"))
    await commands.send(issue_id, chair, ApproveEscalation())
    await commands.send(
        issue_id, chair, RecordDecision(outcome=DecisionOutcome.RESOLVED, text="done")
    )
    closed = await commands.send(issue_id, chair, CloseIssue())
    return closed.state


def _audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEventRow)).one())


@pytest.mark.slow
async def test_killed_worker_loses_and_doubles_nothing(
    engine: Engine,
    people: People,
    client: Client,
    temporal_address: str,
    task_queue: str,
    database_url: str,
    settings: Settings,
    tmp_path: Path,
) -> None:
    commands = IssueCommands.from_settings(
        client, settings.model_copy(update={"command_timeout_seconds": 180})
    )
    log = tmp_path / "worker.log"

    def spawn() -> subprocess.Popen[bytes]:
        return start_worker_process(
            temporal_address=temporal_address,
            task_queue=task_queue,
            database_url=database_url,
            data_dir=tmp_path,
            mail_port=settings.mail.port,
            log=log,
        )

    first = spawn()
    ids = [str(uuid.uuid4()) for _ in range(ISSUES)]
    drivers = asyncio.gather(*(_lifecycle(commands, people, i) for i in ids))

    # Kill the worker once the lifecycles are well under way, but far from finished.
    total = ISSUES * EVENTS_PER_ISSUE
    while _audit_count(engine) < total // 3:  # noqa: ASYNC110 (polls the database, no event)
        await asyncio.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _audit_count(engine)
    second = spawn()
    try:
        states = await asyncio.wait_for(drivers, timeout=240)
    finally:
        second.terminate()
        second.wait()

    assert killed_at < total
    assert states == [IssueState.CLOSED] * ISSUES
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEventRow.stream, func.count(), func.max(AuditEventRow.sequence)).group_by(
                col(AuditEventRow.stream)
            )
        ).all()
        assert sorted(r[0] for r in rows) == sorted(f"issue-{i}" for i in ids)
        assert {(r[1], r[2]) for r in rows} == {(EVENTS_PER_ISSUE, EVENTS_PER_ISSUE)}
        closed = session.exec(
            select(func.count()).select_from(IssueRow).where(IssueRow.state == "closed")
        ).one()
        assert closed == ISSUES
