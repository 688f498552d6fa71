"""Who am I, reference data, and health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import CurrentUserDep, SessionDep
from api.schemas import ErrorResponse, MePublic, SectorPublic, ThemePublic
from storage import directory

router = APIRouter(prefix="/api/v1", tags=["directory"])


# Every route here but /health needs a token.
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "a missing or unknown token"}
}


@router.get("/me", response_model=MePublic, responses=UNAUTHORIZED)
def me(user: CurrentUserDep) -> MePublic:
    """The authenticated user, with role and themes."""
    return MePublic(
        id=user.row.id,
        name=user.row.name,
        email=user.row.email,
        role=user.actor.role,
        sector=user.row.sector_code,
        themes=sorted(user.actor.themes),
        language=user.row.language,
    )


@router.get("/themes", response_model=list[ThemePublic], responses=UNAUTHORIZED)
def themes(_: CurrentUserDep, session: SessionDep) -> list[ThemePublic]:
    """The thematic areas."""
    return [ThemePublic(code=t.code, name=t.name) for t in directory.list_themes(session=session)]


@router.get("/sectors", response_model=list[SectorPublic], responses=UNAUTHORIZED)
def sectors(_: CurrentUserDep, session: SessionDep) -> list[SectorPublic]:
    """The sectors and the General Secretariat."""
    return [
        SectorPublic(code=s.code, name=s.name, bureau=s.bureau)
        for s in directory.list_sectors(session=session)
    ]


@router.get("/health", tags=["health"])
def health(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}
