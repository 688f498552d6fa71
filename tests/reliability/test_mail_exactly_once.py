"""One message per outbox row, even when a worker dies around the SMTP transaction."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.mail import MailActivities, message_id
from domain.issues import RaiseIssue
from iscflow.devserver import free_port
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings, Settings
from storage.models import OutboxRow
from tests.support.people import People
from tests.support.processes import start_worker_process


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    """The fault is injected by holding SQLite's write lock, so these tests use SQLite."""
    yield sqlite_engine


def _raise(issue_id: str) -> RaiseIssue:
    return RaiseIssue(
        issue_id=issue_id, title="Exactly once", description="d", theme="accessibility",
        sector="ITU-T",
    )  # fmt: skip


def _rows(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow).order_by(OutboxRow.id)).all())  # type: ignore[arg-type]


async def test_a_retried_send_of_a_delivered_row_sends_nothing(
    engine: Engine, people: People, commands: IssueCommands, mail_sink: MailSink,
    settings: Settings, worker: None,
) -> None:  # fmt: skip
    await commands.raise_issue(people.fp_access.actor, _raise(str(uuid.uuid4())))
    for _ in range(100):
        if mail_sink.transactions:
            break
        await asyncio.sleep(0.1)
    row = _rows(engine)[0]
    assert row.id is not None and row.status == "sent"

    # The activity retried after a crash that followed its commit: it must not send again.
    result = await ActivityEnvironment().run(
        MailActivities(engine, settings.mail).send_notification, row.id
    )

    assert result.status == "sent"
    assert mail_sink.transactions == 1


@pytest.mark.slow
async def test_worker_killed_between_smtp_acceptance_and_completion_leaves_one_message(
    sqlite_url: str, engine: Engine, people: People, client: Client, settings: Settings,
    temporal_address: str, tmp_path: Path,
) -> None:  # fmt: skip
    database_file = sqlite_url.split("///", 1)[1]
    workers: list[subprocess.Popen[bytes]] = []
    lock_released = threading.Event()

    def hold_database_then_kill(message: EmailMessage) -> None:
        """On the first delivery: block the worker's commit, then kill it, then let go."""
        if sink.transactions != 1:
            return
        blocker = sqlite3.connect(
            database_file, timeout=30, isolation_level=None, check_same_thread=False
        )
        blocker.execute("BEGIN IMMEDIATE")

        def kill_then_release() -> None:
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            blocker.execute("ROLLBACK")
            blocker.close()
            lock_released.set()

        threading.Timer(1.0, kill_then_release).start()

    sink = MailSink(tmp_path / "sink", port=free_port(), on_message=hold_database_then_kill)
    sink.start()
    mail = MailSettings(port=sink.port, timeout_seconds=2, retry_max_seconds=1)
    settings = settings.model_copy(update={"mail": mail})
    commands = IssueCommands.from_settings(client, settings)

    def spawn() -> subprocess.Popen[bytes]:
        return start_worker_process(
            temporal_address=temporal_address, task_queue=settings.task_queue,
            database_url=sqlite_url, data_dir=tmp_path, mail_port=sink.port,
            log=tmp_path / "worker.log", extra_env={"ISCFLOW_MAIL__TIMEOUT_SECONDS": "2"},
        )  # fmt: skip

    workers.append(spawn())
    try:
        # A focal point of another sector is told of the new issue: one outbox row.
        await commands.raise_issue(people.fp_access.actor, _raise(str(uuid.uuid4())))
        for _ in range(300):
            if lock_released.is_set():
                break
            await asyncio.sleep(0.1)
        assert lock_released.is_set(), (tmp_path / "worker.log").read_text()
        workers.append(spawn())
        for _ in range(600):
            if all(r.status == "sent" for r in _rows(engine)):
                break
            await asyncio.sleep(0.1)
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                process.wait()
        sink.stop()

    rows = _rows(engine)
    assert [r.status for r in rows] == ["sent"]
    assert sink.transactions == 2  # delivered twice over SMTP: the first commit never happened
    messages = sink.messages()
    assert [str(m["Message-ID"]).strip() for m in messages] == [message_id(rows[0], mail)]
