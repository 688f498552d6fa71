"""Horizontal scaling is real: two worker processes and the API drive 100 lifecycles together.

One Temporal dev server, one PostgreSQL database, two `iscflow worker` processes on one task
queue and the API (in process, over ASGI), configured as the distributed deployment is: shared
secrets from the environment. One worker is SIGKILLed midway and not replaced; the survivor
finishes every lifecycle, and nothing is lost or doubled: audit rows, read model or e-mail.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.mail import message_id
from api.app import create_app
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings, Settings
from storage.models import AuditEventRow, IssueRow, OutboxRow
from tests.support.people import People
from tests.support.processes import start_worker_process

ISSUES = 100
LIFECYCLE = [
    "IssueRaised",
    "EscalationRequested",
    "EscalationApproved",
    "DecisionRecorded",
    "IssueClosed",
]
# The killed worker may have had this many SMTP deliveries accepted but not yet recorded;
# those are sent again with the same Message-ID, which the receiving side collapses.
ACTIVITY_SLOTS = 16


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """The distributed deployment's database: PostgreSQL only."""
    return postgres_url


@pytest.fixture
def shared_secrets() -> dict[str, str]:
    """What the deployment sets once for every process (docs/deploy.md)."""
    return {
        "ISCFLOW_SECRET_KEY": secrets.token_urlsafe(48),
        "ISCFLOW_AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


@pytest.fixture
def message_ids(mail_sink: MailSink) -> Counter[str]:
    """Every delivery of every Message-ID at the SMTP sink, duplicates included."""
    received: Counter[str] = Counter()

    def count(message: EmailMessage) -> None:
        received[str(message["Message-ID"]).strip()] += 1

    mail_sink.on_message = count
    return received


@pytest.fixture
def scaled_settings(
    settings: Settings, mail_sink: MailSink, shared_secrets: dict[str, str], database_url: str
) -> Settings:
    return settings.model_copy(
        update={
            "database_url": database_url,
            "command_timeout_seconds": 120,
            "mail": MailSettings(port=mail_sink.port, retry_max_seconds=1.0, timeout_seconds=5),
            "secret_key": shared_secrets["ISCFLOW_SECRET_KEY"],
            "audit_signing_key": shared_secrets["ISCFLOW_AUDIT_SIGNING_KEY"],
        }
    )


@pytest.fixture
async def api(
    scaled_settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(scaled_settings, engine=engine, client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://iscflow.test", timeout=180
        ) as http:
            yield http


async def _lifecycle(api: httpx.AsyncClient, people: People, issue_id: str) -> str:
    fp = {"Authorization": f"Bearer {people.fp_access.token}"}
    chair = {"Authorization": f"Bearer {people.chair.token}"}
    base = f"/api/v1/issues/{issue_id}"
    steps = [
        (
            "/api/v1/issues",
            fp,
            {
                "id": issue_id,
                "title": f"Scaled issue {issue_id[:8]}",
                "description": "Driven through its lifecycle while a worker dies.",
                "theme": "accessibility",
            },
        ),
        (f"{base}/escalation-request", fp, {"reason": "needs the task force"}),
        (f"{base}/escalation-request/approve", chair, {}),
        (f"{base}/decision", chair, {"outcome": "resolved", "text": "agreed"}),
        (f"{base}/close", chair, {}),
    ]
    state = ""
    for path, headers, body in steps:
        response = await api.post(path, json=body, headers=headers)
        assert response.status_code in {200, 201}, f"{path}: {response.text}"
        state = response.json()["state"]
    return state


def _audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(AuditEventRow)).one())


def _outbox(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow)).all())


async def _worker_pids(client: Client, issue_ids: list[str]) -> set[int]:
    """The processes that ran the issues' workflow tasks, from Temporal's own history."""
    pids: set[int] = set()
    for issue_id in issue_ids:
        history = await client.get_workflow_handle(f"issue-{issue_id}").fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                identity = event.workflow_task_started_event_attributes.identity
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                identity = event.activity_task_started_event_attributes.identity
            else:
                continue
            if identity:  # the SDK's default worker identity is "<pid>@<host>"
                pids.add(int(identity.split("@", 1)[0]))
    return pids


@pytest.mark.slow
async def test_two_workers_share_the_load_and_a_killed_one_loses_and_doubles_nothing(
    api: httpx.AsyncClient,
    engine: Engine,
    people: People,
    client: Client,
    scaled_settings: Settings,
    shared_secrets: dict[str, str],
    mail_sink: MailSink,
    message_ids: Counter[str],
    tmp_path: Path,
) -> None:
    def spawn(name: str) -> subprocess.Popen[bytes]:
        return start_worker_process(
            temporal_address=scaled_settings.temporal_address,
            task_queue=scaled_settings.task_queue,
            database_url=scaled_settings.database_url,
            data_dir=tmp_path / name,
            mail_port=mail_sink.port,
            log=tmp_path / f"{name}.log",
            extra_env={**shared_secrets, "ISCFLOW_MAIL__TIMEOUT_SECONDS": "5"},
        )

    workers = {"a": spawn("worker-a"), "b": spawn("worker-b")}
    ids = [str(uuid.uuid4()) for _ in range(ISSUES)]
    total = ISSUES * len(LIFECYCLE)
    try:
        drivers = asyncio.gather(*(_lifecycle(api, people, i) for i in ids))
        while _audit_count(engine) < total // 3:
            assert not drivers.done(), drivers.exception()
            await asyncio.sleep(0.05)
        workers["a"].send_signal(signal.SIGKILL)
        workers["a"].wait()
        killed_at = _audit_count(engine)
        states = await asyncio.wait_for(drivers, timeout=150)

        # E-mail goes out after the commands answer: wait until every row is delivered.
        for _ in range(600):
            if all(row.status == "sent" for row in _outbox(engine)):
                break
            await asyncio.sleep(0.1)
        pids = await _worker_pids(client, ids)
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
                process.wait()

    assert killed_at < total
    assert states == ["closed"] * ISSUES
    assert {workers["a"].pid, workers["b"].pid} <= pids  # both processes did the work
    with Session(engine) as session:
        streams = session.exec(
            select(AuditEventRow.stream, AuditEventRow.sequence, AuditEventRow.action).order_by(
                col(AuditEventRow.stream), col(AuditEventRow.sequence)
            )
        ).all()
        closed = session.exec(
            select(func.count()).select_from(IssueRow).where(IssueRow.state == "closed")
        ).one()
    by_stream: dict[str, list[tuple[int, str]]] = {}
    for stream, sequence, action in streams:
        by_stream.setdefault(stream, []).append((sequence, action))
    expected = list(enumerate(LIFECYCLE, start=1))
    assert sorted(by_stream) == sorted(f"issue-{i}" for i in ids)
    assert all(rows == expected for rows in by_stream.values())
    assert closed == ISSUES

    rows = _outbox(engine)
    assert rows and all(row.status == "sent" for row in rows)
    expected_ids = {message_id(row, scaled_settings.mail) for row in rows}
    stored = [str(m["Message-ID"]).strip() for m in mail_sink.messages()]
    assert sorted(stored) == sorted(expected_ids)  # one e-mail per outbox row, none twice
    assert set(message_ids) == expected_ids
    resent = sum(count - 1 for count in message_ids.values())
    assert resent <= ACTIVITY_SLOTS
