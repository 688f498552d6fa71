"""Typed dependencies: application state, database session, the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from api.errors import ApiError
from domain.roles import Actor
from iscflow.issue_commands import IssueCommands
from iscflow.settings import Settings
from storage import directory
from storage.models import UserRow


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    commands: IssueCommands


@dataclass(frozen=True)
class CurrentUser:
    row: UserRow
    actor: Actor


def get_app_state(request: Request) -> AppState:
    state: AppState = request.app.state.iscflow
    return state


AppStateDep = Annotated[AppState, Depends(get_app_state)]


def get_session(state: AppStateDep) -> Iterator[Session]:
    with Session(state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="an API token from `iscflow users add`")


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    if credentials is None:
        raise ApiError(401, "unauthorized", "send an API token as 'Authorization: Bearer <token>'")
    user = directory.user_for_token(
        session=session, token=credentials.credentials, now=datetime.now(UTC)
    )
    if user is None:
        raise ApiError(401, "unauthorized", "the token is unknown, revoked or expired")
    return CurrentUser(row=user, actor=directory.actor_for(session=session, user=user))


CurrentUserDep = Annotated[CurrentUser, Depends(get_current_user)]
