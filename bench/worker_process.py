"""A worker in a process of its own, as production runs one: the project's or the bare one.

The benchmark drives the load from its own process; a separate worker keeps the two from
sharing one interpreter lock, and lets the worker's memory be measured alone.
`python -m bench.worker_process SPEC.json` runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from temporalio.worker import Worker

from bench.bare import build_bare_worker
from bench.procstat import Memory, cpu_seconds, process_memory
from iscflow.settings import Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from worker import ACTIVITY_THREADS, build_worker

READY_TIMEOUT = 60.0


class WorkerSpec(BaseModel):
    kind: Literal["project", "bare"]
    settings: dict[str, Any]
    ready_file: Path
    max_cached_workflows: int | None = None


async def serve(spec: WorkerSpec) -> None:
    settings = Settings.model_validate(spec.settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    client = await connect(settings)
    engine = create_db_engine(settings.database_url) if spec.kind == "project" else None
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker: Worker
        if engine is not None:
            worker = build_worker(
                client,
                engine=engine,
                settings=settings,
                executor=executor,
                max_cached_workflows=spec.max_cached_workflows,
            )
        else:
            worker = build_bare_worker(
                client,
                task_queue=settings.task_queue,
                executor=executor,
                max_concurrent_activities=ACTIVITY_THREADS,
                max_cached_workflows=spec.max_cached_workflows,
            )
        async with worker:
            spec.ready_file.write_text(str(os.getpid()))
            await stop.wait()
    if engine is not None:
        engine.dispose()


class WorkerProcess:
    """Start, measure and stop one worker process."""

    def __init__(
        self,
        kind: Literal["project", "bare"],
        settings: Settings,
        *,
        directory: Path,
        max_cached_workflows: int | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{kind}-{settings.task_queue}-{max_cached_workflows or 'default'}"
        self.spec = WorkerSpec(
            kind=kind,
            settings=settings.model_dump(mode="json"),
            ready_file=directory / f"{name}.ready",
            max_cached_workflows=max_cached_workflows,
        )
        self._spec_file = directory / f"{name}.json"
        self._log = directory / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> WorkerProcess:
        """Start the process and wait until its worker polls the task queue."""
        self._spec_file.write_text(self.spec.model_dump_json())
        self.spec.ready_file.unlink(missing_ok=True)
        with open(self._log, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bench.worker_process", str(self._spec_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parent.parent,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.spec.ready_file.exists():
            if self._process.poll() is not None:
                raise RuntimeError(f"worker exited ({self._process.returncode}); see {self._log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"worker did not start in time; see {self._log}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def memory(self) -> Memory:
        return process_memory(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


def main() -> None:
    spec = WorkerSpec.model_validate_json(Path(sys.argv[1]).read_text())
    asyncio.run(serve(spec))


if __name__ == "__main__":
    main()
