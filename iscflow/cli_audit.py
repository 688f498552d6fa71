"""`iscflow audit`: verify, checkpoint and export the tamper-evident audit trail."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from iscflow.settings import Settings

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where embedded state lives (env ISCFLOW_DATA_DIR)"),
]
Stream = Annotated[str | None, typer.Option("--stream", help="one stream only, e.g. issue-<id>")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@audit_app.command("verify")
def verify(stream: Stream = None, data_dir: DataDir = None) -> None:
    """Re-walk every hash chain and check it against the latest signed checkpoint."""
    from sqlmodel import Session

    from activities.audit import public_key_b64
    from iscflow.audit_ops import verify_trail
    from storage import audit
    from storage.db import create_db_engine

    settings = _settings(data_dir)
    engine = create_db_engine(settings.database_url)
    with Session(engine) as session:
        total = audit.count_rows(session, stream)
    with typer.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
        report = verify_trail(
            engine, public_key_b64(settings.audit_key()), stream=stream, progress=bar.update
        )
    engine.dispose()
    if report.broken is not None:
        b = report.broken
        typer.secho(
            f"BROKEN: stream {b.stream}, sequence {b.sequence}: {b.problem}; "
            f"expected {b.expected}, found {b.found}",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1)
    if report.checkpoint_valid is False:
        typer.secho(
            f"BROKEN: checkpoint #{report.checkpoint_id} does not verify with the configured "
            "public key",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1)
    where = (
        f"checkpoint #{report.checkpoint_id} verified"
        if report.checkpoint_id is not None
        else "no checkpoint yet"
    )
    typer.echo(f"OK: {report.rows_checked} rows verified; {where}")


@audit_app.command("checkpoint")
def checkpoint(data_dir: DataDir = None) -> None:
    """Sign a checkpoint of every stream head now."""
    from activities.audit import create_checkpoint
    from storage.db import create_db_engine, session_scope

    settings = _settings(data_dir)
    engine = create_db_engine(settings.database_url)
    with session_scope(engine) as session:
        row = create_checkpoint(
            session=session, private_key=settings.audit_key(), now=datetime.now(UTC)
        )
        typer.echo(f"checkpoint #{row.id}: {row.stream_count} streams, root {row.merkle_root}")
    engine.dispose()


@audit_app.command("export")
def export(
    stream: Stream = None,
    output: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
    data_dir: DataDir = None,
) -> None:
    """JSON Lines of the rows, then the checkpoint and the proof of each stream's head."""
    from iscflow.audit_ops import export_lines
    from storage.db import create_db_engine

    settings = _settings(data_dir)
    engine = create_db_engine(settings.database_url)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for line in export_lines(engine, stream=stream):
            out.write(line + "\n")
    finally:
        if output:
            out.close()
        engine.dispose()


@audit_app.command("public-key")
def public_key(data_dir: DataDir = None) -> None:
    """Print the public key that verifies this installation's checkpoints (base64)."""
    from activities.audit import public_key_b64

    typer.echo(public_key_b64(_settings(data_dir).audit_key()))
