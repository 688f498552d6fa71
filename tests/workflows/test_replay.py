"""Recorded histories replay against today's workflow code (determinism across changes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS
from workflows.issue import IssueWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _workflow_type(path: Path) -> str:
    started = json.loads(path.read_text())["events"][0]
    return str(started["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])


def test_every_workflow_type_the_worker_runs_has_recorded_histories() -> None:
    recorded = {_workflow_type(p) for p in HISTORIES}
    # Each is registered under its class name (`@workflow.defn(name=...)`).
    assert recorded == {w.__name__ for w in WORKFLOWS}


def test_recorded_histories_are_present() -> None:
    names = {p.name for p in HISTORIES}
    for scenario in ("issue_full_lifecycle", "issue_ladder_to_the_top", "issue_withdrawn"):
        # v1: before reminders and mail (replays the unpatched path); v2: after.
        assert {f"{scenario}.v1.json", f"{scenario}.v2.json"} <= names
    assert "issue_deadline_passed.v2.json" in names
    assert {"meeting_full_lifecycle.v1.json", "digest.v1.json", "audit_checkpoint.v1.json"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.name for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_a_changed_workflow_is_caught_by_replay(tmp_path: Path) -> None:
    """The replay test can fail: a history whose activity type changed is non-deterministic."""
    source = next(p for p in HISTORIES if p.name.startswith("issue_withdrawn"))
    data = json.loads(source.read_text())
    for event in data["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs:
            attrs["activityType"]["name"] = "some_other_activity"
    history = WorkflowHistory.from_json("tampered", json.dumps(data))
    replayer = Replayer(
        workflows=[IssueWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
