"""The `iscflow` command as a person uses it: the embedded stack and the admin commands."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from iscflow.demo import DEMO_PASSWORD
from iscflow.devserver import free_port, port_open
from tests.support.processes import iscflow_executable


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ISCFLOW_DATA_DIR": str(data_dir)}
    env.pop("ISCFLOW_DATABASE_URL", None)
    return subprocess.run(
        [iscflow_executable(), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_users_add_prints_a_token_once_and_refuses_bad_input(tmp_path: Path) -> None:
    assert _run("db", "upgrade", data_dir=tmp_path).returncode == 0
    ok = _run(
        "users", "add", "--name", "Ana", "--email", "ana@example.org", "--role", "focal_point",
        "--sector", "ITU-T", "--theme", "accessibility", data_dir=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "token: isc_" in ok.stdout
    again = _run(
        "users", "add", "--name", "Ana", "--email", "ana@example.org", "--role", "chair",
        data_dir=tmp_path,
    )  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    bad_theme = _run(
        "users", "add", "--name", "B", "--email", "b@example.org", "--role", "focal_point",
        "--sector", "ITU-T", "--theme", "nope", data_dir=tmp_path,
    )  # fmt: skip
    assert bad_theme.returncode == 1 and "unknown theme 'nope'" in bad_theme.stderr
    bad_role = _run(
        "users", "add", "--name", "C", "--email", "c@example.org", "--role", "king",
        data_dir=tmp_path,
    )  # fmt: skip
    assert bad_role.returncode == 2 and "king" in bad_role.stderr


@pytest.mark.slow
async def test_up_demo_serves_the_api_and_temporal_then_stops_cleanly(tmp_path: Path) -> None:
    api_port, temporal_port, ui_port, mail_port = free_port(), free_port(), free_port(), free_port()
    env = {**os.environ, "ISCFLOW_DATA_DIR": str(tmp_path)}
    env.pop("ISCFLOW_DATABASE_URL", None)
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [iscflow_executable(), "up", "--demo", "--port", str(api_port),
         "--temporal-port", str(temporal_port), "--ui-port", str(ui_port),
         "--mail-port", str(mail_port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not port_open("127.0.0.1", api_port):
            assert process.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "iscflow up did not start in time"
            time.sleep(0.2)
        tokens = json.loads((tmp_path / "demo-tokens.json").read_text())
        fp = {"Authorization": f"Bearer {tokens['fp-accessibility-tsb']}"}
        base = f"http://127.0.0.1:{api_port}/api/v1"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            listed = (await http.get("/issues", headers=fp, params={"limit": 200})).json()
            # The twelve demo issues, and those the system opened for overdue recommendations.
            assert listed["total"] >= 12
            assert {i["state"] for i in listed["items"]} == {
                "open", "escalation_requested", "escalated", "decided", "resolved", "closed",
                "withdrawn",
            }  # fmt: skip
            created = await http.post(
                "/issues",
                headers=fp,
                json={
                    "title": "Accessible PDFs",
                    "description": "Tag them.",
                    "theme": "accessibility",
                },
            )
            assert created.status_code == 201
            issue_id = created.json()["id"]
            listed = (await http.get("/issues", headers=fp, params={"limit": 200})).json()
            assert issue_id in [i["id"] for i in listed["items"]]
            ui = await http.get(f"http://127.0.0.1:{ui_port}/")
            assert ui.status_code == 200
            secretariat = {"Authorization": f"Bearer {tokens['demo-secretariat']}"}
            mails = (await http.get("/outbox", headers=secretariat, params={"limit": 200})).json()
            assert mails["total"] > 0
            assert {"issue_raised", "escalation_requested"} <= {m["kind"] for m in mails["items"]}
            meetings = (await http.get("/meetings", headers=fp, params={"limit": 200})).json()
            assert meetings["total"] == 40
            upcoming = meetings["items"][0]
            assert (upcoming["number"], upcoming["state"]) == (40, "scheduled")
            escalated = [i["title"] for i in listed["items"] if i["state"] == "escalated"]
            assert sorted(a["title"] for a in upcoming["agenda"]) == sorted(escalated)
            assert all(m["historical"] for m in meetings["items"][1:])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as web:
            form = await web.get("/sign-in")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf is not None, form.text
            signed = await web.post(
                "/sign-in",
                data={
                    "email": "demo-chair@demo.iscflow.example",
                    "password": DEMO_PASSWORD,
                    "csrf_token": csrf[1],
                    "next": "/preferences",
                },
            )
            assert (signed.status_code, signed.headers["location"]) == (303, "/preferences")
            preferences = await web.get("/preferences")
            assert preferences.status_code == 200
            assert "Deputy Secretary-General" in preferences.text
        temporal = await Client.connect(f"127.0.0.1:{temporal_port}")
        described = await temporal.get_workflow_handle(f"issue-{issue_id}").describe()
        assert described.workflow_type == "IssueWorkflow"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "up.log").read_text()
    assert "iscflow stopped." in (tmp_path / "up.log").read_text()
    assert not port_open("127.0.0.1", temporal_port)
    assert list((tmp_path / "mail").glob("*.eml")), "the embedded SMTP sink kept no message"
