"""What a benchmark runs against: its own Temporal dev server, database, SMTP sink and cast.

Everything lives under one temporary directory and is stopped (and a PostgreSQL scratch
database dropped) when the benchmark ends, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from temporalio.client import Client

from bench.procstat import CpuMeter
from domain.roles import Role
from iscflow.devserver import free_port, start_dev_server, stop_dev_server
from iscflow.directory import NewUser, add_user, load_reference_data
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings, Settings
from iscflow.temporal import connect
from storage.db import create_db_engine, is_sqlite
from storage.migrate import upgrade

THEME = "accessibility"


class CountingMailSink(MailSink):
    """The project's SMTP sink, with the stored Message-IDs kept in memory.

    `MailSink.receive` scans its folder twice per message, which is fine for a demo and
    quadratic for the tens of thousands of messages a benchmark sends; the benchmark would
    then measure the sink. Messages are stored the same way.
    """

    def __init__(self, directory: Path, *, port: int) -> None:
        super().__init__(directory, port=port)
        self._keys: set[str] = set()

    def receive(self, content: bytes) -> None:
        key = _message_key(content)
        with self._lock:
            self.transactions += 1
            if key not in self._keys:
                self._keys.add(key)
                target = self.directory / f"{len(self._keys):08d}-{key}.eml"
                partial = target.with_suffix(".part")
                partial.write_bytes(content)
                partial.replace(target)

    @property
    def stored(self) -> int:
        """Distinct messages received (retried deliveries of one message count once)."""
        with self._lock:
            return len(self._keys)


def _message_key(content: bytes) -> str:
    """The same key as MailSink's (a hash of the Message-ID), parsing the headers only."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(content)
    return hashlib.sha256(str(headers["Message-ID"]).strip().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Cast:
    """The people a lifecycle needs: two focal points of one theme, the approvers."""

    author: NewUser  # focal point, ITU-T
    colleague: NewUser  # focal point of the same theme, ITU-D
    chair: NewUser
    secretariat: NewUser
    executive: NewUser


def add_cast(engine: Engine) -> Cast:
    now = datetime.now(UTC)

    def user(key: str, role: Role, sector: str | None, *themes: str) -> NewUser:
        return add_user(
            engine,
            name=key.replace("-", " ").title(),
            email=f"{key}@bench.example.org",
            role=role,
            sector=sector,
            themes=themes,
            user_id=key,
            now=now,
            token_label="bench",
        )

    return Cast(
        author=user("bench-fp-t", Role.FOCAL_POINT, "ITU-T", THEME),
        colleague=user("bench-fp-d", Role.FOCAL_POINT, "ITU-D", THEME),
        chair=user("bench-chair", Role.CHAIR, "GS"),
        secretariat=user("bench-secretariat", Role.SECRETARIAT, "GS"),
        executive=user("bench-executive", Role.EXECUTIVE, "GS"),
    )


@dataclass
class Stack:
    root: Path
    settings: Settings
    engine: Engine
    client: Client
    sink: CountingMailSink
    cast: Cast
    server_pid: int

    @property
    def database(self) -> str:
        return "sqlite" if is_sqlite(self.settings.database_url) else "postgresql"

    def for_queue(self, task_queue: str, **changes: object) -> Settings:
        """The stack's settings on another task queue (each phase has its own)."""
        return self.settings.model_copy(update={"task_queue": task_queue, **changes})

    def cpu_meter(self, worker_pid: int) -> CpuMeter:
        """CPU time of the dev server, the worker and this process (driver, SMTP sink)."""
        return CpuMeter(
            {"temporal_server": self.server_pid, "worker": worker_pid, "bench": os.getpid()}
        )


def _create_scratch_database(url: str) -> str:
    """A fresh database on the server of `url`, so runs never see each other's rows."""
    given = make_url(url)
    name = f"{given.database or 'iscflow'}_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


def _drop_scratch_database(admin_url: str, scratch_url: str) -> None:
    name = make_url(scratch_url).database
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _migrated_engine(url: str) -> Engine:
    engine = create_db_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    return engine


@dataclass(frozen=True)
class Scratch:
    root: Path
    url: str
    engine: Engine

    @property
    def database(self) -> str:
        return "sqlite" if is_sqlite(self.url) else "postgresql"


@contextlib.contextmanager
def scratch_database(name: str, *, database_url: str | None = None) -> Iterator[Scratch]:
    """A temporary directory and a migrated database: SQLite in it, or a fresh PostgreSQL
    database on the server of `database_url` (dropped afterwards)."""
    root = Path(tempfile.mkdtemp(prefix=f"iscflow-bench-{name}-"))
    scratch_pg = database_url is not None and not is_sqlite(database_url)
    url = f"sqlite:///{root / 'iscflow.db'}"
    engine: Engine | None = None
    try:
        if database_url is not None and scratch_pg:
            url = _create_scratch_database(database_url)
        engine = _migrated_engine(url)
        yield Scratch(root, url, engine)
    finally:
        if engine is not None:
            engine.dispose()
        if database_url is not None and scratch_pg:
            _drop_scratch_database(database_url, url)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.asynccontextmanager
async def open_stack(name: str, *, database_url: str | None = None) -> AsyncIterator[Stack]:
    """Start a persisted dev server (SQLite with WAL), the database and the SMTP sink."""
    with contextlib.ExitStack() as resources:
        scratch = await asyncio.to_thread(
            resources.enter_context, scratch_database(name, database_url=database_url)
        )
        port = free_port()
        server = await asyncio.to_thread(
            start_dev_server,
            port=port,
            db_file=scratch.root / "temporal" / "temporal.db",
            log_file=scratch.root / "temporal.log",
        )
        resources.callback(stop_dev_server, server)
        cast = await asyncio.to_thread(add_cast, scratch.engine)
        sink = CountingMailSink(scratch.root / "mail", port=free_port())
        sink.start()
        resources.callback(sink.stop)
        settings = Settings(
            data_dir=scratch.root,
            database_url=scratch.url,
            temporal_address=f"127.0.0.1:{port}",
            task_queue=f"bench-{name}",
            public_url="http://iscflow.bench",
            command_timeout_seconds=300,
            mail=MailSettings(port=sink.port, retry_max_seconds=2.0, timeout_seconds=30),
        )
        client = await connect(settings)
        yield Stack(scratch.root, settings, scratch.engine, client, sink, cast, server.pid)
