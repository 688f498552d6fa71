"""Stopping and restarting the Temporal server mid-run loses nothing and doubles nothing.

The test runs its own dev server, persisted to a SQLite file as in the embedded stack (not the
session's in-memory one), stops it while 40 lifecycles are under way, and starts it again on
the same file and port. Callers see their commands fail while it is away; they check the
issue and send again only what was not applied, as the API's 503 message asks.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from activities.mail import message_id
from iscflow.devserver import free_port, port_open, start_dev_server, stop_dev_server
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import Settings
from iscflow.temporal import connect
from tests.support.lifecycles import (
    LIFECYCLES,
    Lifecycle,
    actual_mails,
    audit_actions,
    drive,
    expected_mails,
    outbox_rows,
    retried_sends,
)
from tests.support.people import People
from worker import build_worker

ISSUES = 40
DOWN_SECONDS = 3.0


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The embedded stack's pairing: a persisted dev server and SQLite."""
    return sqlite_url


class PersistedServer:
    """A dev server on a fixed port and database file, which can be stopped and started."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.db_file = directory / "temporal.db"
        self.log = directory / "temporal.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_dev_server(port=self.port, db_file=self.db_file, log_file=self.log)

    def stop(self) -> int:
        assert self.process is not None
        stop_dev_server(self.process)
        code = self.process.returncode
        self.process = None
        return code


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PersistedServer]:
    persisted = PersistedServer(tmp_path)
    persisted.start()
    try:
        yield persisted
    finally:
        if persisted.process is not None:
            persisted.stop()


@pytest.fixture
def own_settings(settings: Settings, server: PersistedServer) -> Settings:
    return settings.model_copy(
        update={"temporal_address": server.address, "command_timeout_seconds": 20}
    )


@pytest.fixture
async def own_client(own_settings: Settings) -> Client:
    return await connect(own_settings)


@pytest.fixture
async def own_worker(
    own_client: Client, engine: Engine, own_settings: Settings
) -> AsyncIterator[None]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(
            own_client, engine=engine, settings=own_settings, executor=executor
        ):
            yield


@pytest.mark.slow
async def test_temporal_server_restart_mid_run_loses_and_doubles_nothing(
    engine: Engine,
    people: People,
    own_client: Client,
    own_settings: Settings,
    own_worker: None,
    server: PersistedServer,
    mail_sink: MailSink,
    seed: int,
) -> None:
    rng = random.Random(seed)
    commands = IssueCommands.from_settings(own_client, own_settings)
    plan: dict[str, Lifecycle] = {
        str(uuid.uuid4()): LIFECYCLES[n % len(LIFECYCLES)] for n in range(ISSUES)
    }
    total_steps = sum(len(lc.steps) for lc in plan.values())
    done = 0

    def step_done() -> None:
        nonlocal done
        done += 1

    drivers = asyncio.gather(
        *(
            drive(commands, people, i, lc, retry_ambiguous=True, on_step=step_done)
            for i, lc in plan.items()
        )
    )
    stop_at = rng.randrange(total_steps // 4, total_steps // 2)
    while done < stop_at:
        assert not drivers.done(), drivers.exception()
        await asyncio.sleep(0.02)
    stopped_at = done
    exit_code = await asyncio.to_thread(server.stop)
    was_down = not port_open("127.0.0.1", server.port)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(server.start)
    states = await asyncio.wait_for(drivers, timeout=180)
    await asyncio.wait_for(
        asyncio.gather(*(own_client.get_workflow_handle(f"issue-{i}").result() for i in plan)),
        timeout=120,
    )

    assert was_down and exit_code is not None
    assert 0 < stopped_at < total_steps
    assert states == [lc.final for lc in plan.values()]
    assert audit_actions(engine) == {f"issue-{i}": lc.actions for i, lc in plan.items()}
    rows = outbox_rows(engine)
    assert actual_mails(rows) == expected_mails(plan)
    assert {r.status for r in rows} == {"sent"}
    # An activity whose completion was lost with the server runs again and finds its row
    # sent; SMTP sees a row twice only if an attempt's outcome was lost before it was
    # recorded, which its retry shows in the history.
    stored = sorted(str(m["Message-ID"]).strip() for m in mail_sink.messages())
    assert stored == sorted(message_id(r, own_settings.mail) for r in rows)
    retried = await retried_sends(own_client, [f"issue-{i}" for i in plan])
    assert len(rows) <= mail_sink.transactions <= len(rows) + retried
