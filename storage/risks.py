"""Repository functions for the risk register; every change is audited (stream `risk-<id>`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from domain.risks import RiskData, changes
from domain.roles import Actor
from storage import audit
from storage.models import RiskRow


class Saved(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def stream(risk_id: str) -> str:
    return f"risk-{risk_id}"


def data_of(row: RiskRow) -> RiskData:
    """The register's data of a row."""
    return RiskData(
        title=row.title,
        description=row.description,
        owner_id=row.owner_id,
        inherent_likelihood=row.inherent_likelihood,
        inherent_impact=row.inherent_impact,
        residual_likelihood=row.residual_likelihood,
        residual_impact=row.residual_impact,
        treatment=row.treatment,
    )


def _write(row: RiskRow, data: RiskData) -> None:
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    row.inherent_score, row.residual_score = data.inherent_score, data.residual_score


def save_risk(
    *, session: Session, risk_id: str, data: RiskData, actor: Actor, now: datetime
) -> tuple[RiskRow, Saved]:
    """Create or replace a risk, audited as RiskRecorded or RiskUpdated; unchanged: no row."""
    audit.lock_stream(session, stream(risk_id))  # one writer per risk at a time
    row = session.get(RiskRow, risk_id)
    if row is None:
        row = RiskRow(
            id=risk_id,
            version=1,
            created_at=now,
            updated_at=now,
            inherent_score=data.inherent_score,
            residual_score=data.residual_score,
            **data.model_dump(),
        )
        session.add(row)
        session.flush()
        _audit(session, row, "RiskRecorded", actor, now, {"risk": _payload(data)})
        return row, Saved.CREATED
    diff = changes(data_of(row), data)
    if not diff:
        return row, Saved.UNCHANGED
    _write(row, data)
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    _audit(session, row, "RiskUpdated", actor, now, {"changes": diff})
    return row, Saved.UPDATED


def _payload(data: RiskData) -> dict[str, object]:
    return {
        **data.model_dump(),
        "inherent_score": data.inherent_score,
        "residual_score": data.residual_score,
    }


def _audit(
    session: Session,
    row: RiskRow,
    action: str,
    actor: Actor,
    now: datetime,
    payload: dict[str, object],
) -> None:
    audit.record(
        session=session,
        stream=stream(row.id),
        entity_type="risk",
        entity_id=row.id,
        action=action,
        actor_id=actor.id,
        actor_role=actor.role.value,
        payload=payload,
        now=now,
    )


def get_risk(*, session: Session, risk_id: str) -> RiskRow | None:
    return session.get(RiskRow, risk_id)


def list_risks(*, session: Session, owner: str | None = None) -> list[RiskRow]:
    """The register, highest residual score first."""
    query = select(RiskRow)
    if owner is not None:
        query = query.where(RiskRow.owner_id == owner)
    rows = session.exec(query.order_by(col(RiskRow.residual_score).desc(), col(RiskRow.id))).all()
    return list(rows)
