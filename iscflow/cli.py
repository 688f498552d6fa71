"""The `iscflow` command: run the embedded stack, the worker, the API; manage the database."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from domain.organisation import THEMES
from domain.roles import HUMAN_ROLES, Role
from iscflow.cli_audit import audit_app
from iscflow.cli_bench import bench_app
from iscflow.cli_dashboard import dashboard
from iscflow.cli_import import import_app
from iscflow.cli_mapping import mapping_app
from iscflow.cli_meetings import meetings_app
from iscflow.cli_report import report_app
from iscflow.settings import MailSettings, Settings

app = typer.Typer(
    help="iscflow: key issues, escalations and task-force decisions, durably tracked.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")
app.add_typer(mapping_app, name="mapping")
app.add_typer(meetings_app, name="meetings")
app.add_typer(report_app, name="report")
app.add_typer(import_app, name="import")
app.command("dashboard")(dashboard)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where embedded state lives (env ISCFLOW_DATA_DIR)"),
]


def _settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Create or migrate the database to the latest schema, with reference data."""
    from iscflow.directory import load_reference_data
    from storage.db import create_db_engine
    from storage.migrate import current_revision, upgrade

    settings = _settings(data_dir)
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    load_reference_data(engine)
    typer.echo(f"database at revision {current_revision(engine)}")
    engine.dispose()


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Option(help="full name")],
    email: Annotated[str, typer.Option(help="e-mail address (unique)")],
    role: Annotated[Role, typer.Option(help="one of: " + ", ".join(r.value for r in HUMAN_ROLES))],
    sector: Annotated[str | None, typer.Option(help="ITU-R, ITU-T, ITU-D or GS")] = None,
    theme: Annotated[
        list[str] | None, typer.Option(help="a theme code (repeat for several); focal points")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a user and print their API token (shown once, stored only as a hash)."""
    from iscflow.directory import DirectoryError, add_user
    from storage.db import create_db_engine

    settings = _settings(data_dir)
    engine = create_db_engine(settings.database_url)
    try:
        created = add_user(
            engine,
            name=name,
            email=email,
            role=role,
            sector=sector,
            themes=tuple(theme or ()),
            now=datetime.now(UTC),
        )
    except DirectoryError as error:
        codes = ", ".join(t.code for t in THEMES)
        hint = f" (themes: {codes})" if "theme" in str(error) else ""
        raise _fail(f"{error}{hint}") from None
    finally:
        engine.dispose()
    typer.echo(f"user {created.actor.id} ({role.value}) added")
    typer.echo(f"token: {created.token}")


@users_app.command("password")
def users_password(
    user: Annotated[str, typer.Argument(help="the user's id or e-mail address")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            confirmation_prompt=True,
            hide_input=True,
            envvar="ISCFLOW_NEW_PASSWORD",
            help="the new password (asked for when not given; at least 10 characters)",
        ),
    ],
    data_dir: DataDir = None,
) -> None:
    """Set a user's password for the web pages (stored as an argon2 hash)."""
    from iscflow.directory import DirectoryError, set_password
    from storage.db import create_db_engine

    engine = create_db_engine(_settings(data_dir).database_url)
    try:
        user_id = set_password(engine, user=user, password=password)
    except DirectoryError as error:
        raise _fail(str(error)) from None
    finally:
        engine.dispose()
    typer.echo(f"password set for {user_id}; their browser sessions were ended")


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run a worker (any number can run against one Temporal server)."""
    from iscflow.logging import configure_logging
    from worker import run_worker

    configure_logging()
    asyncio.run(run_worker(_settings(data_dir)))


@app.command()
def api(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Run the HTTP API (OpenAPI at /docs)."""
    from api.app import create_app
    from iscflow.logging import configure_logging

    configure_logging()
    settings = _settings(data_dir, api_host=host, api_port=port)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="load the demo data")] = False,
    data_dir: DataDir = None,
    port: Annotated[int | None, typer.Option(help="API port (default 8000)")] = None,
    temporal_port: Annotated[int, typer.Option(help="Temporal frontend port")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal UI port")] = 8233,
    mail_port: Annotated[int, typer.Option(help="port of the local SMTP sink")] = 2525,
) -> None:
    """Start the embedded stack: Temporal dev server, database, worker and API. Ctrl-C stops it."""
    from iscflow.embedded import EmbeddedError, run_embedded
    from iscflow.logging import configure_logging

    configure_logging()
    settings = _settings(
        data_dir,
        api_port=port,
        temporal_address=f"127.0.0.1:{temporal_port}",
        temporal_ui_port=ui_port,
    )
    # The embedded stack delivers to its own sink, whatever ISCFLOW_MAIL__* says.
    settings.mail = MailSettings(host="127.0.0.1", port=mail_port)
    try:
        run_embedded(settings, demo=demo, out=sys.stdout)
    except EmbeddedError as error:
        raise _fail(str(error)) from None


@app.command("config")
def show_config(data_dir: DataDir = None) -> None:
    """Print the effective settings as JSON."""
    typer.echo(json.dumps(_settings(data_dir).model_dump(mode="json"), indent=2))


def main() -> None:
    app()
