"""The API's composition root: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.deps import AppState
from api.errors import install_error_handlers
from api.routes import (
    audit,
    dashboard,
    issues,
    mail,
    mapping,
    meetings,
    meta,
    recommendations,
    reports,
    risks,
)
from iscflow.issue_commands import IssueCommands
from iscflow.meeting_commands import MeetingCommands
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.settings import Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from web.app import install_web


def create_app(
    settings: Settings, *, engine: Engine | None = None, client: Client | None = None
) -> FastAPI:
    """Build the application; engine and client are made at startup unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        db = engine if engine is not None else create_db_engine(settings.database_url)
        temporal = client if client is not None else await connect(settings)
        app.state.iscflow = AppState(
            settings=settings,
            engine=db,
            commands=IssueCommands.from_settings(temporal, settings),
            meetings=MeetingCommands.from_settings(temporal, settings),
        )
        app.state.recommendations = RecommendationCommands.from_settings(temporal, settings)
        yield
        if own_engine:
            db.dispose()

    app = FastAPI(
        title="iscflow",
        version="0.1.0",
        description=(
            "Key issues raised by thematic focal points, their escalation to the "
            "inter-sectoral coordination task force, and its decisions. Authenticate with "
            "`Authorization: Bearer <token>`."
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(meta.router)
    app.include_router(issues.router)
    app.include_router(mail.router)
    app.include_router(audit.router)
    app.include_router(mapping.router)
    app.include_router(meetings.router)
    app.include_router(reports.router)
    app.include_router(recommendations.router)
    app.include_router(risks.router)
    app.include_router(dashboard.router)
    install_web(app)
    return app
