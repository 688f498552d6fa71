"""Killing the worker mid-lifecycle, again and again, loses nothing and doubles nothing.

200 issues (on PostgreSQL, the production database; 40 on SQLite, to keep the suite's time)
run four different lifecycles concurrently while the worker process is SIGKILLed three times,
at moments drawn from a seed, and restarted. Every issue must reach its final
state; every audit stream must hold exactly the lifecycle's actions; the outbox exactly the
e-mails the notification table asks for; and the SMTP sink exactly one message per row.

Set ISCFLOW_TEST_SEED to replay a run: the seed is printed (pytest shows it on failure).
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from activities.mail import message_id
from iscflow.devserver import free_port
from iscflow.issue_commands import IssueCommands
from iscflow.mailsink import MailSink
from iscflow.settings import MailSettings, Settings
from tests.support.lifecycles import (
    LIFECYCLES,
    Lifecycle,
    actual_mails,
    audit_actions,
    drive,
    expected_mails,
    outbox_rows,
)
from tests.support.people import People
from tests.support.processes import start_worker_process

ISSUES = {"postgresql": 200, "sqlite": 40}
KILLS = 3
# Each restarted worker completes this share of all steps before it may be killed in turn,
# so that every kill hits a worker in the middle of its work, not one still starting.
PROGRESS_BEFORE_NEXT_KILL = 0.02
# A message whose last bytes left a worker just before its kill reaches the sink just after
# it: a kill this close before a first delivery may still have cut off that delivery's `sent`.
DELIVERY_LAG = 2.0


@pytest.fixture
def issues(database_url: str) -> int:
    return ISSUES["sqlite" if database_url.startswith("sqlite") else "postgresql"]


@dataclass
class Deliveries:
    """Every SMTP delivery the sink accepted: Message-ID and monotonic time."""

    times: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, message: EmailMessage) -> None:
        with self.lock:
            self.times.setdefault(str(message["Message-ID"]).strip(), []).append(time.monotonic())


@pytest.fixture
def deliveries() -> Deliveries:
    return Deliveries()


@pytest.fixture
def sink(tmp_path: Path, deliveries: Deliveries) -> Iterator[MailSink]:
    mail_sink = MailSink(tmp_path / "sink", port=free_port(), on_message=deliveries.record)
    mail_sink.start()
    try:
        yield mail_sink
    finally:
        mail_sink.stop()


@dataclass
class Kill:
    at: float  # monotonic
    steps_done: int


@pytest.mark.slow
async def test_three_worker_kills_under_load_lose_and_double_nothing(
    engine: Engine,
    people: People,
    client: Client,
    database_url: str,
    settings: Settings,
    sink: MailSink,
    deliveries: Deliveries,
    seed: int,
    issues: int,
    tmp_path: Path,
) -> None:
    rng = random.Random(seed)
    mail = MailSettings(port=sink.port, retry_max_seconds=1.0, timeout_seconds=5)
    settings = settings.model_copy(update={"mail": mail, "command_timeout_seconds": 240})
    commands = IssueCommands.from_settings(client, settings)
    kinds = [LIFECYCLES[n % len(LIFECYCLES)] for n in range(issues)]
    rng.shuffle(kinds)
    plan: dict[str, Lifecycle] = {str(uuid.UUID(int=rng.getrandbits(128))): k for k in kinds}
    total_steps = sum(len(lc.steps) for lc in plan.values())
    # Kills in the first half: each strands its in-flight activities until their start-to-close
    # timeout (30 s to persist), and stalls that overlap keep the test short.
    thresholds = sorted(rng.sample(range(total_steps // 10, total_steps // 2), KILLS))

    def spawn() -> subprocess.Popen[bytes]:
        return start_worker_process(
            temporal_address=settings.temporal_address,
            task_queue=settings.task_queue,
            database_url=database_url,
            data_dir=tmp_path,
            mail_port=sink.port,
            log=tmp_path / "worker.log",
            extra_env={"ISCFLOW_MAIL__TIMEOUT_SECONDS": "5"},
        )

    done = 0

    def step_done() -> None:
        nonlocal done
        done += 1

    workers = [spawn()]
    kills: list[Kill] = []
    drivers = asyncio.gather(
        *(drive(commands, people, i, lc, on_step=step_done) for i, lc in plan.items())
    )
    try:
        restarted_at = 0
        for threshold in thresholds:
            threshold = max(threshold, restarted_at + int(total_steps * PROGRESS_BEFORE_NEXT_KILL))
            while done < threshold:
                assert not drivers.done(), drivers.exception()
                await asyncio.sleep(0.02)
            await asyncio.sleep(rng.uniform(0, 0.5))
            kills.append(Kill(at=time.monotonic(), steps_done=done))
            workers[-1].send_signal(signal.SIGKILL)
            workers[-1].wait()
            await asyncio.sleep(rng.uniform(0, 1.0))
            workers.append(spawn())
            restarted_at = done
        states = await asyncio.wait_for(drivers, timeout=240)
        # A workflow ends once its e-mails are delivered: wait for every one of them.
        await asyncio.wait_for(
            asyncio.gather(*(client.get_workflow_handle(f"issue-{i}").result() for i in plan)),
            timeout=120,
        )
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                process.wait()

    # Three real kills, each in the middle of the run.
    assert [w.returncode for w in workers[:KILLS]] == [-signal.SIGKILL] * KILLS
    assert all(0 < k.steps_done < total_steps for k in kills), kills
    # Every issue reached its final state, and its audit stream holds exactly its steps.
    assert states == [lc.final for lc in plan.values()]
    assert audit_actions(engine) == {f"issue-{i}": lc.actions for i, lc in plan.items()}
    # The outbox holds exactly the e-mails the notification table asks for, all delivered.
    rows = outbox_rows(engine)
    assert actual_mails(rows) == expected_mails(plan)
    assert {r.status for r in rows} == {"sent"}
    # The sink stored one message per row, none missing and none twice.
    expected_ids = sorted(message_id(r, mail) for r in rows)
    assert sorted(str(m["Message-ID"]).strip() for m in sink.messages()) == expected_ids
    assert sorted(deliveries.times) == expected_ids
    # A row goes over SMTP again only when its first delivery's outcome was lost
    # (docs/notifications.md): a kill fell between the message's sending and the commit of
    # `sent`, or the reply did not come in time (a failed attempt: `attempts` counts those
    # and the successful one). Every extra transaction must be explained by one of the two;
    # attempts never overlap (each ends before its timeout), so nothing else may repeat one.
    by_id = {message_id(r, mail): r for r in rows}
    repeats = {mid: t for mid, t in deliveries.times.items() if len(t) > 1}
    by_kill = by_failure = 0
    for mid, times in repeats.items():
        cut = [k for k in kills if times[0] - DELIVERY_LAG < k.at < times[-1]]
        failed = by_id[mid].attempts - 1
        assert len(times) - 1 <= len(cut) + failed, (mid, times, kills, by_id[mid].last_error)
        by_kill, by_failure = by_kill + bool(cut), by_failure + (not cut)
    assert sink.transactions == len(rows) + sum(len(t) - 1 for t in repeats.values())
    print(
        f"{issues} lifecycles, {total_steps} steps, {KILLS} kills after steps "
        f"{[k.steps_done for k in kills]}; {len(rows)} e-mails, {len(repeats)} sent twice "
        f"({by_kill} cut off by a kill, {by_failure} after a failed attempt)"
    )
