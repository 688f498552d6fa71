"""DigestWorkflow: started by a Temporal Schedule; prepares and sends the period's digests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.digest import DigestActivities, PrepareDigestsInput, PrepareDigestsResult
    from activities.mail import MailActivities

DIGEST_SCHEDULE_ID = "iscflow-digest"


class DigestInput(BaseModel):
    send_retry_max_seconds: float = 300.0
    send_timeout_seconds: float = 70.0


class DigestResult(BaseModel):
    sent: int


@workflow.defn(name="DigestWorkflow")
class DigestWorkflow:
    @workflow.run
    async def run(self, data: DigestInput) -> DigestResult:
        # One digest per user and run: the run's start time names the period.
        period = workflow.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        prepared: PrepareDigestsResult = await workflow.execute_activity_method(
            DigestActivities.prepare_digests,
            PrepareDigestsInput(period=period),
            start_to_close_timeout=timedelta(minutes=5),
        )
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=data.send_retry_max_seconds),
        )
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    MailActivities.send_notification,
                    outbox_id,
                    start_to_close_timeout=timedelta(seconds=data.send_timeout_seconds),
                    retry_policy=retry,
                )
                for outbox_id in prepared.outbox_ids
            )
        )
        return DigestResult(sent=len(prepared.outbox_ids))
