"""The workflow sandbox, shared by the worker and the replay tests."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.calendar import load_holiday_tables

# Pure modules shared with the code outside the sandbox, so that the holiday tables loaded
# at start-up are the ones workflows read.
PASSTHROUGH = ("holidays", "dateutil", "pydantic", "domain")


def workflow_runner() -> SandboxedWorkflowRunner:
    load_holiday_tables()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
