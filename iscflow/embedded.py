"""`iscflow up`: the whole stack in one process tree, state under one data directory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

import structlog
import uvicorn
from sqlalchemy import Engine

from api.app import create_app
from iscflow.demo import (
    DEMO_PASSWORD,
    STAFF,
    demo_now,
    load_issues,
    load_mapping,
    load_meeting_history,
    load_next_meeting,
    load_people,
)
from iscflow.demo_recommendations import load_recommendations, load_risks
from iscflow.devserver import DevServerError, port_open, start_dev_server, stop_dev_server
from iscflow.directory import load_reference_data
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.meeting_commands import MeetingCommands
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.schedules import ensure_schedules
from iscflow.settings import Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from storage.migrate import upgrade
from worker import ACTIVITY_THREADS, build_worker

log = structlog.get_logger("iscflow.up")


class EmbeddedError(RuntimeError):
    pass


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: `up` stops worker and server together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        self.should_exit = True


def _check_ports(settings: Settings, temporal_port: int) -> None:
    wanted = {
        "Temporal": temporal_port,
        "Temporal UI": settings.temporal_ui_port,
        "API": settings.api_port,
        "mail sink": settings.mail.port,
    }
    for name, port in wanted.items():
        if port_open("127.0.0.1", port):
            raise EmbeddedError(
                f"port {port} for the {name} is already in use; is iscflow already running? "
                "Choose other ports with --port, --temporal-port or --ui-port."
            )


def run_embedded(settings: Settings, *, demo: bool, out: TextIO) -> None:
    """Start everything, serve until Ctrl-C or SIGTERM, then stop everything."""
    settings = settings.model_copy(update={"embedded": True})
    temporal_port = int(settings.temporal_address.rsplit(":", 1)[1])
    _check_ports(settings, temporal_port)
    data = settings.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    try:
        server = start_dev_server(
            port=temporal_port,
            ui_port=settings.temporal_ui_port,
            db_file=data / "temporal.db",
            log_file=data / "temporal.log",
            namespace=settings.temporal_namespace,
        )
    except DevServerError as error:
        raise EmbeddedError(f"{error} (see {data / 'temporal.log'})") from None
    sink = MailSink(data / "mail", host=settings.mail.host, port=settings.mail.port)
    try:
        sink.start()
        engine = create_db_engine(settings.database_url)
        upgrade(engine)
        load_reference_data(engine)
        asyncio.run(_serve(settings, engine, demo=demo, out=out))
    finally:
        sink.stop()
        stop_dev_server(server)
        out.write("iscflow stopped.\n")


async def _serve(settings: Settings, engine: Engine, *, demo: bool, out: TextIO) -> None:
    client = await connect(settings)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, engine=engine, settings=settings, executor=executor)
        async with worker:
            await ensure_schedules(client, settings)
            tokens: dict[str, str] = {}
            if demo:
                people = load_people(engine, demo_now())
                load_mapping(engine, demo_now())
                commands = IssueCommands.from_settings(client, settings)
                created = await load_issues(engine, commands, people)
                held = settings.meetings_held_before
                load_meeting_history(engine, held, demo_now())
                await load_next_meeting(
                    engine,
                    MeetingCommands.from_settings(client, settings),
                    people,
                    held + 1,
                    demo_now(),
                )
                load_risks(engine, demo_now(), people["demo-secretariat"][0])
                new_recommendations = await load_recommendations(
                    engine,
                    RecommendationCommands.from_settings(client, settings),
                    people,
                    demo_now().date(),
                )
                log.info("demo recommendations loaded", new=new_recommendations)
                tokens = {uid: token for uid, (_, token) in people.items()}
                path = settings.data_dir.resolve() / "demo-tokens.json"
                path.write_text(json.dumps(tokens, indent=2) + "\n")
                path.chmod(0o600)
                log.info("demo data loaded", new_issues=created, tokens_file=str(path))
            app = create_app(settings, engine=engine, client=client)
            config = uvicorn.Config(
                app, host=settings.api_host, port=settings.api_port, log_config=None
            )
            server = _Server(config)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, server.request_exit)
            _banner(settings, tokens, out)
            await server.serve()


def _banner(settings: Settings, tokens: dict[str, str], out: TextIO) -> None:
    host = "127.0.0.1"
    lines = [
        "",
        "iscflow is running.",
        f"  Web          {settings.public_url}/",
        f"  API          {settings.public_url}/api/v1   (OpenAPI: {settings.public_url}/docs)",
        f"  Temporal UI  http://{host}:{settings.temporal_ui_port}",
        f"  Temporal     {settings.temporal_address} (namespace {settings.temporal_namespace})",
        f"  Mail sink    smtp://{settings.mail.host}:{settings.mail.port}"
        f"   (messages in {settings.data_dir.resolve() / 'mail'}; see /api/v1/outbox)",
        f"  Data         {settings.data_dir.resolve()}",
    ]
    if tokens:
        lines += ["", "Demo users (tokens for this run; all of them in demo-tokens.json):"]
        shown = [u.id for u in STAFF] + [
            f"fp-accessibility-{b}" for b in ("br", "tsb", "bdt", "gs")
        ]
        lines += [f"  {uid:<28} {tokens[uid]}" for uid in shown]
        fp = tokens["fp-accessibility-tsb"]
        lines += [
            "",
            f"Web sign-in: any demo user's e-mail ({{id}}@demo.iscflow.example), "
            f"password '{DEMO_PASSWORD}'; e.g. demo-chair@demo.iscflow.example",
            "",
            "Try:",
            f"  curl -s -H 'Authorization: Bearer {fp}' {settings.public_url}/api/v1/issues",
        ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    out.write("\n".join(lines))
    out.flush()
