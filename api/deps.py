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
from iscflow.meeting_commands import MeetingCommands
from iscflow.settings import Settings
from storage import directory
from storage.models import UserRow


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    commands: IssueCommands
    meetings: MeetingCommands


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
    state: AppStateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    """The token's user, looked up in a short session of its own.

    On SQLite every transaction takes the write lock, so the lookup must not share the
    request's session: routes that open another session would wait on it.
    """
    if credentials is None:
        raise ApiError(401, "unauthorized", "send an API token as 'Authorization: Bearer <token>'")
    with Session(state.engine, expire_on_commit=False) as session:
        user = directory.user_for_token(
            session=session, token=credentials.credentials, now=datetime.now(UTC)
        )
        if user is None:
            raise ApiError(401, "unauthorized", "the token is unknown, revoked or expired")
        actor = directory.actor_for(session=session, user=user)
        session.expunge(user)
    return CurrentUser(row=user, actor=actor)


CurrentUserDep = Annotated[CurrentUser, Depends(get_current_user)]
