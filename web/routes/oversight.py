"""Oversight recommendations: the filtered list, a recommendation's page and its commands.

Every post goes through `RecommendationCommands`, as the API's does; a form is shown only
when the domain's rights (`authorise`) and transition table (`ALLOWED_FROM`) allow it now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.recommendation_schemas import standing
from api.routes.recommendations import today
from domain.errors import PermissionDenied
from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    RecommendationCommand,
    RecordAcceptance,
    ReportProgress,
    ReturnToInProgress,
    VerifyImplementation,
)
from domain.recommendation_rules import authorise
from domain.recommendation_terms import (
    Acceptance,
    Implementation,
    SourceBody,
)
from domain.recommendations import ALLOWED_FROM
from iscflow.issue_commands import CommandRejected
from storage import directory, repository
from storage.models import RecommendationRow
from storage.recommendations import (
    RecommendationFilter,
    get_recommendation,
    list_progress,
    list_recommendations,
    risks_of,
)
from web.deps import FormUserDep, PageRefused, UserDep, WebState, WebStateDep, WebUser, set_flash
from web.i18n import _
from web.refusals import Refusal, from_rejection, from_validation, invalid
from web.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25

# Codes shown through the `label` filter (see web/labels.py).
OVERSIGHT_LABELS = (
    _("external_auditor"),
    _("imac"),
    _("jiu"),
    _("internal_audit"),
    _("executive_head"),
    _("legislative_organ"),
    _("high"),
    _("medium"),
    _("low"),
    _("under_consideration"),
    _("accepted"),
    _("partially_accepted"),
    _("not_accepted"),
    _("not_relevant"),
    _("not_started"),
    _("in_progress"),
    _("implemented"),
    _("verified"),
    _("overtaken_by_events"),
    _("not_implemented"),
    _("ProgressReported"),
    _("ImplementationClaimed"),
)

# One example of each command a page may offer: `authorise` judges the actor on its kind.
SAMPLES: dict[str, RecommendationCommand] = {
    "record_acceptance": RecordAcceptance(acceptance=Acceptance.ACCEPTED),
    "report_progress": ReportProgress(percentage=0, narrative="-"),
    "claim_implemented": ClaimImplemented(narrative="-", evidence=("https://example.org",)),
    "verify": VerifyImplementation(),
    "return_to_in_progress": ReturnToInProgress(reason="-"),
    "close": CloseRecommendation(outcome=Implementation.NOT_IMPLEMENTED, justification="-"),
}
DECISIONS = tuple(a for a in Acceptance if a is not Acceptance.UNDER_CONSIDERATION)
CLOSURES = (Implementation.OVERTAKEN_BY_EVENTS, Implementation.NOT_IMPLEMENTED)


def may(user: WebUser, row: RecommendationRow, kind: str) -> bool:
    """Whether the page offers `kind` to `user` now (the workflow checks again)."""
    try:
        authorise(row.owner_id, SAMPLES[kind], user.actor)
    except PermissionDenied:
        return False
    allowed = ALLOWED_FROM[kind]
    return (
        Acceptance(row.acceptance) in allowed.acceptance
        and Implementation(row.implementation) in allowed.implementation
    )


# -- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    source: str = ""
    acceptance: str = ""
    implementation: str = ""
    owner: str = ""
    theme: str = ""
    overdue: bool = False

    def query(self, page: int) -> str:
        values: dict[str, Any] = {k: v for k, v in vars(self).items() if v}
        if self.overdue:
            values["overdue"] = "1"
        return urlencode({**values, "page": page})


CHOICES: dict[str, frozenset[str]] = {
    "source": frozenset(SourceBody),
    "acceptance": frozenset(Acceptance),
    "implementation": frozenset(Implementation),
}


@router.get("/recommendations", response_class=HTMLResponse)
def recommendation_list(
    request: Request,
    user: UserDep,
    state: WebStateDep,
    source: str = "",
    acceptance: str = "",
    implementation: str = "",
    owner: str = "",
    theme: str = "",
    overdue: str = "",
    page: str = "1",
) -> HTMLResponse:
    filters = Filters(source, acceptance, implementation, owner[:64], theme[:64], bool(overdue))
    refusal: Refusal | None = None
    for name, allowed in CHOICES.items():
        value = getattr(filters, name)
        if value and value not in allowed:
            refusal = invalid(user.locale, form="filters", field=name, detail=f"unknown {value!r}")
    number = int(page) if page.isdecimal() and 0 < int(page) <= 100_000 else None
    if number is None:
        refusal = invalid(user.locale, form="filters", field="page", detail="a page number")
    policy = state.settings.recommendations.policy
    day = today(policy)
    rows: list[RecommendationRow] = []
    total = 0
    with Session(state.engine) as session:
        if refusal is None and number is not None:
            where = RecommendationFilter(
                source=filters.source or None,
                acceptance=filters.acceptance or None,
                implementation=filters.implementation or None,
                owner=filters.owner or None,
                theme=filters.theme or None,
                overdue_on=day if filters.overdue else None,
            )
            rows, total = list_recommendations(
                session=session, where=where, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
            )
        users = {u.id: u for u in directory.list_users(session=session)}
        themes = directory.list_themes(session=session)
    current = number or 1
    late = {
        r.id: standing(
            Acceptance(r.acceptance), Implementation(r.implementation), r.issued_on,
            r.target_date, today=day, years=policy.long_outstanding_years,
        )
        for r in rows
    }  # fmt: skip
    return render(
        request,
        "oversight/recommendations.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=user.locale.gettext("Recommendations"),
        rows=rows,
        late=late,
        total=total,
        filters=filters,
        page=current,
        pages=max(1, -(-total // PAGE_SIZE)),
        previous_query=filters.query(current - 1),
        next_query=filters.query(current + 1),
        users=users,
        themes=themes,
        sources=list(SourceBody),
        acceptances=list(Acceptance),
        implementations=list(Implementation),
        refusal=refusal,
    )


# -- one recommendation ----------------------------------------------------------------------


def _load(state: WebState, user: WebUser, recommendation_id: str) -> RecommendationRow:
    with Session(state.engine) as session:
        row = get_recommendation(session=session, recommendation_id=recommendation_id)
    if row is None:
        raise PageRefused(
            404,
            user.locale.gettext("No such recommendation"),
            user.locale.gettext("There is no recommendation with this id."),
        )
    return row


def _page(
    request: Request,
    user: WebUser,
    state: WebState,
    recommendation_id: str,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    row = _load(state, user, recommendation_id)
    policy = state.settings.recommendations.policy
    with Session(state.engine) as session:
        risks = risks_of(session=session, recommendation_id=row.id)
        progress = list_progress(session=session, recommendation_id=row.id)
        issue = (
            repository.get_issue(session=session, issue_id=row.escalation_issue_id)
            if row.escalation_issue_id
            else None
        )
        trail = repository.list_audit(session=session, stream=row.id)
        users = {u.id: u for u in directory.list_users(session=session)}
        theme = directory.get_theme(session=session, code=row.theme_code)
    late = standing(
        Acceptance(row.acceptance), Implementation(row.implementation), row.issued_on,
        row.target_date, today=today(policy), years=policy.long_outstanding_years,
    )  # fmt: skip
    return render(
        request,
        "oversight/recommendation.html",
        user=user,
        status_code=refusal.status if refusal else 200,
        title=f"{row.symbol} #{row.number}",
        rec=row,
        late=late,
        risks=risks,
        progress=progress,
        issue=issue,
        trail=trail,
        users=users,
        theme_name=theme.name if theme else row.theme_code,
        allowed={kind: may(user, row, kind) for kind in SAMPLES},
        decisions=DECISIONS,
        closures=CLOSURES,
        refusal=refusal,
        values=values or {},
    )


@router.get("/recommendations/{recommendation_id}", response_class=HTMLResponse)
def recommendation_page(
    recommendation_id: str, request: Request, user: UserDep, state: WebStateDep
) -> HTMLResponse:
    return _page(request, user, state, recommendation_id)


def _links(text: str) -> tuple[str, ...]:
    """Evidence links, one a line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


async def _command(
    request: Request,
    user: WebUser,
    state: WebState,
    recommendation_id: str,
    *,
    kind: str,
    data: dict[str, Any],
    values: dict[str, str],
    done: str,
) -> Response:
    """Build the command from the form, send it; 303 on success, else the page refused."""
    row = _load(state, user, recommendation_id)
    form = kind
    try:
        # The same check of role and ownership as the API's, before the workflow's own.
        authorise(row.owner_id, SAMPLES[kind], user.actor)
    except PermissionDenied as denied:
        refused = CommandRejected(403, "permission_denied", denied.message)
        return _page(request, user, state, row.id, values=values,
                     refusal=from_rejection(refused, user.locale, form=form))  # fmt: skip
    try:
        command = type(SAMPLES[kind]).model_validate(data)
    except ValidationError as error:
        refusal = from_validation(error, user.locale, form=form)
        return _page(request, user, state, row.id, refusal=refusal, values=values)
    try:
        await state.recommendations.send(row.id, user.actor, command)
    except CommandRejected as rejected:
        refusal = from_rejection(rejected, user.locale, form=form)
        return _page(request, user, state, row.id, refusal=refusal, values=values)
    response = RedirectResponse(f"/recommendations/{row.id}", status_code=303)
    set_flash(response, done)
    return response


@router.post("/recommendations/{recommendation_id}/acceptance", response_class=HTMLResponse)
async def record_acceptance(
    recommendation_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    acceptance: Annotated[str, Form(max_length=40)] = "",
    comment: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {"acceptance": acceptance, "comment": comment}
    data = {"acceptance": acceptance, "comment": comment.strip() or None}
    return await _command(
        request, user, state, recommendation_id, kind="record_acceptance",
        data=data, values=values, done=user.locale.gettext("Management's decision is recorded."),
    )  # fmt: skip


@router.post("/recommendations/{recommendation_id}/progress", response_class=HTMLResponse)
async def report_progress(
    recommendation_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    percentage: Annotated[str, Form(max_length=12)] = "",
    narrative: Annotated[str, Form(max_length=20_000)] = "",
    evidence: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {"percentage": percentage, "narrative": narrative, "evidence": evidence}
    data = {"percentage": percentage.strip(), "narrative": narrative, "evidence": _links(evidence)}
    return await _command(
        request, user, state, recommendation_id, kind="report_progress",
        data=data, values=values, done=user.locale.gettext("Your progress report is recorded."),
    )  # fmt: skip


@router.post("/recommendations/{recommendation_id}/implemented", response_class=HTMLResponse)
async def claim_implemented(
    recommendation_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    narrative: Annotated[str, Form(max_length=20_000)] = "",
    evidence: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {"narrative": narrative, "evidence": evidence}
    data = {"narrative": narrative, "evidence": _links(evidence)}
    done = user.locale.gettext("The implementation is claimed; an auditor will verify it.")
    return await _command(
        request, user, state, recommendation_id, kind="claim_implemented",
        data=data, values=values, done=done,
    )  # fmt: skip


@router.post("/recommendations/{recommendation_id}/closure", response_class=HTMLResponse)
async def close(
    recommendation_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    outcome: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {"outcome": outcome, "justification": justification}
    data = {"outcome": outcome, "justification": justification}
    return await _command(
        request, user, state, recommendation_id, kind="close",
        data=data, values=values, done=user.locale.gettext("The recommendation is closed."),
    )  # fmt: skip


@router.post("/recommendations/{recommendation_id}/verify", response_class=HTMLResponse)
async def verify(
    recommendation_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    note: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    done = user.locale.gettext("The implementation is verified; the recommendation is closed.")
    return await _command(
        request, user, state, recommendation_id, kind="verify",
        data={"note": note.strip() or None}, values={"note": note}, done=done,
    )  # fmt: skip


@router.post("/recommendations/{recommendation_id}/return", response_class=HTMLResponse)
async def return_to_in_progress(
    recommendation_id: str,
    request: Request,
    user: FormUserDep,
    state: WebStateDep,
    reason: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    done = user.locale.gettext("The implementation is returned to its owner, in progress.")
    return await _command(
        request, user, state, recommendation_id, kind="return_to_in_progress",
        data={"reason": reason}, values={"reason": reason}, done=done,
    )  # fmt: skip
