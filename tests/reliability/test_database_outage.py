"""PostgreSQL unreachable for a while: activities retry, and nothing is lost or doubled.

The worker reaches PostgreSQL through a small TCP proxy on loopback. Stopping the proxy
closes its listening socket (new connections are refused) and cuts every open connection,
as a database restart or a network failure would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from temporalio.client import Client

from activities.mail import message_id
from iscflow.devserver import free_port, port_open
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import Settings
from storage.db import create_db_engine
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

ISSUES = 24
OUTAGE_MAX_SECONDS = 20.0


class TcpProxy:
    """Forwards loopback connections to `target`; `stop` refuses new ones and cuts the rest."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()
        self.connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for transport in list(self._transports):
            transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self.connections += 1
        pair = {client_w.transport, server_w.transport}
        self._transports |= pair
        try:
            await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))
        finally:
            for transport in pair:
                transport.abort()
            self._transports -= pair


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """The outage is of PostgreSQL, the production database."""
    return postgres_url


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    url = urlsplit(database_url)
    tcp = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    await tcp.start()
    try:
        yield tcp
    finally:
        if port_open("127.0.0.1", tcp.port):
            await tcp.stop()


def _through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture
def proxied_engine(engine: Engine, database_url: str, proxy: TcpProxy) -> Iterator[Engine]:
    """The production factory's engine (pool_pre_ping on), reaching PostgreSQL via the proxy."""
    proxied = create_db_engine(_through(database_url, proxy))
    try:
        yield proxied
    finally:
        proxied.dispose()


@pytest.fixture
async def proxied_worker(
    client: Client, proxied_engine: Engine, settings: Settings
) -> AsyncIterator[None]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(
            client, engine=proxied_engine, settings=settings, executor=executor
        ):
            yield


async def _failed_attempts(client: Client, issue_ids: list[str]) -> list[str]:
    """Activities now waiting to retry after a failed attempt, with their last failure."""
    failures = []
    for issue_id in issue_ids:
        description = await client.get_workflow_handle(f"issue-{issue_id}").describe()
        for pending in description.raw_description.pending_activities:
            if pending.attempt >= 2:
                failures.append(f"{pending.activity_type.name}: {pending.last_failure.message}")
    return failures


@pytest.mark.slow
async def test_activities_retry_through_a_database_outage_and_lose_nothing(
    engine: Engine,
    people: People,
    client: Client,
    settings: Settings,
    proxy: TcpProxy,
    proxied_worker: None,
    mail_sink: MailSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    commands = IssueCommands.from_settings(
        client, settings.model_copy(update={"command_timeout_seconds": 120})
    )
    plan: dict[str, Lifecycle] = {
        str(uuid.uuid4()): LIFECYCLES[n % len(LIFECYCLES)] for n in range(ISSUES)
    }
    total_steps = sum(len(lc.steps) for lc in plan.values())
    done = 0

    def step_done() -> None:
        nonlocal done
        done += 1

    drivers = asyncio.gather(
        *(drive(commands, people, i, lc, on_step=step_done) for i, lc in plan.items())
    )
    while done < total_steps // 3:
        assert not drivers.done(), drivers.exception()
        await asyncio.sleep(0.02)
    await proxy.stop()
    down_at, stalled_at = time.monotonic(), done
    failures: list[str] = []
    while not failures and time.monotonic() - down_at < OUTAGE_MAX_SECONDS:
        await asyncio.sleep(0.5)
        failures = await _failed_attempts(client, list(plan))
    progress_while_down = done - stalled_at
    await proxy.start()
    states = await asyncio.wait_for(drivers, timeout=120)
    await asyncio.wait_for(
        asyncio.gather(*(client.get_workflow_handle(f"issue-{i}").result() for i in plan)),
        timeout=60,
    )

    # The outage was real: activities failed to reach the database and waited to retry.
    assert failures, "no activity failed while PostgreSQL was unreachable"
    assert done == total_steps and stalled_at < total_steps
    assert states == [lc.final for lc in plan.values()]
    assert audit_actions(engine) == {f"issue-{i}": lc.actions for i, lc in plan.items()}
    rows = outbox_rows(engine)
    assert actual_mails(rows) == expected_mails(plan)
    assert {r.status for r in rows} == {"sent"}
    # A message accepted by SMTP while `sent` could not be written goes again, with the same
    # Message-ID: that attempt failed, and its retry shows in the history.
    stored = sorted(str(m["Message-ID"]).strip() for m in mail_sink.messages())
    assert stored == sorted(message_id(r, settings.mail) for r in rows)
    retried = await retried_sends(client, [f"issue-{i}" for i in plan])
    assert len(rows) <= mail_sink.transactions <= len(rows) + retried
    # The failed attempts were logged, without the statements' parameters (people's text,
    # addresses, signed links in the outbox's bodies and unsubscribe links).
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "OperationalError" in logged
    assert "[parameters:" not in logged and "/preferences/" not in logged
    print(f"failures during the outage: {failures[:3]}; steps while down: {progress_while_down}")


async def test_pooled_connections_cut_by_an_outage_are_replaced_before_use(
    engine: Engine, database_url: str, proxy: TcpProxy
) -> None:
    url = _through(database_url, proxy)
    with_ping = create_db_engine(url)  # the production factory: pool_pre_ping=True
    without_ping = create_engine(url, pool_pre_ping=False)
    try:
        for pooled in (with_ping, without_ping):
            await asyncio.to_thread(_select_one, pooled)  # leaves one connection in the pool
        await proxy.stop()
        await proxy.start()

        # Without pre-ping the pooled connection is handed out dead: the cut was real.
        with pytest.raises(OperationalError):
            await asyncio.to_thread(_select_one, without_ping)
        # With it, the dead connection is noticed and replaced before the query runs.
        assert await asyncio.to_thread(_select_one, with_ping) == 1
    finally:
        with_ping.dispose()
        without_ping.dispose()


def _select_one(pooled: Engine) -> int:
    with pooled.connect() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())
