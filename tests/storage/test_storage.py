"""Storage behaviour, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from domain.issues import AddComment, Issue, IssueEvent, RaiseIssue
from domain.roles import Actor, Role
from storage import directory, repository
from storage.audit import AuditChainError
from storage.db import session_scope
from storage.migrate import current_revision
from storage.models import ApiTokenRow
from tests.support.people import People

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
FP = Actor(id="fp_access", role=Role.FOCAL_POINT, themes=frozenset({"accessibility"}))


def _raised(issue_id: str = "a1") -> tuple[Issue, list[tuple[Issue, IssueEvent]]]:
    issue, raised = Issue.raise_issue(
        RaiseIssue(
            issue_id=issue_id,
            title="Accessible documents",
            description="Tag every Council PDF.",
            theme="accessibility",
            sector="ITU-T",
        ),
        FP,
        NOW,
    )
    commented, comment = issue.handle(AddComment(body="Yes."), FP, NOW + timedelta(minutes=5))
    return commented, [(issue, raised), (commented, comment)]


def test_migrations_create_exactly_the_models_schema(engine: Engine) -> None:
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_recording_an_event_twice_writes_one_audit_row(engine: Engine, people: People) -> None:
    _, steps = _raised()
    for issue, event in steps * 2:
        repository.record_issue_event(engine=engine, issue=issue, event=event, recorded_at=NOW)
    with Session(engine) as session:
        audit = repository.list_audit(session=session, stream="issue-a1")
        assert [(a.sequence, a.action) for a in audit] == [(1, "IssueRaised"), (2, "CommentAdded")]
        assert [c.body for c in repository.list_comments(session=session, issue_id="a1")] == [
            "Yes."
        ]


def test_an_event_out_of_order_is_refused_and_leaves_nothing_half_written(
    engine: Engine, people: People
) -> None:
    latest, steps = _raised()
    second_issue, second_event = steps[1]

    with pytest.raises(AuditChainError, match="next sequence is 1, not 2"):
        repository.record_issue_event(
            engine=engine, issue=second_issue, event=second_event, recorded_at=NOW
        )
    with Session(engine) as session:
        assert repository.get_issue(session=session, issue_id="a1") is None
        assert repository.count_audit(session=session) == 0

    for issue, event in steps:
        repository.record_issue_event(engine=engine, issue=issue, event=event, recorded_at=NOW)
    with Session(engine) as session:
        row = repository.get_issue(session=session, issue_id="a1")
        assert row is not None and row.version == latest.version == 2
        assert repository.count_audit(session=session) == 2


def test_concurrent_writers_of_the_same_event_leave_one_row(engine: Engine, people: People) -> None:
    _, steps = _raised()
    raised_issue, raised = steps[0]
    results: list[bool] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            results.append(
                repository.record_issue_event(
                    engine=engine, issue=raised_issue, event=raised, recorded_at=NOW
                )
            )
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]


def test_sixteen_concurrent_writers_never_see_a_locked_database(
    engine: Engine, people: People
) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for k in range(10):
                _, steps = _raised(f"w{n}-{k}")
                for i, e in steps:
                    repository.record_issue_event(engine=engine, issue=i, event=e, recorded_at=NOW)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as session:
        assert repository.count_audit(session=session) == 16 * 10 * 2


def test_list_issues_filters_by_theme_state_and_author(engine: Engine, people: People) -> None:
    _, steps = _raised("f1")
    for issue, event in steps:
        repository.record_issue_event(engine=engine, issue=issue, event=event, recorded_at=NOW)
    with Session(engine) as session:
        assert repository.list_issues(session=session, theme="accessibility")[1] == 1
        assert repository.list_issues(session=session, theme="gender")[1] == 0
        assert repository.list_issues(session=session, state="resolved")[1] == 0
        rows, total = repository.list_issues(session=session, author_id="fp_access")
        assert (total, [r.id for r in rows]) == (1, ["f1"])


def test_tokens_are_stored_hashed_and_refused_when_revoked_or_expired(
    engine: Engine, people: People
) -> None:
    token = people.chair.token
    with session_scope(engine) as session:
        assert directory.user_for_token(session=session, token=token, now=NOW) is not None
        assert directory.user_for_token(session=session, token=token + "x", now=NOW) is None
        expiring = directory.issue_token(
            session=session, user_id="chair", now=NOW, label="short", expires_at=NOW
        )
    with session_scope(engine) as session:
        assert directory.user_for_token(session=session, token=expiring, now=NOW) is None
        directory.revoke_tokens(session=session, user_id="chair", label="cli", now=NOW)
    with session_scope(engine) as session:
        assert directory.user_for_token(session=session, token=token, now=NOW) is None
        stored = [r.token_hash for r in session.exec(select(ApiTokenRow)).all()]
        assert token not in stored and directory.hash_token(token) in stored


def test_times_with_an_offset_are_stored_as_the_same_instant(
    engine: Engine, people: People
) -> None:
    from zoneinfo import ZoneInfo

    geneva = datetime(2026, 6, 17, 10, 0, tzinfo=ZoneInfo("Europe/Zurich"))
    issue, raised = Issue.raise_issue(
        RaiseIssue(issue_id="tz", title="Offsets", description="d", theme="accessibility",
                   sector="ITU-T"),
        FP, geneva,
    )  # fmt: skip
    repository.record_issue_event(engine=engine, issue=issue, event=raised, recorded_at=geneva)
    with Session(engine) as session:
        row = repository.get_issue(session=session, issue_id="tz")
    assert row is not None and row.created_at == geneva
    assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == timedelta(0)
