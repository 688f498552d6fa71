"""Conflicting commands racing on one issue: each is applied once or refused clearly.

`tests/workflows/test_concurrent_commands.py` sends 50 identical approvals and a comment
racing a withdrawal to the workflow; here: many comments against a withdrawal, repeated
withdrawals, and both races through the HTTP API (one 200, 49 clear 409s).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.app import create_app
from domain.issues import AddComment, IssueState, RaiseIssue, WithdrawIssue
from iscflow.issue_commands import CommandRejected, IssueCommands
from iscflow.settings import Settings
from storage import repository
from tests.support.people import People

pytestmark = pytest.mark.usefixtures("worker")

COMMENTS = 20


def _raise(issue_id: str) -> RaiseIssue:
    return RaiseIssue(
        issue_id=issue_id,
        title="Racing commands",
        description="Comments and withdrawals at the same moment.",
        theme="accessibility",
        sector="ITU-T",
    )


def _trail(engine: Engine, issue_id: str) -> tuple[list[str], list[str]]:
    """The audit actions and the stored comment bodies of one issue, in order."""
    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        comments = repository.list_comments(session=session, issue_id=issue_id)
    return [a.action for a in audit], [c.body for c in comments]


async def test_comments_racing_a_withdrawal_land_before_it_or_are_refused(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    commenters = [people.fp_access_d, people.chair, people.secretariat, people.executive]
    bodies = [f"comment {n}" for n in range(COMMENTS)]

    async def comment(n: int) -> str | CommandRejected:
        actor = commenters[n % len(commenters)].actor
        try:
            await commands.send(issue_id, actor, AddComment(body=bodies[n]))
        except CommandRejected as refused:
            return refused
        return bodies[n]

    tasks = [asyncio.create_task(comment(n)) for n in range(COMMENTS // 2)]
    withdraw = asyncio.create_task(
        commands.send(issue_id, people.fp_access.actor, WithdrawIssue(reason="duplicate"))
    )
    tasks += [asyncio.create_task(comment(n)) for n in range(COMMENTS // 2, COMMENTS)]
    results = await asyncio.gather(*tasks)
    withdrawn = await withdraw

    accepted = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, CommandRejected)]
    actions, stored = _trail(engine, issue_id)
    assert withdrawn.state is IssueState.WITHDRAWN
    assert len(accepted) + len(refused) == COMMENTS
    assert {(r.status, r.details.get("current_state")) for r in refused} <= {(409, "withdrawn")}
    # Every accepted comment is recorded once, and before the withdrawal; nothing after it.
    assert actions == ["IssueRaised", *["CommentAdded"] * len(accepted), "IssueWithdrawn"]
    assert sorted(stored) == sorted(accepted)


async def test_ten_identical_withdrawals_withdraw_once(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))

    results = await asyncio.gather(
        *(
            commands.send(issue_id, people.fp_access.actor, WithdrawIssue(reason="duplicate"))
            for _ in range(10)
        ),
        return_exceptions=True,
    )

    withdrawn = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, CommandRejected)]
    assert len(withdrawn) == 1 and withdrawn[0].state is IssueState.WITHDRAWN
    assert len(refused) == 9
    assert {(r.status, r.details.get("current_state")) for r in refused} == {(409, "withdrawn")}
    assert _trail(engine, issue_id)[0] == ["IssueRaised", "IssueWithdrawn"]


@pytest.fixture
async def api(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine, client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://iscflow.test") as http:
            yield http


async def test_comments_racing_a_withdrawal_over_http_get_200_or_409(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    fp = {"Authorization": f"Bearer {people.fp_access.token}"}
    other = {"Authorization": f"Bearer {people.fp_access_d.token}"}
    raised = await api.post(
        "/api/v1/issues",
        json={"title": "Racing over HTTP", "description": "d", "theme": "accessibility"},
        headers=fp,
    )
    issue_id = raised.json()["id"]
    base = f"/api/v1/issues/{issue_id}"

    requests = [
        api.post(f"{base}/comments", json={"body": f"c{n}"}, headers=other) for n in range(5)
    ]
    requests.append(api.post(f"{base}/withdraw", json={"reason": "duplicate"}, headers=fp))
    requests += [
        api.post(f"{base}/comments", json={"body": f"c{n}"}, headers=other) for n in range(5, 10)
    ]
    responses = await asyncio.gather(*requests)

    withdraw = responses[5]
    comments = responses[:5] + responses[6:]
    assert (withdraw.status_code, withdraw.json()["state"]) == (200, "withdrawn")
    assert {r.status_code for r in comments} <= {200, 409}, [r.text for r in comments]
    assert all(
        r.json()["error"]["current_state"] == "withdrawn" for r in comments if r.status_code == 409
    )
    accepted = sum(r.status_code == 200 for r in comments)
    actions, stored = _trail(engine, issue_id)
    assert actions == ["IssueRaised", *["CommentAdded"] * accepted, "IssueWithdrawn"]
    assert len(stored) == accepted


async def test_fifty_identical_approvals_over_http_get_one_200_and_49_409(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    fp = {"Authorization": f"Bearer {people.fp_access.token}"}
    chair = {"Authorization": f"Bearer {people.chair.token}"}
    raised = await api.post(
        "/api/v1/issues",
        json={"title": "Approved by many", "description": "d", "theme": "accessibility"},
        headers=fp,
    )
    base = f"/api/v1/issues/{raised.json()['id']}"
    requested = await api.post(f"{base}/escalation-request", json={"reason": "r"}, headers=fp)
    assert requested.status_code == 200, requested.text

    responses = await asyncio.gather(
        *(api.post(f"{base}/escalation-request/approve", json={}, headers=chair) for _ in range(50))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 49, [r.text for r in responses if r.status_code >= 500]
    refusals = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {(e["code"], e["current_state"]) for e in refusals} == {
        ("illegal_transition", "escalated")
    }
    actions, _ = _trail(engine, raised.json()["id"])
    assert actions == ["IssueRaised", "EscalationRequested", "EscalationApproved"]
