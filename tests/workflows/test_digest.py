"""The digest: a scheduled workflow mails each digest user what waits for them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from domain.issues import RaiseIssue, RequestEscalation
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.schedules import digest_schedule_id, ensure_digest_schedule
from iscflow.settings import Settings
from storage import outbox
from storage.db import session_scope
from storage.directory import set_preferences
from tests.support.people import People
from workflows.digest import DigestInput, DigestWorkflow

pytestmark = pytest.mark.usefixtures("worker")


async def _issue(commands: IssueCommands, people: People, title: str, escalate: bool) -> str:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(
        people.fp_access.actor,
        RaiseIssue(
            issue_id=issue_id, title=title, description="d", theme="accessibility", sector="ITU-T"
        ),
    )
    if escalate:
        await commands.send(issue_id, people.fp_access.actor, RequestEscalation(reason="r"))
    return issue_id


def _to(sink: MailSink, address: str) -> list[str]:
    return [str(m["X-Iscflow-Kind"]) for m in sink.messages() if m["To"] == address]


async def test_digest_lists_what_waits_for_each_digest_user_and_holds_their_mail(
    client: Client,
    settings: Settings,
    commands: IssueCommands,
    people: People,
    engine: Engine,
    mail_sink: MailSink,
) -> None:
    with session_scope(engine) as session:
        set_preferences(session=session, user_id="chair", digest="daily")
        set_preferences(session=session, user_id="fp_access_d", digest="daily", language="es")
    await _issue(commands, people, "Open accessibility issue", escalate=False)
    await _issue(commands, people, "Waiting for the chair", escalate=True)
    await asyncio.sleep(1)
    assert _to(mail_sink, "chair@example.org") == []  # held for the digest
    with Session(engine) as session:
        held = outbox.held_for(session=session, user_id="chair")
    assert [r.kind for r in held] == ["escalation_requested"]

    result = await client.execute_workflow(
        DigestWorkflow.run,
        DigestInput(send_retry_max_seconds=1),
        id=f"digest-{uuid.uuid4()}",
        task_queue=settings.task_queue,
    )

    assert result.sent == 2
    chair = [m for m in mail_sink.messages() if m["To"] == "chair@example.org"]
    assert [str(m["X-Iscflow-Kind"]) for m in chair] == ["digest"]
    chair_text = chair[0].get_body(preferencelist=("plain",))
    assert chair_text is not None
    body = chair_text.get_content()
    assert "Waiting for the chair" in body and "Open accessibility issue" not in body
    focal = [m for m in mail_sink.messages() if m["To"] == "fp_access_d@example.org"]
    assert [(str(m["X-Iscflow-Kind"]), m["Content-Language"]) for m in focal] == [("digest", "es")]
    with Session(engine) as session:
        assert outbox.held_for(session=session, user_id="chair") == []


async def test_the_digest_schedule_is_created_once_and_runs_the_digest(
    client: Client, settings: Settings, commands: IssueCommands, people: People, engine: Engine,
    mail_sink: MailSink,
) -> None:  # fmt: skip
    with session_scope(engine) as session:
        set_preferences(session=session, user_id="chair", digest="daily")
    await _issue(commands, people, "Scheduled digest item", escalate=True)

    assert await ensure_digest_schedule(client, settings) is True
    assert await ensure_digest_schedule(client, settings) is False
    handle = client.get_schedule_handle(digest_schedule_id(settings))
    try:
        await handle.trigger()
        for _ in range(200):
            if _to(mail_sink, "chair@example.org") == ["digest"]:
                break
            await asyncio.sleep(0.1)
        assert _to(mail_sink, "chair@example.org") == ["digest"]
    finally:
        await handle.delete()
