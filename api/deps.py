"""Typed dependencies: application state, database session, the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from storage.db import reader
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


async def get_session(state: AppStateDep) -> AsyncIterator[Session]:
    """The request's session, for reading: on SQLite it takes no write lock.

    Closed on the event loop as soon as the handler is done, needing no thread of the pool.
    Async handlers run their queries in the pool (`run_in_threadpool`): a query must never
    block the event loop.
    """
    session = Session(reader(state.engine), expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


async def get_write_session(state: AppStateDep) -> AsyncIterator[Session]:
    """The request's session for handlers that write and commit (SQLite: the write lock is
    taken at the first query and held until the commit, within the handler)."""
    session = Session(state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]

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
    with Session(reader(state.engine), expire_on_commit=False) as session:
        user = directory.user_for_token(
            session=session, token=credentials.credentials, now=datetime.now(UTC)
        )
        if user is None:
            raise ApiError(401, "unauthorized", "the token is unknown, revoked or expired")
        actor = directory.actor_for(session=session, user=user)
        session.expunge(user)
    return CurrentUser(row=user, actor=actor)


CurrentUserDep = Annotated[CurrentUser, Depends(get_current_user)]
