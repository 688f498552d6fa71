"""API fixtures: the real app over ASGI, a real worker, SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import create_app
from iscflow.settings import Settings


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    """API tests run on SQLite; storage and workflow tests cover both engines."""
    yield sqlite_engine


@pytest.fixture
async def api(
    settings: Settings, engine: Engine, client: Client, worker: None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine, client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://iscflow.test") as http:
            yield http


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
