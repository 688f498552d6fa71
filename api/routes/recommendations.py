"""Recommendation endpoints: record, list, export, import, read, and one per command."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import AppStateDep, CurrentUserDep, SessionDep
from api.errors import ApiError
from api.recommendation_schemas import (
    AcceptanceBody,
    ClosureBody,
    CreateRecommendationBody,
    ImplementedBody,
    LinkedIssue,
    ProgressBody,
    ProgressPublic,
    RecommendationDetail,
    RecommendationList,
    RecommendationPublic,
    RecordBody,
    ReturnBody,
    RiskSummary,
    VerifyBody,
)
from api.schemas import AuditEntryPublic, ErrorResponse
from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    RecommendationCommand,
    RecordAcceptance,
    ReportProgress,
    ReturnToInProgress,
    UpdateRecord,
    VerifyImplementation,
)
from domain.recommendation_policy import RecommendationPolicy
from domain.recommendation_terms import (
    Acceptance,
    Implementation,
    Priority,
    RecordData,
    SourceBody,
)
from domain.recommendations import Recommendation
from domain.roles import Role
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.recommendation_export import recommendation_rows, render
from iscflow.recommendation_import import (
    Importer,
    ImportReport,
    check_references,
    parse_rows,
)
from iscflow.tables import MEDIA_TYPES, TableError, TableFormat, format_of, read_table
from storage import repository
from storage.models import RecommendationRow
from storage.recommendations import (
    RecommendationFilter,
    get_recommendation,
    list_progress,
    list_recommendations,
    load_references,
    risk_ids_by_recommendation,
    risks_of,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 503)
}
# Imports read the whole file into memory: refuse what no register of recommendations needs.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
EXPORT_LIMIT = 100_000

router = APIRouter(prefix="/api/v1/recommendations", tags=["recommendations"], responses=ERRORS)


def get_commands(request: Request) -> RecommendationCommands:
    commands: RecommendationCommands = request.app.state.recommendations
    return commands


CommandsDep = Annotated[RecommendationCommands, Depends(get_commands)]


def today(policy: RecommendationPolicy) -> date:
    """Today in the business calendar's time zone (Geneva)."""
    return datetime.now(ZoneInfo(policy.calendar.timezone)).date()


def _policy(state: AppStateDep) -> RecommendationPolicy:
    return state.settings.recommendations.policy


def _public(rec: Recommendation, state: AppStateDep) -> RecommendationPublic:
    policy = _policy(state)
    return RecommendationPublic.from_rec(
        rec, today=today(policy), years=policy.long_outstanding_years
    )


def _secretariat(user: CurrentUserDep, what: str) -> None:
    if user.actor.role is not Role.SECRETARIAT:
        raise ApiError(
            403,
            "permission_denied",
            f"your role ({user.actor.role.value}) may not {what}; the secretariat may",
        )


def _load(session: SessionDep, recommendation_id: str) -> RecommendationRow:
    row = get_recommendation(session=session, recommendation_id=recommendation_id)
    if row is None:
        raise ApiError(404, "not_found", f"no recommendation with id '{recommendation_id}'")
    return row


def _check_references(session: SessionDep, record: RecordData) -> None:
    problems = check_references(record, load_references(session=session))
    if problems:
        field, message = problems[0]
        raise ApiError(422, "invalid_command", message, field=field)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RecommendationPublic)
async def create_recommendation(
    body: CreateRecommendationBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Record a recommendation (secretariat); sending the same one again returns it as it is."""
    _secretariat(user, "record recommendations")
    command = body.command()
    await run_in_threadpool(_check_references, session, command.record)
    session.close()  # release the connection while the workflow works
    return _public(await commands.create(user.actor, command), state)


@router.get("", response_model=RecommendationList)
def list_all(
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    source: SourceBody | None = None,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="of the report")] = None,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    priority: Priority | None = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    acceptance: Acceptance | None = None,
    implementation: Implementation | None = None,
    overdue: Annotated[bool, Query(description="only those overdue today")] = False,
    mine: Annotated[bool, Query(description="only those you own")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> RecommendationList:
    """Recommendations by source, symbol and number, filtered."""
    policy = _policy(state)
    where = RecommendationFilter(
        source=source.value if source else None,
        year=year,
        theme=theme,
        priority=priority.value if priority else None,
        owner=user.actor.id if mine else owner,
        acceptance=acceptance.value if acceptance else None,
        implementation=implementation.value if implementation else None,
        overdue_on=today(policy) if overdue else None,
    )
    rows, total = list_recommendations(session=session, where=where, limit=limit, offset=offset)
    risks = risk_ids_by_recommendation(session=session, ids=[r.id for r in rows])
    day, years = today(policy), policy.long_outstanding_years
    items = [RecommendationPublic.from_row(r, risks[r.id], today=day, years=years) for r in rows]
    return RecommendationList(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/export.{fmt}",
    response_class=Response,
    responses={200: {"content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()}}},
)
def export(
    fmt: TableFormat,
    _: CurrentUserDep,
    session: SessionDep,
    source: SourceBody | None = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The recommendations in the import's columns, as CSV or Excel (edit and import again)."""
    where = RecommendationFilter(
        source=source.value if source else None, year=year, theme=theme, owner=owner
    )
    rows, _total = list_recommendations(session=session, where=where, limit=EXPORT_LIMIT)
    risks = risk_ids_by_recommendation(session=session, ids=[r.id for r in rows])
    header, body = recommendation_rows(rows, risks)
    content = render(header, body, fmt, sheet="Recommendations")
    disposition = f"attachment; filename=iscflow-recommendations.{fmt.value}"
    return Response(
        content, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
    )


@router.post("/import", response_model=ImportReport, responses={413: {"model": ErrorResponse}})
async def import_file(
    file: UploadFile,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
    dry_run: Annotated[bool, Query(description="validate and report only")] = False,
) -> ImportReport:
    """Import a CSV or XLSX file (secretariat): each invalid row is reported, the rest applied."""
    _secretariat(user, "import recommendations")
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", "the file is larger than 10 MB; split it")
    try:
        table = read_table(content, format_of(file.filename or ""))
        references = await run_in_threadpool(lambda: load_references(session=session))
        parsed, errors = parse_rows(table, references, user.actor)
    except TableError as error:
        raise ApiError(422, "invalid_file", str(error), field="file") from None
    session.close()
    importer = Importer(state.engine, commands, user.actor)
    return await importer.run(parsed, errors, dry_run=dry_run)


@router.get("/{recommendation_id}", response_model=RecommendationDetail)
def read(
    recommendation_id: str, _: CurrentUserDep, session: SessionDep, state: AppStateDep
) -> RecommendationDetail:
    """One recommendation with its risks, progress reports, linked issue and audit trail."""
    row = _load(session, recommendation_id)
    policy = _policy(state)
    risks = risks_of(session=session, recommendation_id=row.id)
    issue = (
        repository.get_issue(session=session, issue_id=row.escalation_issue_id)
        if row.escalation_issue_id
        else None
    )
    public = RecommendationPublic.from_row(
        row,
        [r.id for r in risks],
        today=today(policy),
        years=policy.long_outstanding_years,
    )
    return RecommendationDetail(
        **public.model_dump(),
        risk_details=[RiskSummary.from_row(r) for r in risks],
        progress_updates=[
            ProgressPublic.from_row(p)
            for p in list_progress(session=session, recommendation_id=row.id)
        ],
        escalation_issue=LinkedIssue(id=issue.id, title=issue.title, state=issue.state)
        if issue
        else None,
        audit_trail=[
            AuditEntryPublic.from_row(a)
            for a in repository.list_audit(session=session, stream=row.id)
        ],
    )


async def _send(
    recommendation_id: str,
    command: RecommendationCommand,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: RecommendationCommands,
) -> RecommendationPublic:
    session.close()
    rec = await commands.send(recommendation_id, user.actor, command)
    return _public(rec, state)


def _owner(user: CurrentUserDep, row: RecommendationRow, what: str) -> None:
    if user.actor.id != row.owner_id:
        raise ApiError(
            403,
            "permission_denied",
            f"only the recommendation's owner ({row.owner_id}) may {what}",
        )


def _auditor(user: CurrentUserDep, what: str) -> None:
    if user.actor.role is not Role.AUDITOR:
        raise ApiError(
            403,
            "permission_denied",
            f"your role ({user.actor.role.value}) may not {what}; an auditor may",
        )


@router.put("/{recommendation_id}", response_model=RecommendationPublic)
async def update_record(
    recommendation_id: str,
    body: RecordBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Replace the record's data (secretariat); each changed field is audited."""
    await run_in_threadpool(_load, session, recommendation_id)
    _secretariat(user, "change recommendation records")
    record = body.record()
    await run_in_threadpool(_check_references, session, record)
    command = UpdateRecord(record=record)
    return await _send(recommendation_id, command, user, session, state, commands)


@router.post("/{recommendation_id}/acceptance", response_model=RecommendationPublic)
async def record_acceptance(
    recommendation_id: str,
    body: AcceptanceBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Record management's decision on a recommendation under consideration (secretariat)."""
    await run_in_threadpool(_load, session, recommendation_id)
    _secretariat(user, "record acceptance")
    command = RecordAcceptance(acceptance=body.acceptance, comment=body.comment)
    return await _send(recommendation_id, command, user, session, state, commands)


@router.post("/{recommendation_id}/progress", response_model=RecommendationPublic)
async def report_progress(
    recommendation_id: str,
    body: ProgressBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Report progress, with evidence links (the owner)."""
    _owner(user, await run_in_threadpool(_load, session, recommendation_id), "report its progress")
    command = ReportProgress(
        percentage=body.percentage, narrative=body.narrative, evidence=tuple(body.evidence)
    )
    return await _send(recommendation_id, command, user, session, state, commands)


@router.post("/{recommendation_id}/implemented", response_model=RecommendationPublic)
async def claim_implemented(
    recommendation_id: str,
    body: ImplementedBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Claim the recommendation implemented, with evidence for the auditor (the owner)."""
    _owner(
        user, await run_in_threadpool(_load, session, recommendation_id), "claim its implementation"
    )
    command = ClaimImplemented(narrative=body.narrative, evidence=tuple(body.evidence))
    return await _send(recommendation_id, command, user, session, state, commands)


@router.post("/{recommendation_id}/verify", response_model=RecommendationPublic)
async def verify(
    recommendation_id: str,
    body: VerifyBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Confirm a claimed implementation (an auditor); this closes the recommendation."""
    await run_in_threadpool(_load, session, recommendation_id)
    _auditor(user, "verify an implementation")
    command = VerifyImplementation(note=body.note)
    return await _send(recommendation_id, command, user, session, state, commands)


@router.post("/{recommendation_id}/return", response_model=RecommendationPublic)
async def return_to_in_progress(
    recommendation_id: str,
    body: ReturnBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Refuse a claimed implementation, with a reason: back to in progress (an auditor)."""
    await run_in_threadpool(_load, session, recommendation_id)
    _auditor(user, "return an implementation")
    command = ReturnToInProgress(reason=body.reason)
    return await _send(recommendation_id, command, user, session, state, commands)


@router.post("/{recommendation_id}/closure", response_model=RecommendationPublic)
async def close(
    recommendation_id: str,
    body: ClosureBody,
    user: CurrentUserDep,
    session: SessionDep,
    state: AppStateDep,
    commands: CommandsDep,
) -> RecommendationPublic:
    """Close as overtaken by events or not implemented, with a justification."""
    row = await run_in_threadpool(_load, session, recommendation_id)
    if user.actor.role is not Role.SECRETARIAT:
        _owner(user, row, "close it (or the secretariat)")
    command = CloseRecommendation(outcome=body.outcome, justification=body.justification)
    return await _send(recommendation_id, command, user, session, state, commands)
