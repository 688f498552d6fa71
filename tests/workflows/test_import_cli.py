"""`iscflow import` and `iscflow dashboard` as a secretariat runs them, against a real stack."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from iscflow.recommendation_import import COLUMNS
from iscflow.risk_import import COLUMNS as RISK_COLUMNS
from iscflow.settings import Settings

ISCFLOW = Path(sys.executable).parent / "iscflow"

pytestmark = pytest.mark.usefixtures("worker", "people")


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    """The CLI is the same on both engines; the storage tests cover PostgreSQL."""
    yield sqlite_engine


async def iscflow(settings: Settings, *args: str) -> tuple[int, str, str]:
    """Run the command in a child process; the test's worker keeps serving meanwhile."""
    env = {
        **os.environ,
        "ISCFLOW_DATA_DIR": str(settings.data_dir),
        "ISCFLOW_DATABASE_URL": settings.database_url,
        "ISCFLOW_TEMPORAL_ADDRESS": settings.temporal_address,
        "ISCFLOW_TASK_QUEUE": settings.task_queue,
    }
    process = await asyncio.create_subprocess_exec(
        str(ISCFLOW),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _write(path: Path, header: tuple[str, ...], records: list[dict[str, object]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(records)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _recommendations(tag: str, risks: str = "") -> list[dict[str, object]]:
    target = (date.today() + timedelta(days=400)).isoformat()
    return [
        {"source": "IMAC", "symbol": f"C21/{tag}", "number": n, "issued_on": "2021-03-15",
         "title": f"IMAC recommendation {n}", "text": "Text of the recommendation.",
         "owner": "fp_access", "theme": "accessibility", "target_date": target,
         "risks": risks, "acceptance": "accepted"}
        for n in (1, 2, 3)
    ]  # fmt: skip


async def test_a_secretariat_imports_the_risk_register_then_recommendations(
    settings: Settings, tmp_path: Path
) -> None:
    risks = _write(
        tmp_path / "register.csv",
        RISK_COLUMNS,
        [
            {"id": "R-ERM", "title": "Risk management not embedded", "description": "-",
             "owner": "chair", "inherent_likelihood": 4, "inherent_impact": 4,
             "residual_likelihood": 3, "residual_impact": 3, "treatment": "Action plan."},
            {"id": "R-BAD", "title": "Worse after treatment", "description": "-",
             "owner": "chair", "inherent_likelihood": 1, "inherent_impact": 1,
             "residual_likelihood": 5, "residual_impact": 5, "treatment": "-"},
        ],
    )  # fmt: skip
    code, out, err = await iscflow(settings, "import", "risks", str(risks))
    assert code == 1
    assert "2 rows: 1 created, 0 updated, 0 unchanged, 1 invalid" in out
    assert "line 3, residual_likelihood" in err

    tag = uuid.uuid4().hex[:8]
    file = _write(tmp_path / "recommendations.csv", COLUMNS, _recommendations(tag, "R-ERM"))
    code, out, err = await iscflow(settings, "import", "recommendations", str(file))
    assert code == 0, err
    assert "3 rows: 3 created, 0 updated, 0 unchanged, 0 invalid" in out
    assert "Importing" in out + err  # the progress bar

    code, out, _ = await iscflow(settings, "import", "recommendations", str(file))
    assert (code, "3 rows: 0 created, 0 updated, 3 unchanged, 0 invalid" in out) == (0, True)


async def test_invalid_rows_are_listed_and_written_to_a_report(
    settings: Settings, tmp_path: Path
) -> None:
    records = _recommendations(uuid.uuid4().hex[:8])
    records[1]["owner"] = "chair"
    records[2]["risks"] = "R-NONE"  # the register is empty
    file = _write(tmp_path / "mixed.csv", COLUMNS, records)

    code, out, err = await iscflow(
        settings, "import", "recommendations", str(file), "--report", str(tmp_path / "r.csv")
    )

    assert code == 1
    assert "1 created" in out and "2 invalid" in out
    assert "line 3, owner" in err and "line 4, risks" in err
    report = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert [(r["line"], r["field_or_id"]) for r in report] == [("3", "owner"), ("4", "risks")]


async def test_the_dashboard_prints_and_exports_from_sql(
    settings: Settings, tmp_path: Path
) -> None:
    file = _write(tmp_path / "recs.csv", COLUMNS, _recommendations(uuid.uuid4().hex[:8]))
    await iscflow(settings, "import", "recommendations", str(file))

    code, out, _ = await iscflow(settings, "dashboard", "--by", "source")
    assert code == 0
    assert "imac" in out and "100%" in out  # three accepted of three decided

    target = tmp_path / "by-theme.xlsx"
    code, out, _ = await iscflow(
        settings, "dashboard", "--by", "theme", "--format", "xlsx", "-o", str(target)
    )
    sheet = load_workbook(target).active
    assert code == 0
    assert [[c.value for c in row][:2] for row in sheet.iter_rows()][1:] == [
        ["accessibility", 3],
        ["all", 3],
    ]
