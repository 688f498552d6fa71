"""An SMTP outage: mail queues visibly, then each message is delivered once."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import Engine
from sqlmodel import Session, select

from domain.issues import RaiseIssue, RequestEscalation
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from storage.models import OutboxRow
from tests.support.people import People


def _rows(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow)).all())


async def test_mail_waits_visibly_through_an_outage_then_goes_once(
    engine: Engine, people: People, commands: IssueCommands, mail_sink: MailSink, worker: None
) -> None:
    mail_sink.stop()
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(
        people.fp_access.actor,
        RaiseIssue(
            issue_id=issue_id, title="Outage", description="d", theme="accessibility",
            sector="ITU-T",
        ),
    )  # fmt: skip
    await commands.send(issue_id, people.fp_access.actor, RequestEscalation(reason="r"))

    for _ in range(100):
        rows = _rows(engine)
        if len(rows) == 2 and all(r.status == "retrying" and r.attempts >= 2 for r in rows):
            break
        await asyncio.sleep(0.1)
    assert {(r.kind, r.status) for r in rows} == {
        ("issue_raised", "retrying"),
        ("escalation_requested", "retrying"),
    }
    assert all(r.last_error and r.sent_at is None for r in rows)

    mail_sink.start()
    for _ in range(200):
        if all(r.status == "sent" for r in _rows(engine)):
            break
        await asyncio.sleep(0.1)

    assert {r.status for r in _rows(engine)} == {"sent"}
    assert mail_sink.transactions == 2
    assert sorted(str(m["X-Iscflow-Kind"]) for m in mail_sink.messages()) == [
        "escalation_requested",
        "issue_raised",
    ]
