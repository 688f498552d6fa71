"""`iscflow bench`: the benchmarks of docs/performance.md, each against its own baseline."""

from __future__ import annotations

from typing import Annotated

import typer

bench_app = typer.Typer(
    help=(
        "Benchmarks. Each starts what it needs under a temporary directory, measures a bare "
        "baseline and the project in the same run, and prints a JSON object as its last line."
    ),
    no_args_is_help=True,
)

Quick = Annotated[bool, typer.Option("--quick", help="a small size that runs in under a minute")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="a PostgreSQL server to run on, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/"
        "postgres (a scratch database is created on it and dropped); SQLite when omitted",
    ),
]
Concurrency = Annotated[int | None, typer.Option(help="lifecycles in flight at once", min=1)]


def _size(size: int | None, quick: bool, full: int, small: int) -> int:
    if size is not None:
        return size
    return small if quick else full


@bench_app.command("lifecycle")
def lifecycle(
    quick: Quick = False,
    size: Annotated[int | None, typer.Option(help="issues (default 500)", min=1)] = None,
    concurrency: Concurrency = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Full issue lifecycles per second against bare Temporal (target: ratio >= 0.75)."""
    from bench import lifecycle as bench

    bench.main(
        size=_size(size, quick, bench.DEFAULT_SIZE, bench.QUICK_SIZE),
        concurrency=concurrency or (10 if quick else bench.DEFAULT_CONCURRENCY),
        database_url=database_url,
    )


@bench_app.command("api")
def api(
    quick: Quick = False,
    size: Annotated[
        int | None, typer.Option(help="rounds of 20 concurrent lifecycles per mode (default 10)")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """HTTP command latency against direct Temporal updates (target: p95 ratio <= 1.5)."""
    from bench import api_latency as bench

    bench.main(
        rounds=_size(size, quick, bench.DEFAULT_ROUNDS, bench.QUICK_ROUNDS),
        database_url=database_url,
    )


@bench_app.command("idle")
def idle(
    quick: Quick = False,
    size: Annotated[int | None, typer.Option(help="open issues (default 10,000)", min=1)] = None,
    concurrency: Concurrency = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Open issues waiting on reminder timers: worker memory, then every reminder delivered."""
    from bench import idle as bench

    bench.main(
        size=_size(size, quick, bench.DEFAULT_SIZE, bench.QUICK_SIZE),
        concurrency=concurrency or bench.DEFAULT_CONCURRENCY,
        database_url=database_url,
    )


@bench_app.command("audit")
def audit(
    quick: Quick = False,
    size: Annotated[int | None, typer.Option(help="audit rows (default 1,000,000)", min=10)] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Audit-trail verification rate against a bare SHA-256 loop (target: ratio >= 0.3)."""
    from bench import audit_trail as bench

    bench.main(
        size=_size(size, quick, bench.DEFAULT_SIZE, bench.QUICK_SIZE),
        database_url=database_url,
    )


@bench_app.command("dashboard")
def dashboard(
    quick: Quick = False,
    size: Annotated[
        int | None, typer.Option(help="recommendations (default 100,000)", min=1)
    ] = None,
    audit_rows: Annotated[
        int | None, typer.Option(help="audit rows beside them (default 1,000,000)", min=0)
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The compliance dashboard against a hand-written SQL aggregate (target: ratio <= 2)."""
    from bench import dashboard as bench

    bench.main(
        size=_size(size, quick, bench.DEFAULT_SIZE, bench.QUICK_SIZE),
        audit_rows=_size(audit_rows, quick, bench.DEFAULT_AUDIT_ROWS, bench.QUICK_AUDIT_ROWS),
        database_url=database_url,
    )
