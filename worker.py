"""The worker process: runs IssueWorkflow and its activities on the task queue."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.digest import DigestActivities
from activities.issues import IssueActivities
from activities.mail import MailActivities
from activities.meetings import MeetingActivities
from activities.notify import MailContext
from activities.recommendations import RecommendationActivities
from iscflow.issue_commands import IssueCommands
from iscflow.schedules import ensure_schedules
from iscflow.settings import Settings
from iscflow.temporal import connect
from storage.db import create_db_engine
from workflows.checkpoint import AuditCheckpointWorkflow
from workflows.digest import DigestWorkflow
from workflows.issue import IssueWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.recommendation import RecommendationWorkflow
from workflows.sandbox import workflow_runner

ACTIVITY_THREADS = 16
# Every workflow type the worker runs; each has recorded histories that must replay.
WORKFLOWS = [
    IssueWorkflow,
    DigestWorkflow,
    AuditCheckpointWorkflow,
    MeetingWorkflow,
    RecommendationWorkflow,
]


def build_worker(
    client: Client,
    *,
    engine: Engine,
    settings: Settings,
    executor: ThreadPoolExecutor,
    max_cached_workflows: int | None = None,
) -> Worker:
    """Wire workflows and activities to their dependencies (the worker's composition root)."""
    mail_context = MailContext(
        public_url=settings.public_url,
        signing_key=settings.signing_key(),
        action_link_days=settings.action_link_days,
    )
    issue_activities = IssueActivities(engine, mail_context)
    mail_activities = MailActivities(engine, settings.mail)
    digest_activities = DigestActivities(engine, mail_context, settings.ladder)
    audit_activities = AuditActivities(engine, settings.audit_key())
    meeting_activities = MeetingActivities(
        engine, IssueCommands.from_settings(client, settings), mail_context, settings.mail.list_id
    )
    recommendation_activities = RecommendationActivities(
        engine, mail_context, IssueCommands.from_settings(client, settings)
    )
    options: dict[str, int] = {}
    if max_cached_workflows is not None:
        options["max_cached_workflows"] = max_cached_workflows
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        activities=[
            issue_activities.record_issue_event,
            mail_activities.send_notification,
            digest_activities.prepare_digests,
            audit_activities.make_checkpoint,
            meeting_activities.record_meeting_event,
            meeting_activities.issues_for_agenda,
            meeting_activities.deliver_decision,
            recommendation_activities.record_recommendation_event,
            recommendation_activities.open_escalation_issue,
        ],
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_THREADS,
        **options,  # type: ignore[arg-type]
    )


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until cancelled or until `stop` is set."""
    log = structlog.get_logger("iscflow.worker")
    engine = create_db_engine(settings.database_url)
    client = await connect(settings)
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        worker = build_worker(client, engine=engine, settings=settings, executor=executor)
        for created in await ensure_schedules(client, settings):
            log.info("schedule created", schedule=created)
        log.info("worker started", task_queue=settings.task_queue)
        async with worker:
            await (stop.wait() if stop is not None else asyncio.Event().wait())
    engine.dispose()


def main() -> None:
    from iscflow.logging import configure_logging

    configure_logging()
    asyncio.run(run_worker(Settings()))


if __name__ == "__main__":
    main()
