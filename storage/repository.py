"""Repository functions for issues, comments and the audit trail. All SQL lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from domain.audit import AuditContent
from domain.issues import Issue, IssueEvent
from storage import audit
from storage.db import session_scope
from storage.models import AuditEventRow, CommentRow, IssueRow


def _issue_values(issue: Issue) -> dict[str, object]:
    return {
        "title": issue.title,
        "description": issue.description,
        "theme_code": issue.theme,
        "sector_code": issue.sector,
        "author_id": issue.author_id,
        "state": issue.state.value,
        "level": issue.level,
        "requested_level": issue.requested_level,
        "discussion_deadline": issue.discussion_deadline,
        "resolution": issue.resolution,
        "decision": issue.decision,
        "decision_outcome": issue.decision_outcome.value if issue.decision_outcome else None,
        "origin": issue.origin,
        "version": issue.version,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
    }


def audit_content(event: IssueEvent) -> AuditContent:
    return AuditContent(
        stream=event.stream,
        sequence=event.sequence,
        idempotency_key=event.key,
        entity_type="issue",
        entity_id=event.issue_id,
        action=event.name,
        actor_id=event.actor_id,
        actor_role=event.actor_role.value,
        from_state=event.from_state.value if event.from_state else None,
        to_state=event.to_state.value,
        payload=event.model_dump(mode="json")["data"],
        occurred_at=event.at,
    )


def audit_exists(*, session: Session, key: str) -> bool:
    found = session.exec(
        select(AuditEventRow.id).where(AuditEventRow.idempotency_key == key)
    ).first()
    return found is not None


def apply_issue_event(
    *, session: Session, issue: Issue, event: IssueEvent, recorded_at: datetime
) -> bool:
    """Write the read model, the comment (if any) and the audit row; False if already done."""
    # Concurrent attempts at the same event queue on the stream's head; the check follows.
    audit.lock_stream(session, event.stream)
    if audit_exists(session=session, key=event.key):
        return False
    row = session.get(IssueRow, issue.id)
    if row is None:
        session.add(IssueRow(id=issue.id, **_issue_values(issue)))  # type: ignore[arg-type]
        session.flush()  # the comment below refers to this row
    elif row.version < issue.version:
        for name, value in _issue_values(issue).items():
            setattr(row, name, value)
        session.add(row)
    if event.name == "CommentAdded":
        session.add(
            CommentRow(
                id=event.key,
                issue_id=issue.id,
                author_id=event.actor_id,
                author_role=event.actor_role.value,
                body=str(event.data["body"]),
                created_at=event.at,
            )
        )
    audit.append(session=session, content=audit_content(event), recorded_at=recorded_at)
    return True


def record_issue_event(
    *, engine: Engine, issue: Issue, event: IssueEvent, recorded_at: datetime
) -> bool:
    """One transaction per event, idempotent on the event's key (safe to retry)."""
    try:
        with session_scope(engine) as session:
            return apply_issue_event(
                session=session, issue=issue, event=event, recorded_at=recorded_at
            )
    except IntegrityError:
        # A concurrent attempt at the same event committed first; re-check to be sure.
        with session_scope(engine) as session:
            if audit_exists(session=session, key=event.key):
                return False
        raise


def get_issue(*, session: Session, issue_id: str) -> IssueRow | None:
    return session.get(IssueRow, issue_id)


def list_issues(
    *,
    session: Session,
    theme: str | None = None,
    state: str | None = None,
    author_id: str | None = None,
    themes_any: Sequence[str] | None = None,
    sector: str | None = None,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[IssueRow], int]:
    """Issues matching the filters, newest activity first, and the total count.

    `text` matches a part of the title or the description, ignoring case (on SQLite, the
    case of ASCII letters only).
    """
    query = select(IssueRow)
    if theme is not None:
        query = query.where(IssueRow.theme_code == theme)
    if state is not None:
        query = query.where(IssueRow.state == state)
    if author_id is not None:
        query = query.where(IssueRow.author_id == author_id)
    if themes_any is not None:
        query = query.where(col(IssueRow.theme_code).in_(list(themes_any)))
    if sector is not None:
        query = query.where(IssueRow.sector_code == sector)
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        query = query.where(
            or_(
                func.lower(col(IssueRow.title)).like(pattern, escape="\\"),
                func.lower(col(IssueRow.description)).like(pattern, escape="\\"),
            )
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(IssueRow.updated_at).desc(), col(IssueRow.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_comments(*, session: Session, issue_id: str) -> list[CommentRow]:
    rows = session.exec(
        select(CommentRow)
        .where(CommentRow.issue_id == issue_id)
        .order_by(col(CommentRow.created_at), col(CommentRow.id))
    ).all()
    return list(rows)


def list_audit(*, session: Session, stream: str) -> list[AuditEventRow]:
    rows = session.exec(
        select(AuditEventRow)
        .where(AuditEventRow.stream == stream)
        .order_by(col(AuditEventRow.sequence))
    ).all()
    return list(rows)


def count_audit(*, session: Session, stream_prefix: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEventRow)
    if stream_prefix is not None:
        query = query.where(col(AuditEventRow.stream).startswith(stream_prefix))
    return int(session.exec(query).one())


def issues_due(
    *, session: Session, themes: Sequence[str], before: datetime, limit: int = 50
) -> list[IssueRow]:
    """Open issues of `themes` whose discussion deadline falls before `before`, soonest first."""
    rows = session.exec(
        select(IssueRow)
        .where(
            IssueRow.state == "open",
            col(IssueRow.theme_code).in_(list(themes)),
            col(IssueRow.discussion_deadline) <= before,
        )
        .order_by(col(IssueRow.discussion_deadline), col(IssueRow.id))
        .limit(limit)
    ).all()
    return list(rows)


# Steps that send an issue back to its focal points.
RETURNS = ("EscalationReturned", "DecisionRecorded")


def returned_issues(
    *, session: Session, themes: Sequence[str], limit: int = 50
) -> list[tuple[IssueRow, AuditEventRow]]:
    """Open issues of `themes` that were sent back to the focal points, with the last return."""
    last_return = (
        select(
            AuditEventRow.entity_id,
            func.max(AuditEventRow.sequence).label("sequence"),
        )
        .where(
            AuditEventRow.entity_type == "issue",
            col(AuditEventRow.action).in_(RETURNS),
            AuditEventRow.to_state == "open",
        )
        .group_by(col(AuditEventRow.entity_id))
        .subquery()
    )
    rows = session.exec(
        select(IssueRow, AuditEventRow)
        .join(last_return, col(last_return.c.entity_id) == col(IssueRow.id))
        .join(
            AuditEventRow,
            (col(AuditEventRow.entity_id) == col(IssueRow.id))
            & (col(AuditEventRow.entity_type) == "issue")
            & (col(AuditEventRow.sequence) == col(last_return.c.sequence)),
        )
        .where(IssueRow.state == "open", col(IssueRow.theme_code).in_(list(themes)))
        .order_by(col(AuditEventRow.occurred_at).desc(), col(IssueRow.id))
        .limit(limit)
    ).all()
    return [(issue, event) for issue, event in rows]


def recent_audit(*, session: Session, stream_prefix: str, limit: int = 20) -> list[AuditEventRow]:
    """The latest audit rows of the streams starting with `stream_prefix`, newest first."""
    rows = session.exec(
        select(AuditEventRow)
        .where(col(AuditEventRow.stream).startswith(stream_prefix))
        .order_by(col(AuditEventRow.occurred_at).desc(), col(AuditEventRow.id).desc())
        .limit(limit)
    ).all()
    return list(rows)


def pending_requests(
    *, session: Session, levels: Sequence[int], limit: int = 100
) -> list[IssueRow]:
    """Issues whose escalation request to one of `levels` waits for an answer, oldest first."""
    rows = session.exec(
        select(IssueRow)
        .where(
            IssueRow.state == "escalation_requested",
            col(IssueRow.requested_level).in_(list(levels)),
        )
        .order_by(col(IssueRow.updated_at), col(IssueRow.id))
        .limit(limit)
    ).all()
    return list(rows)


def escalated_issues(
    *, session: Session, levels: Sequence[int], limit: int = 100
) -> list[IssueRow]:
    """Issues escalated to one of `levels` and not decided yet, oldest first."""
    rows = session.exec(
        select(IssueRow)
        .where(IssueRow.state == "escalated", col(IssueRow.level).in_(list(levels)))
        .order_by(col(IssueRow.updated_at), col(IssueRow.id))
        .limit(limit)
    ).all()
    return list(rows)
