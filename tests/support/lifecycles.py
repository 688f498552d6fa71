"""Issue lifecycles for reliability tests, with what each must leave behind.

Each lifecycle is a script of commands and, written out by hand from the transition table
(README) and the notification table (docs/notifications.md), the audit actions and the
e-mails (template, recipient) it must produce with the cast of `tests/support/people.py`:
the theme's focal points are `fp_access` and `fp_access_d`, the level-1 approver is the
chair, the level-2 approver the executive, and the actor is never notified of their own step.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError

from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    IssueCommand,
    IssueState,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    WithdrawIssue,
)
from iscflow.issue_commands import CommandRejected, IssueCommands
from storage.models import AuditEventRow, OutboxRow
from tests.support.people import People

FOCAL_POINTS = ("fp_access", "fp_access_d")


@dataclass(frozen=True)
class Step:
    actor: str  # a field of People
    command: IssueCommand | None  # None: raise the issue
    action: str  # the audit action it records
    mails: tuple[tuple[str, str], ...] = ()  # (template, recipient user id)


@dataclass(frozen=True)
class Lifecycle:
    name: str
    steps: tuple[Step, ...]
    final: IssueState

    @property
    def actions(self) -> list[str]:
        return [s.action for s in self.steps]

    @property
    def mails(self) -> list[tuple[str, str]]:
        return [m for s in self.steps for m in s.mails]


def _to_focal_points(template: str) -> tuple[tuple[str, str], ...]:
    return tuple((template, fp) for fp in FOCAL_POINTS)


RAISED = Step("fp_access", None, "IssueRaised", (("issue_raised", "fp_access_d"),))

ESCALATED_AND_CLOSED = Lifecycle(
    "escalated_and_closed",
    (
        RAISED,
        Step("fp_access_d", AddComment(body="agreed"), "CommentAdded"),
        Step(
            "fp_access",
            RequestEscalation(reason="needs the chair"),
            "EscalationRequested",
            (("escalation_requested", "chair"),),
        ),
        Step(
            "chair",
            ApproveEscalation(),
            "EscalationApproved",
            _to_focal_points("escalation_approved"),
        ),
        Step(
            "chair",
            RecordDecision(outcome=DecisionOutcome.RESOLVED, text="done"),
            "DecisionRecorded",
            _to_focal_points("decision_recorded"),
        ),
        Step("chair", CloseIssue(), "IssueClosed"),
    ),
    IssueState.CLOSED,
)

RETURNED_THEN_RESOLVED = Lifecycle(
    "returned_then_resolved",
    (
        RAISED,
        Step(
            "fp_access_d",
            RequestEscalation(reason="stuck"),
            "EscalationRequested",
            (("escalation_requested", "chair"),),
        ),
        Step(
            "chair",
            ReturnEscalation(reason="talk to the other sector first"),
            "EscalationReturned",
            _to_focal_points("escalation_returned"),
        ),
        Step("fp_access", ResolveIssue(resolution="agreed between sectors"), "IssueResolved"),
        Step("fp_access_d", CloseIssue(), "IssueClosed"),
    ),
    IssueState.CLOSED,
)

WITHDRAWN = Lifecycle(
    "withdrawn",
    (
        RAISED,
        Step("chair", AddComment(body="is this a duplicate?"), "CommentAdded"),
        Step("fp_access", WithdrawIssue(reason="duplicate"), "IssueWithdrawn"),
    ),
    IssueState.WITHDRAWN,
)

TO_THE_TOP = Lifecycle(
    "to_the_top",
    (
        RAISED,
        Step(
            "fp_access",
            RequestEscalation(reason="needs the chair"),
            "EscalationRequested",
            (("escalation_requested", "chair"),),
        ),
        Step(
            "chair",
            ApproveEscalation(),
            "EscalationApproved",
            _to_focal_points("escalation_approved"),
        ),
        Step(
            "chair",
            RecordDecision(outcome=DecisionOutcome.ESCALATED_FURTHER, text="for the SG"),
            "DecisionRecorded",
            (*_to_focal_points("decision_recorded"), ("escalation_requested", "executive")),
        ),
        Step(
            "executive",
            ApproveEscalation(),
            "EscalationApproved",
            _to_focal_points("escalation_approved"),
        ),
        Step(
            "executive",
            RecordDecision(outcome=DecisionOutcome.RESOLVED, text="decided at the top"),
            "DecisionRecorded",
            _to_focal_points("decision_recorded"),
        ),
        Step("secretariat", CloseIssue(), "IssueClosed"),
    ),
    IssueState.CLOSED,
)

LIFECYCLES = (ESCALATED_AND_CLOSED, RETURNED_THEN_RESOLVED, WITHDRAWN, TO_THE_TOP)

# What may interrupt a command whose fate is then unknown: the Temporal server away (RPC
# errors) or no answer in time (503). The caller checks the issue before sending again.
Ambiguous = (RPCError, CommandRejected, OSError, TimeoutError)


async def drive(
    commands: IssueCommands,
    people: People,
    issue_id: str,
    lifecycle: Lifecycle,
    *,
    retry_ambiguous: bool = False,
    on_step: Callable[[], None] | None = None,
) -> IssueState:
    """Run every step of `lifecycle`; with `retry_ambiguous`, resend only unapplied steps."""
    state = IssueState.OPEN
    for version, step in enumerate(lifecycle.steps, start=1):
        while True:
            try:
                state = await _apply(commands, people, issue_id, step)
                break
            except Ambiguous as error:
                if not retry_ambiguous or _refused(error):
                    raise
                applied = await _applied_version(commands, issue_id)
                if applied is not None and applied[0] >= version:
                    state = applied[1]
                    break
                await asyncio.sleep(0.5)
        if on_step is not None:
            on_step()
    return state


def _refused(error: BaseException) -> bool:
    """A clear refusal (403, 404, 409, 422) is an answer, not an interruption."""
    return isinstance(error, CommandRejected) and error.status < 500


async def _apply(commands: IssueCommands, people: People, issue_id: str, step: Step) -> IssueState:
    actor = getattr(people, step.actor).actor
    if step.command is None:
        raised = await commands.raise_issue(
            actor,
            RaiseIssue(
                issue_id=issue_id,
                title=f"Issue {issue_id[:8]}",
                description="Driven through its lifecycle while something fails.",
                theme="accessibility",
                sector="ITU-T",
            ),
        )
        return raised.state
    return (await commands.send(issue_id, actor, step.command)).state


async def _applied_version(commands: IssueCommands, issue_id: str) -> tuple[int, IssueState] | None:
    """The issue's version and state as its workflow knows them; None while unreachable."""
    for _ in range(240):
        try:
            issue = await commands.current(issue_id)
        except (RPCError, OSError, TimeoutError):
            await asyncio.sleep(0.5)
            continue
        return (issue.version, issue.state) if issue is not None else (0, IssueState.OPEN)
    return None


def audit_actions(engine: Engine) -> dict[str, list[str]]:
    """Every audit stream's actions, in sequence order (asserting the sequence has no gap)."""
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEventRow.stream, AuditEventRow.sequence, AuditEventRow.action).order_by(
                col(AuditEventRow.stream), col(AuditEventRow.sequence)
            )
        ).all()
    streams: dict[str, list[str]] = {}
    for stream, sequence, action in rows:
        actions = streams.setdefault(stream, [])
        assert sequence == len(actions) + 1, f"{stream}: sequence {sequence} after {len(actions)}"
        actions.append(action)
    return streams


def outbox_rows(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxRow)).all())


def expected_mails(plan: dict[str, Lifecycle]) -> Counter[tuple[str, str, str]]:
    """(issue id, template, recipient id) for every e-mail the plan must cause."""
    return Counter(
        (issue_id, template, user)
        for issue_id, lifecycle in plan.items()
        for template, user in lifecycle.mails
    )


def actual_mails(rows: list[OutboxRow]) -> Counter[tuple[str, str, str]]:
    """The same triples, read from the outbox (event keys are `issue-<id>#<sequence>`)."""
    return Counter(
        (r.event_key.split("#", 1)[0].removeprefix("issue-"), r.kind, r.user_id) for r in rows
    )


async def retried_sends(client: Client, workflow_ids: Iterable[str]) -> int:
    """Attempts of `send_notification` beyond each one's first, from the workflows' histories.

    Each may have delivered before its outcome was lost (a timeout, a crash, a database or
    server away while recording it): the most SMTP can have seen twice.
    """
    retried = 0
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        scheduled = {
            e.event_id
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == "send_notification"
        }
        retried += sum(
            e.activity_task_started_event_attributes.attempt - 1
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
        )
    return retried
