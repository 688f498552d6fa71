"""Reports: the periodic report to Council."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUserDep, SessionDep
from api.errors import ApiError
from api.schemas import ErrorResponse
from domain.roles import Role
from iscflow.report import build_report, render

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 422)
}
router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERRORS)

MEDIA = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Reports cover the organisation's records, not the whole calendar (and stay computable).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
READERS = frozenset({Role.CHAIR, Role.SECRETARIAT, Role.EXECUTIVE, Role.AUDITOR, Role.ADMIN})


@router.get(
    "/council",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}},
)
def council(
    user: CurrentUserDep,
    session: SessionDep,
    start: date = Query(alias="from"),
    end: date = Query(alias="to"),
    format: Literal["md", "html", "xlsx"] = "md",
    lang: Literal["ar", "zh", "en", "fr", "ru", "es"] = "en",
) -> Response:
    """The report to Council for a period (chair, secretariat, executive, auditor, admin)."""
    if user.actor.role not in READERS:
        raise ApiError(403, "permission_denied", "focal points do not produce Council reports")
    if end < start:
        raise ApiError(422, "invalid_request", "'to' is before 'from'", field="to")
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise ApiError(
                422, "invalid_request", f"'{name}' must lie between {EARLIEST} and {LATEST}",
                field=name,
            )  # fmt: skip
    report = build_report(session=session, start=start, end=end, now=datetime.now(UTC))
    filename = f"iscflow-council-{start.isoformat()}-{end.isoformat()}.{format}"
    return Response(
        render(report, format, lang),
        media_type=MEDIA[format],
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
