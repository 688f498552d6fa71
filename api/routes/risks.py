"""The risk register: risks scored before and after treatment, and what mitigates them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppStateDep, CurrentUserDep, SessionDep, WriteSessionDep
from api.errors import ApiError
from api.routes.recommendations import today
from api.schemas import AuditEntryPublic, ErrorResponse
from domain.compliance import is_overdue
from domain.errors import InvalidCommand, PermissionDenied
from domain.recommendation_terms import Acceptance, Code, Implementation, Text, Title, is_open
from domain.risks import RiskData, RiskId, RiskLevel, Scale, check_risk, level
from domain.roles import Role
from storage import directory, repository, risks
from storage.db import utc
from storage.models import RecommendationRow, RiskRow
from storage.recommendations import mitigating

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)
}
router = APIRouter(prefix="/api/v1/risks", tags=["risks"], responses=ERRORS)


class RiskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Text
    owner: Code = Field(description="the id of the user who owns the risk")
    inherent_likelihood: Scale = Field(description="1 (rare) to 5 (almost certain)")
    inherent_impact: Scale = Field(description="1 (minor) to 5 (severe)")
    residual_likelihood: Scale = Field(description="after treatment")
    residual_impact: Scale = Field(description="after treatment")
    treatment: Text = Field(description="how the risk is treated")

    def data(self) -> RiskData:
        values = self.model_dump(exclude={"id"})
        values["owner_id"] = values.pop("owner")
        return RiskData(**values)


class NewRiskBody(RiskBody):
    id: RiskId = Field(description="the register's reference, e.g. R-07")


class Mitigation(BaseModel):
    """The state of the recommendations that mitigate a risk."""

    total: int = 0
    open: int = 0
    overdue: int = 0
    acceptance: dict[Acceptance, int] = {}
    implementation: dict[Implementation, int] = {}


class RiskPublic(BaseModel):
    id: str
    title: str
    description: str
    owner: str
    inherent_likelihood: int
    inherent_impact: int
    inherent_score: int
    inherent_level: RiskLevel
    residual_likelihood: int
    residual_impact: int
    residual_score: int
    residual_level: RiskLevel
    treatment: str
    mitigation: Mitigation
    version: int
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RiskRow, mitigation: Mitigation) -> RiskPublic:
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            owner=row.owner_id,
            inherent_likelihood=row.inherent_likelihood,
            inherent_impact=row.inherent_impact,
            inherent_score=row.inherent_score,
            inherent_level=level(row.inherent_score),
            residual_likelihood=row.residual_likelihood,
            residual_impact=row.residual_impact,
            residual_score=row.residual_score,
            residual_level=level(row.residual_score),
            treatment=row.treatment,
            mitigation=mitigation,
            version=row.version,
            updated_at=utc(row.updated_at),
        )


class MitigatingRecommendation(BaseModel):
    id: str
    symbol: str
    number: int
    title: str
    owner: str
    acceptance: Acceptance
    implementation: Implementation
    progress: int
    overdue: bool


class RiskDetail(RiskPublic):
    recommendations: list[MitigatingRecommendation]
    audit_trail: list[AuditEntryPublic]


def _mitigation(rows: list[RecommendationRow], state: AppStateDep) -> Mitigation:
    day = today(state.settings.recommendations.policy)
    pairs = [(Acceptance(r.acceptance), Implementation(r.implementation)) for r in rows]
    return Mitigation(
        total=len(rows),
        open=sum(1 for a, i in pairs if is_open(a, i)),
        overdue=sum(
            1 for (a, i), r in zip(pairs, rows, strict=True) if is_overdue(a, i, r.target_date, day)
        ),
        acceptance=dict(Counter(a for a, _ in pairs)),
        implementation=dict(Counter(i for _, i in pairs)),
    )


def _editor(user: CurrentUserDep) -> None:
    if user.actor.role is not Role.SECRETARIAT:
        raise ApiError(
            403,
            "permission_denied",
            f"your role ({user.actor.role.value}) may not change the risk register; "
            "the secretariat may",
        )


def _validated(body: RiskBody, user: CurrentUserDep, session: SessionDep) -> RiskData:
    data = body.data()
    if directory.get_user(session=session, user_id=data.owner_id) is None:
        raise ApiError(422, "invalid_command", f"no user {data.owner_id!r}", field="owner")
    try:
        check_risk(data, user.actor)
    except InvalidCommand as error:
        raise ApiError(422, error.code, error.message, field=error.field) from None
    except PermissionDenied as error:
        raise ApiError(403, error.code, error.message) from None
    return data


@router.get("", response_model=list[RiskPublic])
def list_register(
    _: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    owner: Annotated[str | None, Query(max_length=64)] = None,
) -> list[RiskPublic]:
    """The register, highest residual score first, with the state of what mitigates each risk."""
    return [
        RiskPublic.from_row(row, _mitigation(mitigating(session=session, risk_id=row.id), state))
        for row in risks.list_risks(session=session, owner=owner)
    ]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RiskPublic)
def create_risk(body: NewRiskBody, user: CurrentUserDep, session: WriteSessionDep) -> RiskPublic:
    """Add a risk to the register (secretariat)."""
    _editor(user)
    if risks.get_risk(session=session, risk_id=body.id) is not None:
        raise ApiError(409, "already_exists", f"risk {body.id} is already in the register")
    data = _validated(body, user, session)
    row, _ = risks.save_risk(
        session=session, risk_id=body.id, data=data, actor=user.actor, now=datetime.now(UTC)
    )
    session.commit()
    return RiskPublic.from_row(row, Mitigation())


@router.get("/{risk_id}", response_model=RiskDetail)
def read_risk(
    risk_id: str, _: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> RiskDetail:
    """One risk, the recommendations that mitigate it (with their state), and its audit trail."""
    row = risks.get_risk(session=session, risk_id=risk_id)
    if row is None:
        raise ApiError(404, "not_found", f"no risk {risk_id!r} in the register")
    recs = mitigating(session=session, risk_id=risk_id)
    day = today(state.settings.recommendations.policy)
    return RiskDetail(
        **RiskPublic.from_row(row, _mitigation(recs, state)).model_dump(),
        recommendations=[
            MitigatingRecommendation(
                id=r.id,
                symbol=r.symbol,
                number=r.number,
                title=r.title,
                owner=r.owner_id,
                acceptance=Acceptance(r.acceptance),
                implementation=Implementation(r.implementation),
                progress=r.progress,
                overdue=is_overdue(
                    Acceptance(r.acceptance), Implementation(r.implementation), r.target_date, day
                ),
            )
            for r in recs
        ],
        audit_trail=[
            AuditEntryPublic.from_row(a)
            for a in repository.list_audit(session=session, stream=risks.stream(risk_id))
        ],
    )


@router.put("/{risk_id}", response_model=RiskPublic)
def update_risk(
    risk_id: str, body: RiskBody, user: CurrentUserDep, session: WriteSessionDep, state: AppStateDep
) -> RiskPublic:
    """Replace a risk's data and scores (secretariat); every changed field is audited."""
    if risks.get_risk(session=session, risk_id=risk_id) is None:
        raise ApiError(404, "not_found", f"no risk {risk_id!r} in the register")
    _editor(user)
    data = _validated(body, user, session)
    row, _ = risks.save_risk(
        session=session, risk_id=risk_id, data=data, actor=user.actor, now=datetime.now(UTC)
    )
    public = RiskPublic.from_row(
        row, _mitigation(mitigating(session=session, risk_id=risk_id), state)
    )
    session.commit()  # last: no transaction stays open after the handler
    return public
