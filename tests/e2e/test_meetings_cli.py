"""`iscflow meetings` as the secretariat runs it: list, show, schedule and send the agenda."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from domain.issues import DecisionOutcome
from domain.meetings import AgendaItem, ItemKind, Meeting, MeetingEvent, MeetingState
from domain.roles import Role
from iscflow.mailsink import MailSink
from storage import meetings
from storage.db import create_db_engine, session_scope
from tests.support.processes import iscflow_executable, start_worker_process

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECRETARIAT = "sec@example.org"


def _run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ISCFLOW_DATA_DIR": str(data_dir), **env}
    environment.pop("ISCFLOW_DATABASE_URL", None)
    return subprocess.run(
        [iscflow_executable(), *args], env=environment, cwd=data_dir, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def _add_user(data_dir: Path, email: str, role: str) -> None:
    added = _run(
        "users", "add", "--name", "Sam", "--email", email, "--role", role, data_dir=data_dir
    )
    assert added.returncode == 0, added.stderr


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database made by `iscflow db upgrade`, seen from the test."""
    upgraded = _run("db", "upgrade", data_dir=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_db_engine(f"sqlite:///{tmp_path / 'iscflow.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def _record_history(engine: Engine) -> None:
    """Meetings 38 and 39 as past records (one in winter, one in summer time)."""
    with session_scope(engine) as session:
        for number, starts_at in (
            (38, datetime(2020, 1, 13, 9, 0, tzinfo=UTC)),
            (39, datetime(2021, 3, 31, 9, 0, tzinfo=UTC)),
        ):
            meetings.record_history(
                session=session, number=number, title=f"ISC-TF meeting {number}",
                starts_at=starts_at, now=NOW,
            )  # fmt: skip


def _record_held_meeting(engine: Engine) -> None:
    """Meeting 40, held, as its workflow would have recorded it: one item decided, one not."""
    meeting = Meeting(
        number=40,
        title="ISC-TF meeting 40",
        starts_at=datetime(2026, 6, 15, 8, 0, tzinfo=UTC),
        place="Geneva, Tower room",
        virtual_link="https://meet.example.org/isc-tf",
        state=MeetingState.HELD,
        items=(
            AgendaItem(
                item_id="40-1", kind=ItemKind.ISSUE, title="Shared captioning contract",
                issue_id="issue-7", outcome=DecisionOutcome.RESOLVED, decision_text="BDT pays.",
            ),
            AgendaItem(
                item_id="40-2", kind=ItemKind.THEME_UPDATE, title="Accessibility update",
                theme="accessibility",
            ),
        ),
        created_at=NOW,
        updated_at=NOW,
    )  # fmt: skip
    event = MeetingEvent(
        number=40, sequence=1, name="MeetingHeld", actor_id="secretariat",
        actor_role=Role.SECRETARIAT, at=NOW, from_state=None, to_state=MeetingState.HELD,
    )  # fmt: skip
    with session_scope(engine) as session:
        meetings.apply_meeting_event(session=session, meeting=meeting, event=event, recorded_at=NOW)


def _lines(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()]


def test_list_prints_each_meeting_in_geneva_time(engine: Engine, tmp_path: Path) -> None:
    _record_history(engine)
    _record_held_meeting(engine)

    listed = _run("meetings", "list", data_dir=tmp_path)
    held = _run("meetings", "list", "--state", "held", data_dir=tmp_path)
    scheduled = _run("meetings", "list", "--state", "scheduled", data_dir=tmp_path)

    assert listed.returncode == 0, listed.stderr
    assert _lines(listed.stdout)[1:] == [
        ["40", "2026-06-15", "10:00", "held", "2"],
        ["39", "2021-03-31", "11:00", "minutes_recorded", "0", "(past", "record)"],
        ["38", "2020-01-13", "10:00", "minutes_recorded", "0", "(past", "record)"],
    ]
    assert [line[0] for line in _lines(held.stdout)[1:]] == ["40"]
    assert (scheduled.returncode, scheduled.stdout.strip()) == (0, "no meetings")


def test_show_prints_the_agenda_with_its_decisions(engine: Engine, tmp_path: Path) -> None:
    _record_held_meeting(engine)

    shown = _run("meetings", "show", "40", data_dir=tmp_path)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "ISC-TF meeting 40 — held",
        "starts: 2026-06-15 10:00 Geneva time",
        "place: Geneva, Tower room",
        "link: https://meet.example.org/isc-tf",
        "agenda:",
        "  1. Shared captioning contract [issue issue-7] (item 40-1)",
        "     decided: resolved — BDT pays.",
        "  2. Accessibility update [theme update, accessibility] (item 40-2)",
        "     decided: not yet",
    ]


def test_show_of_an_unknown_meeting_fails(engine: Engine, tmp_path: Path) -> None:
    shown = _run("meetings", "show", "77", data_dir=tmp_path)

    assert shown.returncode == 1
    assert "no meeting 77" in shown.stderr


def test_schedule_refuses_an_unknown_or_unentitled_user(engine: Engine, tmp_path: Path) -> None:
    _add_user(tmp_path, "chair@example.org", "chair")
    starts = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    unknown = _run(
        "meetings", "schedule", "--starts-at", starts, "--as", "nobody@example.org",
        data_dir=tmp_path,
    )  # fmt: skip
    chair = _run(
        "meetings", "schedule", "--starts-at", starts, "--as", "chair@example.org",
        data_dir=tmp_path,
    )  # fmt: skip

    assert unknown.returncode == 1
    assert "no user with e-mail nobody@example.org" in unknown.stderr
    assert chair.returncode == 1
    assert "chair@example.org is chair; only the secretariat" in chair.stderr


def test_schedule_refuses_a_time_without_offset(engine: Engine, tmp_path: Path) -> None:
    _add_user(tmp_path, SECRETARIAT, "secretariat")

    naive = _run(
        "meetings", "schedule", "--starts-at", "2030-01-07T10:00", "--as", SECRETARIAT,
        data_dir=tmp_path,
    )  # fmt: skip

    assert naive.returncode == 1
    assert "has no time zone" in naive.stderr


def test_schedule_and_send_the_agenda_through_a_worker(
    engine: Engine, tmp_path: Path, temporal_address: str, task_queue: str, mail_sink: MailSink
) -> None:
    _add_user(tmp_path, SECRETARIAT, "secretariat")
    # A floor of its own, so that the next number's workflow id is this test's alone.
    floor = 2_000_000 + uuid.uuid4().int % 1_000_000_000
    env = {
        "ISCFLOW_TEMPORAL_ADDRESS": temporal_address,
        "ISCFLOW_TASK_QUEUE": task_queue,
        "ISCFLOW_MEETINGS_HELD_BEFORE": str(floor),
    }
    log = tmp_path / "worker.log"
    worker = start_worker_process(
        temporal_address=temporal_address, task_queue=task_queue,
        database_url=f"sqlite:///{tmp_path / 'iscflow.db'}", data_dir=tmp_path,
        mail_port=mail_sink.port, log=log,
    )  # fmt: skip
    try:
        scheduled = _run(
            "meetings", "schedule", "--starts-at", "2030-01-07T10:00+01:00", "--place", "Geneva",
            "--link", "https://meet.example.org/isc-tf", "--as", SECRETARIAT,
            data_dir=tmp_path, **env,
        )  # fmt: skip
        listed = _run("meetings", "list", data_dir=tmp_path, **env)
        sent = _run("meetings", "send-agenda", str(floor + 1), "--as", SECRETARIAT,
                    data_dir=tmp_path, **env)  # fmt: skip
        again = _run("meetings", "send-agenda", str(floor + 1), "--as", SECRETARIAT,
                     data_dir=tmp_path, **env)  # fmt: skip
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert scheduled.returncode == 0, scheduled.stderr + log.read_text()
    assert scheduled.stdout.strip() == (
        f"meeting {floor + 1} scheduled for 2030-01-07 10:00 Geneva time (0 agenda items)"
    )
    assert _lines(listed.stdout)[1:] == [[str(floor + 1), "2030-01-07", "10:00", "scheduled", "0"]]
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == f"agenda of meeting {floor + 1} sent (0 items)"
    assert again.returncode == 1
    assert "cannot send agenda while the meeting is agenda sent" in again.stderr
