"""A slow SMTP server: an attempt ends before Temporal may start the next one.

Temporal starts a new attempt once the start-to-close timeout expires, without stopping the
old one. aiosmtplib's timeout bounds each SMTP command, not the exchange, so against a server
that answers every command slowly (but each in time) an attempt could outlive its timeout and
deliver while its retry delivered too. Each attempt now stops its exchange in time.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.mail import MailActivities, smtp_budget
from iscflow.devserver import free_port
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings
from storage.db import session_scope
from storage.models import OutboxRow

START_TO_CLOSE = timedelta(seconds=8)
# Three slowed replies (EHLO, MAIL FROM, RCPT TO) come before the message is sent: together
# longer than the attempt's SMTP budget (6 s), each within aiosmtplib's command timeout (5 s).
REPLY_DELAY = 2.5


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    """The attempt's timing is the subject, not the database: one engine is enough."""
    yield sqlite_engine


class SlowServer:
    """An SMTP server that answers each command after a pause while `slow` is set."""

    def __init__(self, sink: MailSink) -> None:
        self.sink, self.slow = sink, True

    async def _pause(self) -> None:
        if self.slow:
            await asyncio.sleep(REPLY_DELAY)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        await self._pause()
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await self._pause()
        envelope.mail_from, envelope.mail_options = address, options
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await self._pause()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.receive(bytes(envelope.content))
        return "250 Message accepted for delivery"


def _outbox_row(engine: Engine) -> int:
    with session_scope(engine) as session:
        row = OutboxRow(
            idempotency_key="slow-smtp:1", event_key="slow-smtp", kind="issue_raised",
            user_id="fp_access_d", recipient="fp_access_d@example.org", subject="Slow",
            body_text="A message for a slow server.", body_html="<p>Slow</p>",
            created_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _attempt(number: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=number, start_to_close_timeout=START_TO_CLOSE)
    return env


async def test_an_attempt_ends_its_smtp_exchange_before_its_timeout_so_retries_never_overlap(
    engine: Engine, tmp_path: Path
) -> None:
    mail = MailSettings(port=free_port(), timeout_seconds=5, retry_max_seconds=1)
    assert smtp_budget(START_TO_CLOSE, mail) < 3 * REPLY_DELAY  # the budget is what stops it
    sink = MailSink(tmp_path / "sink")
    server = SlowServer(sink)
    controller = Controller(server, hostname="127.0.0.1", port=mail.port)
    controller.start()
    activities = MailActivities(engine, mail)
    outbox_id = _outbox_row(engine)
    try:
        with pytest.raises(TimeoutError):
            await _attempt(1).run(activities.send_notification, outbox_id)
        with Session(engine) as session:
            failed = session.get(OutboxRow, outbox_id)
        # Stopped before the message went: nothing delivered that a retry would repeat.
        assert sink.transactions == 0
        assert failed is not None and (failed.status, failed.attempts) == ("retrying", 1)
        assert failed.last_error

        server.slow = False
        result = await _attempt(2).run(activities.send_notification, outbox_id)
    finally:
        controller.stop()

    assert result.status == "sent"
    assert sink.transactions == 1 and len(sink.messages()) == 1
