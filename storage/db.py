"""Engine factory: SQLite (WAL, busy timeout, immediate write transactions) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
# An execution option: the connection's transactions only read (see `reader`).
READ_ONLY = "iscflow_read_only"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """Build the engine for `url`, with the SQLite settings that make concurrent writers safe.

    Errors and logs show statements without their parameters: those carry people's text,
    e-mail addresses and signed links, which belong in the database, not in an activity's
    failure (kept in Temporal's history) or a log line.
    """
    if not is_sqlite(url):
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            hide_parameters=True,
        )

    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event open transactions, so they can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A reader waits for no writer under WAL, and makes none wait.
            connection.exec_driver_sql("BEGIN")
            return
        # Take the write lock up front: a deferred transaction that later writes can fail
        # with "database is locked" instead of waiting for the busy timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def reader(engine: Engine) -> Engine:
    """`engine` for transactions that only read: on SQLite they take no write lock.

    A reader holding the write lock makes every writer wait until it ends, and an HTTP
    request may end its transaction only after its response is built, on another thread.
    """
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)
