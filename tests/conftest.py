"""Shared fixtures: a real Temporal dev server, real SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from temporalio.client import Client

from iscflow.devserver import free_port, start_dev_server, stop_dev_server
from iscflow.directory import load_reference_data
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings, Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from storage.migrate import upgrade
from tests.support.people import People, add_people
from worker import build_worker

PG_ADMIN_URL = os.environ.get(
    "ISCFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def temporal_address() -> Iterator[str]:
    """One in-memory dev server for the whole run; tests isolate by task queue and ids."""
    port = free_port()
    process = start_dev_server(port=port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_dev_server(process)


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'iscflow.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"iscflow_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return _sqlite_url(tmp_path)


def _migrated(url: str) -> Iterator[Engine]:
    engine = create_db_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database with the reference data, on both engines."""
    yield from _migrated(database_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    yield from _migrated(sqlite_url)


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) on a free port, keeping what it receives."""
    sink = MailSink(tmp_path / "mail", port=free_port())
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def settings(
    temporal_address: str, task_queue: str, tmp_path: Path, mail_sink: MailSink
) -> Settings:
    return Settings(
        data_dir=tmp_path,
        temporal_address=temporal_address,
        task_queue=task_queue,
        command_timeout_seconds=30,
        public_url="http://iscflow.test",
        mail=MailSettings(port=mail_sink.port, retry_max_seconds=1.0, timeout_seconds=5),
    )


@pytest.fixture
async def client(settings: Settings) -> Client:
    return await connect(settings)


@pytest.fixture
async def worker(client: Client, engine: Engine, settings: Settings) -> AsyncIterator[None]:
    """An in-process worker on this test's own task queue, writing to `engine`."""
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(client, engine=engine, settings=settings, executor=executor):
            yield


@pytest.fixture
def people(engine: Engine) -> People:
    return add_people(engine)


@pytest.fixture
def commands(client: Client, settings: Settings) -> IssueCommands:
    return IssueCommands.from_settings(client, settings)
