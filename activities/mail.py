"""Delivering one outbox row by SMTP, idempotently."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import structlog
from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity

from iscflow.settings import MailSettings
from storage import outbox
from storage.db import session_scope, utc
from storage.models import OutboxRow

log = structlog.get_logger("iscflow.mail")

# Of an attempt's start-to-close timeout, the share kept back for loading the row and
# recording the outcome: the SMTP exchange must end before Temporal may start another attempt.
RECORD_SHARE = 0.25


class SendResult(BaseModel):
    outbox_id: int
    status: str


def message_id(row: OutboxRow, mail: MailSettings) -> str:
    """Deterministic: the same row always carries the same Message-ID."""
    digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{mail.list_id}>"


def build_message(row: OutboxRow, mail: MailSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.from_address
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(utc(row.created_at))
    message["Message-ID"] = message_id(row, mail)
    message["Auto-Submitted"] = "auto-generated"
    message["Precedence"] = "bulk"
    message["List-Id"] = f"ISC-TF notifications <{mail.list_id}>"
    if row.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Iscflow-Kind"] = row.kind
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    if row.calendar:
        message.add_attachment(
            row.calendar,
            subtype="calendar",
            filename="invitation.ics",
            params={"method": "REQUEST"},
        )
    # After the body: setting content resets the Content-* headers.
    message["Content-Language"] = row.language
    return message


def smtp_budget(start_to_close: timedelta | None, mail: MailSettings) -> float:
    """Seconds one attempt may spend on SMTP, so that it ends before its own timeout.

    Temporal starts the next attempt when the start-to-close timeout expires, whether or not
    the first one is still talking to the SMTP server; two live attempts would both deliver.
    aiosmtplib's timeout bounds each command, not the exchange, so the exchange gets its own.
    """
    if start_to_close is None:
        return mail.timeout_seconds * 2
    return start_to_close.total_seconds() * (1 - RECORD_SHARE)


class MailActivities:
    def __init__(self, engine: Engine, mail: MailSettings) -> None:
        self._engine = engine
        self._mail = mail

    def _load(self, outbox_id: int) -> OutboxRow | None:
        with session_scope(self._engine) as session:
            return outbox.get_outbox(session=session, outbox_id=outbox_id)

    def _mark_sent(self, outbox_id: int) -> None:
        with session_scope(self._engine) as session:
            outbox.mark_sent(session=session, outbox_id=outbox_id, now=datetime.now(UTC))

    def _mark_failed(self, outbox_id: int, error: str) -> None:
        with session_scope(self._engine) as session:
            outbox.mark_failed(session=session, outbox_id=outbox_id, error=error)

    @activity.defn(name="send_notification")
    async def send_notification(self, outbox_id: int) -> SendResult:
        """Send the row unless it was sent already; record every failed attempt."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + smtp_budget(activity.info().start_to_close_timeout, self._mail)
        row = await asyncio.to_thread(self._load, outbox_id)
        if row is None:
            return SendResult(outbox_id=outbox_id, status="missing")
        if row.sent_at is not None or row.status in {outbox.HELD, outbox.DIGESTED}:
            return SendResult(outbox_id=outbox_id, status=row.status)
        mail = self._mail
        try:
            # Past the deadline (a slow load included) no exchange starts, and none goes on.
            async with asyncio.timeout_at(deadline):
                await aiosmtplib.send(
                    build_message(row, mail),
                    hostname=mail.host,
                    port=mail.port,
                    start_tls=mail.starttls,
                    username=mail.username,
                    password=mail.password.get_secret_value() if mail.password else None,
                    timeout=mail.timeout_seconds,
                )
        except (aiosmtplib.SMTPException, OSError) as error:  # OSError covers TimeoutError
            reason = str(error) or "the SMTP exchange did not end within the attempt's time"
            await asyncio.to_thread(self._mark_failed, outbox_id, reason)
            log.warning(
                "mail delivery failed; will retry",
                outbox_id=outbox_id,
                attempt=activity.info().attempt,
                error=reason,
            )
            raise
        await asyncio.to_thread(self._mark_sent, outbox_id)
        return SendResult(outbox_id=outbox_id, status=outbox.SENT)


__all__ = ["MailActivities", "SendResult", "build_message", "message_id", "smtp_budget"]
