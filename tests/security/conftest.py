"""Security fixtures: the real app over ASGI with a real worker, on SQLite."""

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
    """The API runs on SQLite here; modules that need both engines say so."""
    yield sqlite_engine


@pytest.fixture
async def api(
    settings: Settings, engine: Engine, client: Client, worker: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a real server runs it: an exception in a handler becomes a 500 response."""
    app = create_app(settings, engine=engine, client=client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://iscflow.test", timeout=60
        ) as http:
            yield http


@pytest.fixture
async def stuck_workflows_terminated(client: Client, settings: Settings) -> AsyncIterator[None]:
    """Terminates what a test left running on its task queue (e.g. one left without a worker)."""
    yield
    query = f'TaskQueue="{settings.task_queue}" AND ExecutionStatus="Running"'
    async for execution in client.list_workflows(query):
        await client.get_workflow_handle(execution.id).terminate("test cleanup")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
