"""Concurrent commands on one issue: exactly one wins, the rest hear why."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from domain.issues import (
    AddComment,
    ApproveEscalation,
    IssueState,
    RaiseIssue,
    RequestEscalation,
    WithdrawIssue,
)
from iscflow.issue_commands import CommandRejected, IssueCommands
from storage import repository
from tests.support.people import People

pytestmark = pytest.mark.usefixtures("worker")


def _raise(issue_id: str) -> RaiseIssue:
    return RaiseIssue(
        issue_id=issue_id,
        title="Concurrent approvals",
        description="Many hands on one button.",
        theme="accessibility",
        sector="ITU-T",
    )


async def test_fifty_identical_approvals_make_one_transition(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    await commands.send(issue_id, people.fp_access.actor, RequestEscalation(reason="r"))

    results = await asyncio.gather(
        *(commands.send(issue_id, people.chair.actor, ApproveEscalation()) for _ in range(50)),
        return_exceptions=True,
    )

    approved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, CommandRejected)]
    assert len(approved) == 1 and approved[0].state is IssueState.ESCALATED
    assert len(refused) == 49
    assert {(r.status, r.details["current_state"]) for r in refused} == {(409, "escalated")}
    with Session(engine) as session:
        actions = [
            a.action for a in repository.list_audit(session=session, stream=f"issue-{issue_id}")
        ]
    assert actions.count("EscalationApproved") == 1


async def test_comment_racing_withdraw_is_either_recorded_or_refused(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))

    comment, withdraw = await asyncio.gather(
        commands.send(issue_id, people.fp_access_d.actor, AddComment(body="wait!")),
        commands.send(issue_id, people.fp_access.actor, WithdrawIssue(reason="dup")),
        return_exceptions=True,
    )

    assert not isinstance(withdraw, BaseException) and withdraw.state is IssueState.WITHDRAWN
    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        comments = repository.list_comments(session=session, issue_id=issue_id)
    if isinstance(comment, CommandRejected):
        assert comment.status == 409
        assert [a.action for a in audit] == ["IssueRaised", "IssueWithdrawn"]
        assert comments == []
    else:
        assert [a.action for a in audit] == ["IssueRaised", "CommentAdded", "IssueWithdrawn"]
        assert [c.body for c in comments] == ["wait!"]
