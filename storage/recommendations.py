"""Repository functions for recommendations: the read model, progress, links to risks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, func, select

from domain.audit import AuditContent
from domain.recommendation_terms import (
    ACCEPTING,
    OPEN_ACCEPTANCE,
    OPEN_IMPLEMENTATION,
    UNDER_WAY,
    Acceptance,
    Addressee,
    Implementation,
    Priority,
    RecordData,
    SourceBody,
)
from domain.recommendations import Recommendation, RecommendationEvent
from storage import audit, repository
from storage.models import (
    ProgressUpdateRow,
    RecommendationRiskRow,
    RecommendationRow,
    RiskRow,
    ThemeMembershipRow,
    ThemeRow,
    UserRow,
)

PROGRESS_EVENTS = frozenset({"ProgressReported", "ImplementationClaimed"})


def _values(rec: Recommendation) -> dict[str, object]:
    record = rec.record
    return {
        "source": rec.source.value,
        "symbol": rec.symbol,
        "number": rec.number,
        "report_year": record.report_year,
        "issued_on": record.issued_on,
        "title": record.title,
        "text": record.text,
        "addressee": record.addressee.value,
        "owner_id": record.owner_id,
        "theme_code": record.theme,
        "priority": record.priority.value,
        "target_date": record.target_date,
        "acceptance": rec.acceptance.value,
        "implementation": rec.implementation.value,
        "progress": rec.progress,
        "acceptance_comment": rec.acceptance_comment,
        "closure_justification": rec.closure_justification,
        "verification_note": rec.verification_note,
        "return_reason": rec.return_reason,
        "escalation_issue_id": rec.escalation_issue_id,
        "long_outstanding_at": rec.long_outstanding_at,
        "version": rec.version,
        "created_at": rec.created_at,
        "updated_at": rec.updated_at,
    }


def audit_content(event: RecommendationEvent) -> AuditContent:
    return AuditContent(
        stream=event.stream,
        sequence=event.sequence,
        idempotency_key=event.key,
        entity_type="recommendation",
        entity_id=event.recommendation_id,
        action=event.name,
        actor_id=event.actor_id,
        actor_role=event.actor_role.value,
        from_state=event.from_state,
        to_state=event.to_state,
        payload={"axis": event.axis, **event.model_dump(mode="json")["data"]},
        occurred_at=event.at,
    )


def apply_recommendation_event(
    *, session: Session, rec: Recommendation, event: RecommendationEvent, recorded_at: datetime
) -> bool:
    """Write the read model, links, progress and the audit row; False if already done."""
    # Concurrent attempts at the same event queue on the stream's head; the check follows.
    audit.lock_stream(session, event.stream)
    if repository.audit_exists(session=session, key=event.key):
        return False
    row = session.get(RecommendationRow, rec.id)
    if row is None:
        session.add(RecommendationRow(id=rec.id, **_values(rec)))  # type: ignore[arg-type]
        session.flush()  # links and progress below refer to this row
        _replace_links(session, rec)
    elif row.version < rec.version:
        for name, value in _values(rec).items():
            setattr(row, name, value)
        session.add(row)
        _replace_links(session, rec)
    if event.name in PROGRESS_EVENTS:
        session.add(
            ProgressUpdateRow(
                id=event.key,
                recommendation_id=rec.id,
                kind=event.name,
                percentage=int(event.data["percentage"]),
                narrative=str(event.data["narrative"]),
                evidence=list(event.data.get("evidence", [])),
                actor_id=event.actor_id,
                created_at=event.at,
            )
        )
    audit.append(session=session, content=audit_content(event), recorded_at=recorded_at)
    return True


def _replace_links(session: Session, rec: Recommendation) -> None:
    """Link the risks the record names; an id missing from the register is not linked."""
    wanted = set(existing_risk_ids(session=session, ids=rec.record.risk_ids))
    current = {
        link.risk_id: link
        for link in session.exec(
            select(RecommendationRiskRow).where(RecommendationRiskRow.recommendation_id == rec.id)
        )
    }
    for risk_id, link in current.items():
        if risk_id not in wanted:
            session.delete(link)
    for risk_id in sorted(wanted - set(current)):
        session.add(RecommendationRiskRow(recommendation_id=rec.id, risk_id=risk_id))


def existing_risk_ids(*, session: Session, ids: Sequence[str]) -> list[str]:
    if not ids:
        return []
    rows = session.exec(select(RiskRow.id).where(col(RiskRow.id).in_(list(ids)))).all()
    return sorted(rows)


def get_recommendation(*, session: Session, recommendation_id: str) -> RecommendationRow | None:
    return session.get(RecommendationRow, recommendation_id)


@dataclass(frozen=True)
class RecommendationFilter:
    """Filters shared by the list, its export and the dashboard (None: any)."""

    source: str | None = None
    year: int | None = None
    theme: str | None = None
    priority: str | None = None
    owner: str | None = None
    acceptance: str | None = None
    implementation: str | None = None
    overdue_on: date | None = None  # only those overdue on this day


def conditions(where: RecommendationFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses that select what `where` asks for."""
    columns = {
        "source": RecommendationRow.source,
        "year": RecommendationRow.report_year,
        "theme": RecommendationRow.theme_code,
        "priority": RecommendationRow.priority,
        "owner": RecommendationRow.owner_id,
        "acceptance": RecommendationRow.acceptance,
        "implementation": RecommendationRow.implementation,
    }
    clauses = [
        col(column) == getattr(where, name)
        for name, column in columns.items()
        if getattr(where, name) is not None
    ]
    if where.overdue_on is not None:
        clauses.append(overdue_clause(where.overdue_on))
    return clauses


def overdue_clause(as_of: date) -> ColumnElement[bool]:
    """Accepted, not yet implemented, and the target date is before `as_of`."""
    return and_(
        col(RecommendationRow.acceptance).in_([a.value for a in ACCEPTING]),
        col(RecommendationRow.implementation).in_([i.value for i in UNDER_WAY]),
        col(RecommendationRow.target_date) < as_of,
    )


def open_clause() -> ColumnElement[bool]:
    """Under consideration, or accepted and neither verified nor closed."""
    return and_(
        col(RecommendationRow.acceptance).in_([a.value for a in OPEN_ACCEPTANCE]),
        col(RecommendationRow.implementation).in_([i.value for i in OPEN_IMPLEMENTATION]),
    )


def list_recommendations(
    *, session: Session, where: RecommendationFilter, limit: int = 50, offset: int = 0
) -> tuple[list[RecommendationRow], int]:
    """Recommendations matching `where`, by source, symbol and number, and the total count."""
    query = select(RecommendationRow).where(*conditions(where))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    ordered = query.order_by(
        col(RecommendationRow.source), col(RecommendationRow.symbol), col(RecommendationRow.number)
    )
    rows = session.exec(ordered.limit(limit).offset(offset)).all()
    return list(rows), int(total)


def list_progress(*, session: Session, recommendation_id: str) -> list[ProgressUpdateRow]:
    rows = session.exec(
        select(ProgressUpdateRow)
        .where(ProgressUpdateRow.recommendation_id == recommendation_id)
        .order_by(col(ProgressUpdateRow.created_at), col(ProgressUpdateRow.id))
    ).all()
    return list(rows)


def risks_of(*, session: Session, recommendation_id: str) -> list[RiskRow]:
    """The risks a recommendation mitigates, by id."""
    rows = session.exec(
        select(RiskRow)
        .join(RecommendationRiskRow, col(RecommendationRiskRow.risk_id) == col(RiskRow.id))
        .where(RecommendationRiskRow.recommendation_id == recommendation_id)
        .order_by(col(RiskRow.id))
    ).all()
    return list(rows)


def risk_ids_by_recommendation(*, session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """For each recommendation id, the risks it is linked to (in id order)."""
    result: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return result
    links = session.exec(
        select(RecommendationRiskRow)
        .where(col(RecommendationRiskRow.recommendation_id).in_(list(ids)))
        .order_by(col(RecommendationRiskRow.risk_id))
    ).all()
    for link in links:
        result[link.recommendation_id].append(link.risk_id)
    return result


def mitigating(*, session: Session, risk_id: str) -> list[RecommendationRow]:
    """The recommendations linked to a risk."""
    rows = session.exec(
        select(RecommendationRow)
        .join(
            RecommendationRiskRow,
            col(RecommendationRiskRow.recommendation_id) == col(RecommendationRow.id),
        )
        .where(RecommendationRiskRow.risk_id == risk_id)
        .order_by(col(RecommendationRow.id))
    ).all()
    return list(rows)


@dataclass(frozen=True)
class References:
    """What records may refer to: themes, users (role and themes), risks of the register."""

    themes: frozenset[str]
    roles: dict[str, str]  # active users' roles, by id
    user_themes: dict[str, frozenset[str]]
    risks: frozenset[str]


def load_references(*, session: Session) -> References:
    """A snapshot of the directory and the register, to validate many records at once."""
    themes = frozenset(session.exec(select(ThemeRow.code)).all())
    users = session.exec(select(UserRow.id, UserRow.role).where(col(UserRow.active))).all()
    memberships: dict[str, set[str]] = {}
    for user_id, theme in session.exec(
        select(ThemeMembershipRow.user_id, ThemeMembershipRow.theme_code)
    ).all():
        memberships.setdefault(user_id, set()).add(theme)
    return References(
        themes=themes,
        roles=dict(users),
        user_themes={u: frozenset(t) for u, t in memberships.items()},
        risks=frozenset(session.exec(select(RiskRow.id)).all()),
    )


def record_data(row: RecommendationRow, risk_ids: Sequence[str]) -> RecordData:
    """The record as the domain holds it, rebuilt from its row and its risk links."""
    return RecordData(
        issued_on=row.issued_on,
        title=row.title,
        text=row.text,
        addressee=Addressee(row.addressee),
        owner_id=row.owner_id,
        theme=row.theme_code,
        priority=Priority(row.priority),
        target_date=row.target_date,
        risk_ids=tuple(risk_ids),
    )


@dataclass(frozen=True)
class CurrentRecord:
    key: tuple[SourceBody, str, int]  # source, symbol, number
    record: RecordData
    states: tuple[Acceptance, Implementation, int]  # acceptance, implementation, progress


def current_record(*, session: Session, recommendation_id: str) -> CurrentRecord | None:
    """What is stored about a recommendation, in the domain's terms (None if unknown)."""
    row = session.get(RecommendationRow, recommendation_id)
    if row is None:
        return None
    links = risk_ids_by_recommendation(session=session, ids=[row.id])[row.id]
    return CurrentRecord(
        key=(SourceBody(row.source), row.symbol, row.number),
        record=record_data(row, links),
        states=(Acceptance(row.acceptance), Implementation(row.implementation), row.progress),
    )
