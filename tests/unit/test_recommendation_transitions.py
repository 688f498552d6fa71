"""Both status axes of a recommendation: every allowed and every forbidden move, and the rights."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from domain.errors import IllegalTransition, InvalidCommand, PermissionDenied
from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    LinkEscalationIssue,
    MarkLongOutstanding,
    RecommendationCommand,
    RecordAcceptance,
    RecordEscalationFailure,
    ReportProgress,
    ReturnToInProgress,
    SendReminder,
    UpdateRecord,
    VerifyImplementation,
)
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import (
    Acceptance,
    Implementation,
    ReminderKind,
    SourceBody,
    recommendation_id,
    slug,
)
from domain.recommendations import ALLOWED_FROM, Recommendation
from domain.roles import SYSTEM_ACTOR, Actor
from tests.support.recommendations import (
    AUDITOR,
    NOW,
    OTHER_FP,
    OWNER,
    SECRETARIAT,
    create_command,
    created,
    in_state,
    record,
)

POLICY = RecommendationPolicy()
EVIDENCE = ("https://www.itu.int/md/S21-CL-C-0061/en",)

# One valid command per kind, and the actor entitled to send it.
SAMPLES: dict[str, tuple[RecommendationCommand, Actor]] = {
    "update_record": (UpdateRecord(record=record(title="A new title for it")), SECRETARIAT),
    "record_acceptance": (RecordAcceptance(acceptance=Acceptance.ACCEPTED), SECRETARIAT),
    "report_progress": (ReportProgress(percentage=40, narrative="Drafted."), OWNER),
    "claim_implemented": (ClaimImplemented(narrative="Done.", evidence=EVIDENCE), OWNER),
    "verify": (VerifyImplementation(), AUDITOR),
    "return_to_in_progress": (ReturnToInProgress(reason="The policy is a draft."), AUDITOR),
    "close": (
        CloseRecommendation(
            outcome=Implementation.OVERTAKEN_BY_EVENTS, justification="The office closed."
        ),
        OWNER,
    ),
    "send_reminder": (SendReminder(reminder=ReminderKind.DUE, days_before=7), SYSTEM_ACTOR),
    "mark_long_outstanding": (MarkLongOutstanding(), SYSTEM_ACTOR),
    "link_escalation_issue": (LinkEscalationIssue(issue_id="4b1c"), SYSTEM_ACTOR),
    "escalation_failed": (RecordEscalationFailure(reason="no worker"), SYSTEM_ACTOR),
}
PAIRS = list(itertools.product(Acceptance, Implementation))


def test_every_command_has_a_sample_and_a_row_in_the_table() -> None:
    assert set(SAMPLES) == set(ALLOWED_FROM)


@pytest.mark.parametrize("kind", sorted(ALLOWED_FROM))
@pytest.mark.parametrize(("acceptance", "implementation"), PAIRS)
def test_transition_table_decides_on_both_axes(
    kind: str, acceptance: Acceptance, implementation: Implementation
) -> None:
    command, actor = SAMPLES[kind]
    rec = in_state(acceptance, implementation)
    allowed = ALLOWED_FROM[kind]

    if acceptance in allowed.acceptance and implementation in allowed.implementation:
        new, event = rec.handle(command, actor, NOW, POLICY)
        assert new.version == rec.version + 1
        assert event.sequence == new.version
    else:
        with pytest.raises(IllegalTransition) as refused:
            rec.handle(command, actor, NOW, POLICY)
        assert refused.value.state in {acceptance.value, implementation.value}
        assert "recommendation" in refused.value.message


def test_acceptance_is_recorded_once_on_its_own_axis() -> None:
    rec = created()
    accepted, event = rec.handle(
        RecordAcceptance(acceptance=Acceptance.PARTIALLY_ACCEPTED), SECRETARIAT, NOW, POLICY
    )

    assert (accepted.acceptance, accepted.implementation) == (
        Acceptance.PARTIALLY_ACCEPTED,
        Implementation.NOT_STARTED,
    )
    assert (event.axis, event.from_state, event.to_state) == (
        "acceptance",
        "under_consideration",
        "partially_accepted",
    )
    with pytest.raises(IllegalTransition, match="acceptance is partially_accepted"):
        accepted.handle(RecordAcceptance(acceptance=Acceptance.ACCEPTED), SECRETARIAT, NOW, POLICY)


def test_a_refusal_needs_a_comment_and_closes_the_recommendation() -> None:
    rec = created()
    with pytest.raises(InvalidCommand) as missing:
        rec.handle(RecordAcceptance(acceptance=Acceptance.NOT_ACCEPTED), SECRETARIAT, NOW, POLICY)
    assert missing.value.field == "comment"

    refused, _ = rec.handle(
        RecordAcceptance(acceptance=Acceptance.NOT_ACCEPTED, comment="Not within mandate."),
        SECRETARIAT,
        NOW,
        POLICY,
    )
    assert not refused.is_open


def test_under_consideration_is_not_a_decision() -> None:
    with pytest.raises(InvalidCommand) as refused:
        created().handle(
            RecordAcceptance(acceptance=Acceptance.UNDER_CONSIDERATION), SECRETARIAT, NOW, POLICY
        )
    assert refused.value.field == "acceptance"


def _accepted() -> Recommendation:
    return created(acceptance=Acceptance.ACCEPTED)


def test_owner_reports_progress_then_claims_and_an_auditor_verifies() -> None:
    rec = _accepted()
    rec, progress = rec.handle(
        ReportProgress(percentage=60, narrative="Half the documents tagged.", evidence=EVIDENCE),
        OWNER,
        NOW,
        POLICY,
    )
    assert (rec.implementation, rec.progress) == (Implementation.IN_PROGRESS, 60)
    assert progress.data["evidence"] == list(EVIDENCE)

    rec, _ = rec.handle(
        ClaimImplemented(narrative="All tagged.", evidence=EVIDENCE), OWNER, NOW, POLICY
    )
    assert (rec.implementation, rec.progress, rec.is_open) == (
        Implementation.IMPLEMENTED,
        100,
        True,
    )

    rec, verified = rec.handle(VerifyImplementation(note="Sampled 20."), AUDITOR, NOW, POLICY)
    assert rec.implementation is Implementation.VERIFIED
    assert not rec.is_open
    assert (verified.name, verified.actor_id) == ("ImplementationVerified", "auditor")


def test_an_auditor_returns_a_claim_with_a_reason_and_progress_falls_back() -> None:
    progressed, _ = _accepted().handle(
        ReportProgress(percentage=70, narrative="Most tagged."), OWNER, NOW, POLICY
    )
    claimed, _ = progressed.handle(
        ClaimImplemented(narrative="Done.", evidence=EVIDENCE), OWNER, NOW, POLICY
    )
    returned, event = claimed.handle(
        ReturnToInProgress(reason="Annexes are not tagged."), AUDITOR, NOW, POLICY
    )

    assert claimed.progress == 100
    assert (returned.implementation, returned.progress) == (Implementation.IN_PROGRESS, 70)
    assert returned.return_reason == "Annexes are not tagged."
    assert (event.from_state, event.to_state) == ("implemented", "in_progress")


@pytest.mark.parametrize("who", [OWNER, OTHER_FP, SECRETARIAT, SYSTEM_ACTOR])
def test_only_an_auditor_verifies(who: Actor) -> None:
    claimed, _ = _accepted().handle(
        ClaimImplemented(narrative="Done.", evidence=EVIDENCE), OWNER, NOW, POLICY
    )
    with pytest.raises(PermissionDenied, match="auditor"):
        claimed.handle(VerifyImplementation(), who, NOW, POLICY)


@pytest.mark.parametrize("who", [OTHER_FP, SECRETARIAT, AUDITOR])
def test_only_the_owner_reports_progress(who: Actor) -> None:
    with pytest.raises(PermissionDenied, match="owner"):
        _accepted().handle(ReportProgress(percentage=10, narrative="x"), who, NOW, POLICY)


def test_a_claim_without_evidence_is_refused() -> None:
    with pytest.raises(ValidationError):
        ClaimImplemented(narrative="Done.", evidence=())


def test_closure_needs_a_justification_and_the_owner_or_secretariat() -> None:
    closure = CloseRecommendation(
        outcome=Implementation.NOT_IMPLEMENTED, justification="No budget."
    )
    with pytest.raises(PermissionDenied):
        _accepted().handle(closure, OTHER_FP, NOW, POLICY)
    closed, _ = _accepted().handle(closure, SECRETARIAT, NOW, POLICY)
    assert (closed.implementation, closed.closure_justification, closed.is_open) == (
        Implementation.NOT_IMPLEMENTED,
        "No budget.",
        False,
    )
    with pytest.raises(ValidationError):
        CloseRecommendation(outcome=Implementation.VERIFIED, justification="x")


def test_system_steps_are_the_systems_only() -> None:
    with pytest.raises(PermissionDenied):
        _accepted().handle(SendReminder(reminder=ReminderKind.OVERDUE), SECRETARIAT, NOW, POLICY)


def test_only_the_secretariat_records() -> None:
    with pytest.raises(PermissionDenied):
        Recommendation.create(create_command(), OWNER, NOW, POLICY)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"acceptance": Acceptance.ACCEPTED, "implementation": Implementation.VERIFIED},
            "implementation",
        ),
        ({"implementation": Implementation.IN_PROGRESS}, "implementation"),
        ({"progress": 20}, "progress"),
        ({"acceptance": Acceptance.NOT_RELEVANT}, "justification"),
        (
            {"acceptance": Acceptance.ACCEPTED, "implementation": Implementation.NOT_IMPLEMENTED},
            "justification",
        ),
        ({"symbol": "联检组"}, "symbol"),
    ],
)
def test_an_imported_state_must_be_reachable(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        Recommendation.create(create_command(**kwargs), SECRETARIAT, NOW, POLICY)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_an_imported_implementation_claim_counts_as_complete() -> None:
    rec = created(acceptance=Acceptance.ACCEPTED, implementation=Implementation.IMPLEMENTED)
    assert rec.progress == 100


def test_the_business_key_sanitises_the_symbol_and_keeps_the_original() -> None:
    rec = created(source=SourceBody.JIU, symbol="JIU/REP/2020/5", number=4)

    assert (
        rec.id
        == "rec-jiu-jiu-rep-2020-5-4"
        == recommendation_id(SourceBody.JIU, "JIU/REP/2020/5", 4)
    )
    assert rec.symbol == "JIU/REP/2020/5"
    assert slug(" C21/40 (Rev.1) ") == "c21-40-rev-1"


def test_a_repeated_creation_of_another_symbol_with_the_same_id_is_refused() -> None:
    rec = created(symbol="JIU/REP/2020/5")
    rec.check_repeat(create_command(symbol="JIU/REP/2020/5"), SECRETARIAT)
    with pytest.raises(IllegalTransition, match="taken by JIU/REP/2020/5"):
        rec.check_repeat(create_command(symbol="JIU-REP-2020-5"), SECRETARIAT)


def test_a_record_update_lists_its_changes_and_replans_on_a_new_target() -> None:
    rec, _ = _accepted().handle(
        SendReminder(reminder=ReminderKind.DUE, days_before=30), SYSTEM_ACTOR, NOW, POLICY
    )
    later = NOW + timedelta(days=3)
    new_record = record(target_date=date(2025, 12, 31), priority="high")

    updated, event = rec.handle(UpdateRecord(record=new_record), SECRETARIAT, later, POLICY)

    assert event.data["changes"] == {
        "priority": {"from": "medium", "to": "high"},
        "target_date": {"from": "2025-06-30", "to": "2025-12-31"},
    }
    assert updated.reminders_sent == ()
    assert updated.target_set_at == later
    assert updated.target_at is not None and rec.target_at is not None
    assert updated.target_at > rec.target_at


def test_an_unchanged_record_is_already_applied() -> None:
    rec = _accepted()
    assert rec.already_applied(UpdateRecord(record=rec.record))
    assert not rec.already_applied(UpdateRecord(record=record(title="Another title")))
