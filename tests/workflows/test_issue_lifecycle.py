"""IssueWorkflow on a real dev server, persisting to SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ReturnEscalation,
)
from iscflow.issue_commands import CommandRejected, IssueCommands
from storage import repository
from tests.support.people import People

pytestmark = pytest.mark.usefixtures("worker")


def _raise(issue_id: str) -> RaiseIssue:
    return RaiseIssue(
        issue_id=issue_id,
        title="Captioning for remote participation",
        description="Remote sessions lack live captioning in all six languages.",
        theme="accessibility",
        sector="ITU-T",
    )


async def test_full_lifecycle_leaves_read_model_and_one_audit_row_per_event(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    fp, chair = people.fp_access.actor, people.chair.actor

    issue = await commands.raise_issue(fp, _raise(issue_id))
    assert issue.state is IssueState.OPEN
    await commands.send(issue_id, people.fp_access_d.actor, AddComment(body="BDT agrees."))
    await commands.send(issue_id, fp, RequestEscalation(reason="Needs budget."))
    returned = await commands.send(issue_id, chair, ReturnEscalation(reason="Ask the GS first."))
    assert returned.state is IssueState.OPEN
    await commands.send(issue_id, fp, RequestEscalation(reason="GS cannot fund it."))
    escalated = await commands.send(issue_id, chair, ApproveEscalation())
    assert (escalated.state, escalated.level) == (IssueState.ESCALATED, 1)
    await commands.send(
        issue_id,
        chair,
        RecordDecision(outcome=DecisionOutcome.RESOLVED, text="Fund captioning from 2027."),
    )
    closed = await commands.send(issue_id, people.secretariat.actor, CloseIssue())
    assert closed.state is IssueState.CLOSED

    with Session(engine) as session:
        row = repository.get_issue(session=session, issue_id=issue_id)
        assert row is not None
        assert (row.state, row.version, row.decision) == (
            "closed",
            8,
            "Fund captioning from 2027.",
        )
        audit = repository.list_audit(session=session, stream=f"issue-{issue_id}")
        assert [a.action for a in audit] == [
            "IssueRaised",
            "CommentAdded",
            "EscalationRequested",
            "EscalationReturned",
            "EscalationRequested",
            "EscalationApproved",
            "DecisionRecorded",
            "IssueClosed",
        ]
        assert [a.sequence for a in audit] == list(range(1, 9))
        assert audit[3].payload["reason"] == "Ask the GS first."
        assert (audit[5].actor_id, audit[5].actor_role) == ("chair", "chair")
        comments = repository.list_comments(session=session, issue_id=issue_id)
        assert [c.body for c in comments] == ["BDT agrees."]


async def test_second_identical_create_returns_the_same_issue(
    commands: IssueCommands, people: People, engine: Engine
) -> None:
    issue_id = str(uuid.uuid4())
    first = await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    second = await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    assert second == first
    with Session(engine) as session:
        assert repository.count_audit(session=session, stream_prefix=f"issue-{issue_id}") == 1


async def test_illegal_transition_is_refused_with_the_current_state(
    commands: IssueCommands, people: People
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    with pytest.raises(CommandRejected) as refused:
        await commands.send(issue_id, people.chair.actor, ApproveEscalation())
    assert refused.value.status == 409
    assert refused.value.details["current_state"] == "open"


async def test_command_on_a_closed_issue_is_refused_with_its_final_state(
    commands: IssueCommands, people: People
) -> None:
    issue_id = str(uuid.uuid4())
    fp = people.fp_access.actor
    await commands.raise_issue(fp, _raise(issue_id))
    await commands.send(issue_id, fp, RequestEscalation(reason="r"))
    await commands.send(issue_id, people.chair.actor, ApproveEscalation())
    await commands.send(
        issue_id, people.chair.actor, RecordDecision(outcome=DecisionOutcome.RESOLVED, text="ok")
    )
    await commands.send(issue_id, people.chair.actor, CloseIssue())
    with pytest.raises(CommandRejected) as refused:
        await commands.send(issue_id, fp, AddComment(body="late"))
    assert refused.value.status == 409
    assert refused.value.details["current_state"] == "closed"
    again = await commands.raise_issue(fp, _raise(issue_id))
    assert again.state is IssueState.CLOSED


async def test_wrong_role_is_refused_before_entering_history(
    commands: IssueCommands, people: People
) -> None:
    issue_id = str(uuid.uuid4())
    await commands.raise_issue(people.fp_access.actor, _raise(issue_id))
    await commands.send(issue_id, people.fp_access.actor, RequestEscalation(reason="r"))
    with pytest.raises(CommandRejected) as refused:
        await commands.send(issue_id, people.auditor.actor, ApproveEscalation())
    assert refused.value.status == 403
    current = await commands.current(issue_id)
    assert current is not None and current.state is IssueState.ESCALATION_REQUESTED
