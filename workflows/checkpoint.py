"""CheckpointWorkflow: started by a Temporal Schedule; signs the audit trail's state."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities, CheckpointResult

CHECKPOINT_SCHEDULE_ID = "iscflow-audit-checkpoint"


@workflow.defn(name="AuditCheckpointWorkflow")
class AuditCheckpointWorkflow:
    @workflow.run
    async def run(self) -> CheckpointResult:
        result: CheckpointResult = await workflow.execute_activity_method(
            AuditActivities.make_checkpoint, start_to_close_timeout=timedelta(minutes=10)
        )
        return result
