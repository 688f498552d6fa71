"""The risk register: risks scored before and after treatment, and what mitigates them.

Kept apart from the recommendation pages (`oversight.py`) only for size; both share the
oversight catalog. Edits follow the API's rules: the secretariat keeps the register
(`check_risk`), an owner must be a known user, and every change is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from api.recommendation_schemas import standing
from api.routes.recommendations import today
from domain.errors import InvalidCommand, PermissionDenied
from domain.recommendation_terms import Acceptance, Implementation, is_open
from domain.risks import RiskData, RiskId, RiskLevel, check_risk, level
from domain.roles import Role
from storage import directory, repository, risks
from storage.db import session_scope
from storage.models import RecommendationRow, RiskRow
from storage.recommendations import mitigating
from web.deps import FormUserDep, PageRefused, UserDep, WebState, WebStateDep, WebUser, set_flash
from web.i18n import _
from web.refusals import Refusal, forbidden, from_validation, invalid
from web.rendering import render

router = APIRouter(include_in_schema=False)

# Codes shown through the `label` filter (see web/labels.py); the others are in oversight.py.
RISK_LABELS = (_("low"), _("medium"), _("high"), _("critical"))
SCALE = (1, 2, 3, 4, 5)
FIELDS = ("title", "description", "owner", "inherent_likelihood", "inherent_impact",
          "residual_likelihood", "residual_impact", "treatment")  # fmt: skip
RISK_ID = TypeAdapter(RiskId)


def may_edit(user: WebUser) -> bool:
    """The secretariat keeps the register (`check_risk`)."""
    return user.role is Role.SECRETARIAT


@dataclass(frozen=True)
class Mitigation:
    total: int
    open: int
    overdue: int
    implementation: dict[str, int]


def _mitigation(rows: list[RecommendationRow], day: date, years: int) -> Mitigation:
    late = [
        standing(Acceptance(r.acceptance), Implementation(r.implementation), r.issued_on,
                 r.target_date, today=day, years=years).overdue
        for r in rows
    ]  # fmt: skip
    return Mitigation(
        total=len(rows),
        open=sum(
            1 for r in rows if is_open(Acceptance(r.acceptance), Implementation(r.implementation))
        ),
        overdue=sum(late),
        implementation=dict(Counter(r.implementation for r in rows)),
    )


def _levels(row: RiskRow) -> tuple[RiskLevel, RiskLevel]:
    return level(row.inherent_score), level(row.residual_score)


def _register_page(
    request: Request,
    user: WebUser,
    state: WebState,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    policy = state.settings.recommendations.policy
    day = today(policy)
    with Session(state.engine) as session:
        rows = risks.list_risks(session=session)
        mitigation = {
            r.id: _mitigation(
                mitigating(session=session, risk_id=r.id), day, policy.long_outstanding_years
            )
            for r in rows
        }
        users = {u.id: u for u in directory.list_users(session=session)}
    return render(
        request,
        "oversight/risks.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=user.locale.gettext("Risk register"),
        rows=rows,
        levels={r.id: _levels(r) for r in rows},
        mitigation=mitigation,
        users=users,
        may_edit=may_edit(user),
        scale=SCALE,
        refusal=refusal,
        values=values or {},
    )


@router.get("/risks", response_class=HTMLResponse)
def register(request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    return _register_page(request, user, state)


def _risk_page(
    request: Request,
    user: WebUser,
    state: WebState,
    risk_id: str,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    policy = state.settings.recommendations.policy
    day = today(policy)
    with Session(state.engine) as session:
        row = risks.get_risk(session=session, risk_id=risk_id)
        if row is None:
            raise PageRefused(
                404,
                user.locale.gettext("No such risk"),
                user.locale.gettext("There is no risk with this id in the register."),
            )
        recs = mitigating(session=session, risk_id=risk_id)
        trail = repository.list_audit(session=session, stream=risks.stream(risk_id))
        users = {u.id: u for u in directory.list_users(session=session)}
    late = {
        r.id: standing(Acceptance(r.acceptance), Implementation(r.implementation), r.issued_on,
                       r.target_date, today=day, years=policy.long_outstanding_years)
        for r in recs
    }  # fmt: skip
    current = {name: str(getattr(row, name)) for name in FIELDS if name != "owner"}
    current["owner"] = row.owner_id
    return render(
        request,
        "oversight/risk.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=f"{row.id}: {row.title}",
        risk=row,
        levels=_levels(row),
        recs=recs,
        late=late,
        mitigation=_mitigation(recs, day, policy.long_outstanding_years),
        trail=trail,
        users=users,
        may_edit=may_edit(user),
        scale=SCALE,
        refusal=refusal,
        values=values or current,
    )


@router.get("/risks/{risk_id}", response_class=HTMLResponse)
def risk_page(risk_id: str, request: Request, user: UserDep, state: WebStateDep) -> HTMLResponse:
    return _risk_page(request, user, state, risk_id)


def _checked(
    user: WebUser, state: WebState, values: dict[str, str], form: str
) -> RiskData | Refusal:
    """The form's risk as the register would keep it, or why it is refused."""
    if not may_edit(user):
        return forbidden(user.locale, "only the secretariat keeps the risk register")
    try:
        data = RiskData.model_validate(
            {("owner_id" if k == "owner" else k): v for k, v in values.items() if k in FIELDS}
        )
    except ValidationError as error:
        return from_validation(error, user.locale, form=form, fields={"owner_id": "owner"})
    with Session(state.engine) as session:
        if directory.get_user(session=session, user_id=data.owner_id) is None:
            detail = f"no user {data.owner_id!r}"
            return invalid(user.locale, form=form, field="owner", detail=detail)
    try:
        check_risk(data, user.actor)
    except InvalidCommand as error:
        return invalid(user.locale, form=form, field=error.field, detail=error.message)
    except PermissionDenied as error:
        return forbidden(user.locale, error.message)
    return data


def _save(state: WebState, user: WebUser, risk_id: str, data: RiskData) -> None:
    with session_scope(state.engine) as session:
        risks.save_risk(
            session=session, risk_id=risk_id, data=data, actor=user.actor, now=datetime.now(UTC)
        )


Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=400)]


@router.post("/risks", response_class=HTMLResponse)
def add_risk(
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    new_id: Annotated[str, Form(alias="id", max_length=400)] = "",
    title: Short = "",
    description: Text = "",
    owner: Short = "",
    inherent_likelihood: Short = "",
    inherent_impact: Short = "",
    residual_likelihood: Short = "",
    residual_impact: Short = "",
    treatment: Text = "",
) -> Response:
    """Add a risk to the register (secretariat)."""
    values = {"id": new_id, "title": title, "description": description, "owner": owner,
              "inherent_likelihood": inherent_likelihood, "inherent_impact": inherent_impact,
              "residual_likelihood": residual_likelihood, "residual_impact": residual_impact,
              "treatment": treatment}  # fmt: skip
    form = "new-risk"
    checked = _checked(user, state, values, form)
    if isinstance(checked, Refusal):
        return _register_page(request, user, state, refusal=checked, values=values)
    try:
        risk_id = RISK_ID.validate_python(new_id)
    except ValidationError:
        refusal = invalid(user.locale, form=form, field="id", detail="letters, digits, . _ -")
        return _register_page(request, user, state, refusal=refusal, values=values)
    with Session(state.engine) as session:
        exists = risks.get_risk(session=session, risk_id=risk_id) is not None
    if exists:
        refusal = invalid(user.locale, form=form, field="id", detail=f"{risk_id} exists")
        return _register_page(request, user, state, refusal=refusal, values=values)
    _save(state, user, risk_id, checked)
    response = RedirectResponse(f"/risks/{risk_id}", status_code=303)
    set_flash(response, user.locale.gettext("The risk is in the register."))
    return response


@router.post("/risks/{risk_id}", response_class=HTMLResponse)
def update_risk(
    risk_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    title: Short = "",
    description: Text = "",
    owner: Short = "",
    inherent_likelihood: Short = "",
    inherent_impact: Short = "",
    residual_likelihood: Short = "",
    residual_impact: Short = "",
    treatment: Text = "",
) -> Response:
    """Change a risk's data and scores (secretariat); every changed field is audited."""
    values = {"title": title, "description": description, "owner": owner,
              "inherent_likelihood": inherent_likelihood, "inherent_impact": inherent_impact,
              "residual_likelihood": residual_likelihood, "residual_impact": residual_impact,
              "treatment": treatment}  # fmt: skip
    with Session(state.engine) as session:
        known = risks.get_risk(session=session, risk_id=risk_id) is not None
    if not known:
        return _risk_page(request, user, state, risk_id)  # answers 404
    checked = _checked(user, state, values, "edit-risk")
    if isinstance(checked, Refusal):
        return _risk_page(request, user, state, risk_id, refusal=checked, values=values)
    _save(state, user, risk_id, checked)
    response = RedirectResponse(f"/risks/{risk_id}", status_code=303)
    set_flash(response, user.locale.gettext("The risk is updated."))
    return response
