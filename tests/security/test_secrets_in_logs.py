"""No secret in the logs: API tokens, signed-link tokens, keys and passwords stay out of them.

The API and the worker run as users run them (`iscflow api`, `iscflow worker`), logging as
they do in production (structlog, JSON lines, uvicorn's access log). A whole issue journey
goes through them over HTTP: raised, discussed, escalated, approved through the chair's
e-mailed action link, decided, closed; the preferences link is opened and a wrong token is
tried. Then every line either process wrote is searched for every secret involved.
(Cookies and web sign-in are the web pages' own: tests/security/test_web_sessions.py.)
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from iscflow.devserver import free_port, port_open
from iscflow.mailsink import MailSink
from iscflow.settings import Settings
from storage.db import session_scope
from storage.models import OutboxRow
from tests.conftest import _migrated
from tests.security.conftest import bearer
from tests.support.people import People
from tests.support.processes import iscflow_executable, start_worker_process

ACTION_LINK = re.compile(r"/actions/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
PREFERENCES_LINK = re.compile(r"/preferences/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
DEADLINE = 120.0  # seconds: generous, for a loaded machine


@pytest.fixture
def secret_env(sqlite_url: str, settings: Settings, mail_sink: MailSink) -> dict[str, str]:
    """What both processes read: fresh secrets, and the test's database, server and queue."""
    return {
        "ISCFLOW_DATABASE_URL": sqlite_url,
        "ISCFLOW_TEMPORAL_ADDRESS": settings.temporal_address,
        "ISCFLOW_TASK_QUEUE": settings.task_queue,
        "ISCFLOW_SECRET_KEY": secrets.token_urlsafe(48),
        "ISCFLOW_AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        # Set, never used for AUTH (the sink offers none): it must not be logged either.
        "ISCFLOW_MAIL__PASSWORD": f"smtp-{secrets.token_urlsafe(24)}",
        "ISCFLOW_MAIL__PORT": str(mail_sink.port),
    }


@pytest.fixture
def api_url(
    secret_env: dict[str, str], tmp_path: Path, engine: Engine, people: People
) -> Iterator[str]:
    """`iscflow api` on a free port, its output (stdout and stderr) kept in api.log."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **secret_env, "ISCFLOW_PUBLIC_URL": url, "ISCFLOW_DATA_DIR": str(tmp_path)}
    with open(tmp_path / "api.log", "wb") as out:
        process = subprocess.Popen(
            [iscflow_executable(), "api", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        for _ in range(int(DEADLINE * 10)):
            if port_open("127.0.0.1", port) or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, (tmp_path / "api.log").read_text()
        yield url
    finally:
        process.terminate()
        process.wait()


@pytest.fixture
def worker_process(
    secret_env: dict[str, str], api_url: str, tmp_path: Path, mail_sink: MailSink
) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker_process(
        temporal_address=secret_env["ISCFLOW_TEMPORAL_ADDRESS"],
        task_queue=secret_env["ISCFLOW_TASK_QUEUE"],
        database_url=secret_env["ISCFLOW_DATABASE_URL"],
        data_dir=tmp_path,
        mail_port=mail_sink.port,
        log=tmp_path / "worker.log",
        extra_env={**secret_env, "ISCFLOW_PUBLIC_URL": api_url},
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait()


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until true, for at most DEADLINE seconds."""
    for _ in range(int(DEADLINE * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _outbox(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow)).all())


def _chair_links(engine: Engine) -> tuple[str, str] | None:
    """The action and preferences link tokens of the chair's approval request, once written."""
    for row in _outbox(engine):
        if row.kind == "escalation_requested" and row.user_id == "chair":
            action = ACTION_LINK.search(row.body_text)
            preferences = PREFERENCES_LINK.search(row.unsubscribe_url)
            assert action is not None and preferences is not None, row.body_text
            return action[1], preferences[1]
    return None


async def test_a_whole_journey_logs_no_token_link_key_or_password(
    api_url: str,
    worker_process: subprocess.Popen[bytes],
    secret_env: dict[str, str],
    engine: Engine,
    people: People,
    tmp_path: Path,
) -> None:
    fp, other, chair = (
        bearer(u.token) for u in (people.fp_access, people.fp_access_d, people.chair)
    )
    wrong_token = f"isc_{secrets.token_urlsafe(32)}"
    async with httpx.AsyncClient(base_url=api_url, timeout=DEADLINE) as http:

        async def ok(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
            response = await http.request(method, path, headers=headers, **kwargs)
            assert response.status_code < 300, f"{method} {path}: {response.text}"
            return response.json() if "json" in response.headers["content-type"] else {}

        issue = await ok(
            "POST", "/api/v1/issues", fp,
            json={"title": "Logged journey", "description": "d", "theme": "accessibility"},
        )  # fmt: skip
        base = f"/api/v1/issues/{issue['id']}"
        await ok("POST", f"{base}/comments", other, json={"body": "agreed"})
        await ok("POST", f"{base}/escalation-request", fp, json={"reason": "needs the chair"})
        await _until(lambda: _chair_links(engine) is not None, "the chair's approval e-mail")
        links = _chair_links(engine)
        assert links is not None
        action, preferences = links
        await ok("GET", f"/actions/{action}", {})
        await ok("POST", f"/actions/{action}", {}, data={"decision": "approve"})
        decided = {"outcome": "resolved", "text": "agreed by the task force"}
        await ok("POST", f"{base}/decision", chair, json=decided)
        await ok("POST", f"{base}/close", chair, json={})
        await ok("GET", f"/preferences/{preferences}", {})
        refused = await http.get("/api/v1/me", headers=bearer(wrong_token))
        assert refused.status_code == 401
        await _until(
            lambda: {r.status for r in _outbox(engine)} == {"sent"}, "every e-mail to go out"
        )
    worker_process.terminate()  # flush both logs before reading them
    worker_process.wait()

    logs = "\n".join(
        (tmp_path / name).read_text(errors="replace") for name in ("api.log", "worker.log")
    )
    # The logs saw the journey: each request, the worker's start (the search is not vacuous).
    assert f"POST {base}/escalation-request" in logs and "worker started" in logs
    assert logs.count("/actions/") >= 2 and "/preferences/" in logs
    found = {
        name: secret
        for name, secret in {
            **{f"API token of {n}": u.token for n, u in people.all().items()},
            "the wrong token tried": wrong_token,
            "action link": action,
            "action link signature": action.split(".")[1],
            "preferences link": preferences,
            "secret key": secret_env["ISCFLOW_SECRET_KEY"],
            "audit signing key": secret_env["ISCFLOW_AUDIT_SIGNING_KEY"],
            "SMTP password": secret_env["ISCFLOW_MAIL__PASSWORD"],
        }.items()
        if secret in logs
    }
    assert found == {}, f"secrets in the logs: {sorted(found)}"


@pytest.fixture
def any_engine(database_url: str) -> Iterator[Engine]:
    yield from _migrated(database_url)


def test_a_failed_statement_carries_no_parameter_values(any_engine: Engine) -> None:
    """A failed activity's error is logged and kept in Temporal's history: it names the
    statement, never the values (bodies, addresses, signed links)."""
    link = (
        f"http://iscflow.test/preferences/{secrets.token_urlsafe(40)}.{secrets.token_urlsafe(32)}"
    )

    def row() -> OutboxRow:
        return OutboxRow(
            idempotency_key="twice", event_key="e", kind="issue_raised", user_id="chair",
            recipient="chair@example.org", subject="s", body_text=f"Approve: {link}",
            body_html="<p>h</p>", unsubscribe_url=link, created_at=datetime.now(UTC),
        )  # fmt: skip

    with pytest.raises(IntegrityError) as raised, session_scope(any_engine) as session:
        session.add(row())
        session.flush()
        session.add(row())
        session.flush()

    assert "INSERT INTO outbox" in str(raised.value)
    assert link not in str(raised.value) and "chair@example.org" not in str(raised.value)
