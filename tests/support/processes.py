"""Worker processes for tests that kill and restart them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def iscflow_executable() -> str:
    return str(Path(sys.executable).parent / "iscflow")


def start_worker_process(
    *,
    temporal_address: str,
    task_queue: str,
    database_url: str,
    data_dir: Path,
    mail_port: int,
    log: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ISCFLOW_TEMPORAL_ADDRESS": temporal_address,
        "ISCFLOW_TASK_QUEUE": task_queue,
        "ISCFLOW_DATABASE_URL": database_url,
        "ISCFLOW_DATA_DIR": str(data_dir),
        "ISCFLOW_MAIL__PORT": str(mail_port),
        "ISCFLOW_MAIL__RETRY_MAX_SECONDS": "1",
        "ISCFLOW_PUBLIC_URL": "http://iscflow.test",
        **(extra_env or {}),
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [iscflow_executable(), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
