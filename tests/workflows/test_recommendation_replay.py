"""Recorded RecommendationWorkflow histories (replayed by test_replay.py) and their guard."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.recommendation import RecommendationWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
SCENARIOS = (
    "recommendation_full_lifecycle",
    "recommendation_reminders_and_escalation",
    "recommendation_continued_as_new",
)


def _events(path: Path) -> list[dict[str, object]]:
    events: list[dict[str, object]] = json.loads(path.read_text())["events"]
    return events


def test_every_scenario_was_recorded_across_its_continued_runs() -> None:
    for scenario in SCENARIOS:
        first = _events(HISTORIES / f"{scenario}.v1.json")
        last = _events(sorted(HISTORIES.glob(f"{scenario}.run*.v1.json"))[-1])
        assert first[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
        assert last[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"


def test_the_escalation_history_opens_an_issue_through_its_activity() -> None:
    paths = sorted(HISTORIES.glob("recommendation_reminders_and_escalation*.json"))
    scheduled = [
        str(attrs["activityType"]["name"])  # type: ignore[index]
        for path in paths
        for event in _events(path)
        if (attrs := event.get("activityTaskScheduledEventAttributes"))
    ]
    assert scheduled.count("open_escalation_issue") == 1
    assert "send_notification" in scheduled


async def test_a_changed_workflow_is_caught_by_replay() -> None:
    """The replay test can fail: a history whose activity type changed is non-deterministic."""
    data = json.loads((HISTORIES / "recommendation_full_lifecycle.v1.json").read_text())
    for event in data["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs:
            attrs["activityType"]["name"] = "some_other_activity"
    history = WorkflowHistory.from_json("tampered", json.dumps(data))
    replayer = Replayer(
        workflows=[RecommendationWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
