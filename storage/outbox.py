"""Repository functions for the outbox, recipients and single-use action links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from domain.roles import Role
from storage.models import ActionLinkUseRow, IssueRow, OutboxRow, ThemeMembershipRow, UserRow

PENDING, SENT, RETRYING, HELD, DIGESTED = "pending", "sent", "retrying", "held", "digested"


def theme_focal_points(*, session: Session, theme: str) -> list[UserRow]:
    rows = session.exec(
        select(UserRow)
        .join(ThemeMembershipRow, col(ThemeMembershipRow.user_id) == col(UserRow.id))
        .where(ThemeMembershipRow.theme_code == theme, col(UserRow.active))
        .order_by(col(UserRow.id))
    ).all()
    return list(rows)


def users_with_roles(*, session: Session, roles: Iterable[Role]) -> list[UserRow]:
    wanted = [r.value for r in roles]
    rows = session.exec(
        select(UserRow)
        .where(col(UserRow.role).in_(wanted), col(UserRow.active))
        .order_by(col(UserRow.id))
    ).all()
    return list(rows)


def outbox_ids_for_event(*, session: Session, event_key: str) -> list[int]:
    rows = session.exec(
        select(OutboxRow.id)
        .where(OutboxRow.event_key == event_key, OutboxRow.status != HELD)
        .order_by(col(OutboxRow.id))
    ).all()
    return [r for r in rows if r is not None]


def get_outbox(*, session: Session, outbox_id: int) -> OutboxRow | None:
    return session.get(OutboxRow, outbox_id)


def mark_sent(*, session: Session, outbox_id: int, now: datetime) -> None:
    row = session.get(OutboxRow, outbox_id)
    if row is not None and row.sent_at is None:
        row.sent_at, row.status = now, SENT
        row.attempts += 1
        row.last_error = None
        session.add(row)


def mark_failed(*, session: Session, outbox_id: int, error: str) -> None:
    row = session.get(OutboxRow, outbox_id)
    if row is not None and row.sent_at is None:
        row.status = RETRYING
        row.attempts += 1
        row.last_error = error[:2000]
        session.add(row)


def list_outbox(
    *, session: Session, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[OutboxRow], int]:
    query = select(OutboxRow)
    if status is not None:
        query = query.where(OutboxRow.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(OutboxRow.id).desc()).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def held_for(*, session: Session, user_id: str) -> list[OutboxRow]:
    rows = session.exec(
        select(OutboxRow)
        .where(OutboxRow.user_id == user_id, OutboxRow.status == HELD)
        .order_by(col(OutboxRow.id))
    ).all()
    return list(rows)


def claim_link(
    *, session: Session, link_id: str, user_id: str, issue_id: str, now: datetime
) -> bool:
    """Record the first use of a link; False if it was used before."""
    if session.get(ActionLinkUseRow, link_id) is not None:
        return False
    session.add(ActionLinkUseRow(link_id=link_id, user_id=user_id, issue_id=issue_id, used_at=now))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def release_link(*, session: Session, link_id: str) -> None:
    row = session.get(ActionLinkUseRow, link_id)
    if row is not None:
        session.delete(row)


def link_used(*, session: Session, link_id: str) -> bool:
    return session.get(ActionLinkUseRow, link_id) is not None


def waiting_issues(
    *,
    session: Session,
    themes: Iterable[str] = (),
    approver_levels: Iterable[int] = (),
    decider_levels: Iterable[int] = (),
) -> list[IssueRow]:
    """Issues waiting for someone: open in their themes, or at a level they approve/decide."""
    clauses = []
    themes, approve, decide = list(themes), list(approver_levels), list(decider_levels)
    if themes:
        clauses.append(and_(col(IssueRow.theme_code).in_(themes), col(IssueRow.state) == "open"))
    if approve:
        clauses.append(
            and_(
                col(IssueRow.state) == "escalation_requested",
                col(IssueRow.requested_level).in_(approve),
            )
        )
    if decide:
        clauses.append(and_(col(IssueRow.state) == "escalated", col(IssueRow.level).in_(decide)))
    if not clauses:
        return []
    rows = session.exec(
        select(IssueRow).where(or_(*clauses)).order_by(col(IssueRow.updated_at))
    ).all()
    return list(rows)


def digest_users(*, session: Session) -> list[UserRow]:
    rows = session.exec(
        select(UserRow)
        .where(UserRow.digest == "daily", col(UserRow.active))
        .order_by(col(UserRow.id))
    ).all()
    return list(rows)


def outbox_ids_for_keys(*, session: Session, keys: Iterable[str]) -> dict[str, int]:
    wanted = list(keys)
    if not wanted:
        return {}
    rows = session.exec(
        select(OutboxRow.idempotency_key, OutboxRow.id).where(
            col(OutboxRow.idempotency_key).in_(wanted)
        )
    ).all()
    return {key: oid for key, oid in rows if oid is not None}
