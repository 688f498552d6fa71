"""The Temporal Schedules iscflow runs: created once, left alone when they exist."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

from iscflow.settings import Settings
from workflows.checkpoint import CHECKPOINT_SCHEDULE_ID, AuditCheckpointWorkflow
from workflows.digest import DIGEST_SCHEDULE_ID, DigestInput, DigestWorkflow


async def ensure_digest_schedule(client: Client, settings: Settings) -> bool:
    """Create the digest schedule unless it exists; True if it was created now."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            DigestWorkflow.run,
            DigestInput(
                send_retry_max_seconds=settings.mail.retry_max_seconds,
                send_timeout_seconds=settings.mail.send_timeout_seconds,
            ),
            id=f"{DIGEST_SCHEDULE_ID}-run",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(hours=settings.digest_interval_hours))]
        ),
    )
    try:
        await client.create_schedule(digest_schedule_id(settings), schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True


async def ensure_checkpoint_schedule(client: Client, settings: Settings) -> bool:
    """Create the audit checkpoint schedule unless it exists; True if it was created now."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            AuditCheckpointWorkflow.run,
            id=f"{CHECKPOINT_SCHEDULE_ID}-run",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(hours=settings.checkpoint_interval_hours))
            ]
        ),
    )
    try:
        await client.create_schedule(checkpoint_schedule_id(settings), schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    """Every schedule iscflow runs; the ids of those created now."""
    created = []
    if await ensure_digest_schedule(client, settings):
        created.append(digest_schedule_id(settings))
    if await ensure_checkpoint_schedule(client, settings):
        created.append(checkpoint_schedule_id(settings))
    return created


def checkpoint_schedule_id(settings: Settings) -> str:
    return f"{CHECKPOINT_SCHEDULE_ID}-{settings.task_queue}"


def digest_schedule_id(settings: Settings) -> str:
    # One schedule per task queue, so that separate deployments (and tests) don't share it.
    return f"{DIGEST_SCHEDULE_ID}-{settings.task_queue}"
