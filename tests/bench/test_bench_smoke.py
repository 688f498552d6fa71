"""Each benchmark runs end to end at a tiny size and does all its work (never timed here)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import api_latency, audit_trail, dashboard, idle, lifecycle

pytestmark = pytest.mark.slow

RESULT_KEYS = {"benchmark", "database", "unit", "project", "baseline", "ratio", "target"}


def _has_result_shape(result: dict[str, Any], name: str) -> None:
    assert result.keys() >= RESULT_KEYS
    assert result["benchmark"] == name
    assert result["database"] == "sqlite"
    assert isinstance(result["ratio"], float)
    assert isinstance(result["target_met"], bool)


async def test_lifecycle_bench_closes_every_issue_and_delivers_every_mail() -> None:
    result = await lifecycle.run(size=4, concurrency=4, database_url=None, warm_up=1)

    _has_result_shape(result, "lifecycle")
    project, baseline = result["project"], result["baseline"]
    assert project["lifecycles"] == project["issues_closed"] == 4
    assert project["audit_rows"] == 4 * lifecycle.STEPS
    assert project["mails_sent"] == project["mails_received"] == 4 * lifecycle.MAILS_PER_LIFECYCLE
    assert project["all_mails_delivered"] is True
    assert baseline["lifecycles"] == 4
    assert baseline["activities"] == project["activities"]


async def test_api_bench_sends_every_command_both_ways_without_failure() -> None:
    result = await api_latency.run(rounds=1, database_url=None, clients=4)

    _has_result_shape(result, "api")
    commands = 4 * len(api_latency.STEPS)
    for mode in ("project", "baseline"):
        assert result[mode]["failures"] == 0
        assert result[mode]["requests"] == commands
        assert {"p50_ms", "p95_ms", "p99_ms"} <= result[mode].keys()


async def test_idle_bench_delivers_every_reminder_once() -> None:
    plan = idle.Plan(calibration=4, slack_factor=2.0, slack_seconds=4.0, warm_up=1)
    result = await idle.run(size=8, concurrency=8, database_url=None, plan=plan)

    _has_result_shape(result, "idle")
    project, baseline = result["project"], result["baseline"]
    assert project["reminders_recorded"] == project["issues_reminded"] == 8
    assert project["reminder_mails_sent"] == 8 * idle.REMINDER_MAILS
    assert project["all_delivered"] is True
    assert project["peak_rss_mib"] > 0
    assert baseline["reminders_delivered"] == 8
    assert baseline["all_delivered"] is True


def test_audit_bench_verifies_every_row() -> None:
    result = audit_trail.run(size=1000, database_url=None)

    _has_result_shape(result, "audit")
    assert result["project"]["rows_verified"] == 1000
    assert result["project"]["ok"] is True
    assert result["project"]["checkpoint_valid"] is True
    assert result["baseline"]["rows_hashed"] == 1000
    assert result["baseline"]["mismatches"] == 0
    assert result["read_only"]["rows_read"] == 1000


async def test_dashboard_bench_gets_the_same_figures_both_ways() -> None:
    result = await dashboard.run(size=500, audit_rows=100, database_url=None)

    _has_result_shape(result, "dashboard")
    assert result["figures_match"] is True
    assert set(result["project"]["views_ms"]) == {v.value for v in dashboard.VIEWS}
