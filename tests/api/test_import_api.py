"""Importing recommendations by uploading a CSV or XLSX file to the API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session

from domain.risks import RiskData
from domain.roles import Actor, Role
from iscflow.recommendation_import import COLUMNS
from storage import repository, risks
from storage.db import session_scope
from tests.api.conftest import auth
from tests.support.people import People

TARGET = (date.today() + timedelta(days=500)).isoformat()
ISSUED = (date.today() - timedelta(days=300)).isoformat()


@pytest.fixture(autouse=True)
def register(engine: Engine, people: People) -> None:
    data = RiskData(
        title="Documents not available in the six languages",
        description="Translation backlog.",
        owner_id="chair",
        inherent_likelihood=4,
        inherent_impact=3,
        residual_likelihood=3,
        residual_impact=3,
        treatment="Action plan.",
    )
    with session_scope(engine) as session:
        risks.save_risk(
            session=session,
            risk_id="RISK-LANG",
            data=data,
            actor=Actor(id="secretariat", role=Role.SECRETARIAT),
            now=datetime.now(UTC),
        )


@pytest.fixture
def tag() -> str:
    """Report symbols of this test's own: business keys are unique on the test server."""
    return uuid.uuid4().hex[:8]


def rows(tag: str) -> list[dict[str, Any]]:
    base = {"issued_on": ISSUED, "addressee": "executive_head", "target_date": TARGET}
    return [
        {**base, "source": "JIU", "symbol": f"JIU/{tag}", "number": 1,
         "title": "Adopt an accessibility policy", "text": "With measurable targets.",
         "owner": "fp_access", "theme": "accessibility", "priority": "high",
         "risks": "RISK-LANG", "acceptance": "accepted", "implementation": "in_progress",
         "progress": 40},
        {**base, "source": "External Auditor", "symbol": f"C21/{tag}", "number": 4,
         "title": "Caption remote meetings", "text": "In the six languages.",
         "owner": "fp_access_d", "theme": "accessibility", "priority": "medium"},
        {**base, "source": "internal_audit", "symbol": f"IA-{tag}", "number": 2,
         "title": "Gender-disaggregated statistics", "text": "For study groups.",
         "owner": "fp_gender", "theme": "gender", "acceptance": "not_relevant",
         "justification": "Published by the advisory groups."},
    ]  # fmt: skip


def as_csv(records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()


def as_xlsx(records: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([c.replace("_", " ").capitalize() for c in COLUMNS])
    for record in records:
        sheet.append([_cell(name, record.get(name)) for name in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(name: str, value: Any) -> Any:
    if name in {"issued_on", "target_date"} and value:
        return datetime.fromisoformat(value)  # a real date cell, as Excel keeps it
    return value


async def upload(
    api: httpx.AsyncClient, token: str, name: str, content: bytes, dry_run: bool = False
) -> httpx.Response:
    return await api.post(
        f"/api/v1/recommendations/import?dry_run={str(dry_run).lower()}",
        files={"file": (name, content)},
        headers=auth(token),
    )


async def test_a_valid_file_is_imported_and_a_second_import_changes_nothing(
    api: httpx.AsyncClient, people: People, engine: Engine, tag: str
) -> None:
    content = as_csv(rows(tag))
    first = await upload(api, people.secretariat.token, "recs.csv", content)
    with Session(engine) as session:
        audited = repository.count_audit(session=session, stream_prefix="rec-")
    second = await upload(api, people.secretariat.token, "recs.csv", content)

    assert first.status_code == 200, first.text
    assert (len(first.json()["created"]), first.json()["invalid"]) == (3, [])
    assert (second.json()["created"], second.json()["updated"]) == ([], [])
    assert sorted(second.json()["unchanged"]) == sorted(first.json()["created"])
    assert second.json()["notes"] == []
    with Session(engine) as session:
        assert repository.count_audit(session=session, stream_prefix="rec-") == audited
    listed = await api.get("/api/v1/recommendations?source=jiu", headers=auth(people.chair.token))
    jiu = next(r for r in listed.json()["items"] if r["symbol"] == f"JIU/{tag}")
    assert (jiu["acceptance"], jiu["implementation"], jiu["progress"]) == (
        "accepted",
        "in_progress",
        40,
    )
    assert jiu["risks"] == ["RISK-LANG"]


async def test_an_excel_file_imports_like_the_same_csv(
    api: httpx.AsyncClient, people: People, tag: str
) -> None:
    from_xlsx = await upload(api, people.secretariat.token, "recs.xlsx", as_xlsx(rows(tag)))
    from_csv = await upload(api, people.secretariat.token, "recs.csv", as_csv(rows(tag)))

    assert (len(from_xlsx.json()["created"]), from_xlsx.json()["invalid"]) == (3, [])
    assert sorted(from_csv.json()["unchanged"]) == sorted(from_xlsx.json()["created"])


async def test_a_mixed_file_imports_the_valid_rows_and_reports_each_invalid_one(
    api: httpx.AsyncClient, people: People, tag: str
) -> None:
    records = rows(tag)
    records[0]["owner"] = "fp_gender"  # not a focal point of accessibility
    records[2]["issued_on"] = "31/12/2020"

    response = await upload(api, people.secretariat.token, "mixed.csv", as_csv(records))

    report = response.json()
    assert report["rows"] == 3
    assert report["created"] == [f"rec-external_auditor-c21-{tag}-4"]
    assert [(e["line"], e["field"]) for e in report["invalid"]] == [(2, "owner"), (4, "issued_on")]


async def test_an_entirely_invalid_file_imports_nothing(
    api: httpx.AsyncClient, people: People, tag: str
) -> None:
    records = [dict(r, theme="climate") for r in rows(tag)]

    report = (await upload(api, people.secretariat.token, "bad.csv", as_csv(records))).json()

    assert (report["created"], report["updated"], report["unchanged"]) == ([], [], [])
    assert {(e["line"], e["field"]) for e in report["invalid"]} == {
        (2, "theme"),
        (3, "theme"),
        (4, "theme"),
    }


async def test_a_changed_row_becomes_an_audited_update_and_a_changed_status_a_note(
    api: httpx.AsyncClient, people: People, tag: str
) -> None:
    records = rows(tag)
    await upload(api, people.secretariat.token, "recs.csv", as_csv(records))
    records[0]["title"] = "Adopt and publish an accessibility policy"
    records[1]["acceptance"] = "accepted"  # a status: changes through its own commands

    report = (await upload(api, people.secretariat.token, "recs.csv", as_csv(records))).json()

    first, second = f"rec-jiu-jiu-{tag}-1", f"rec-external_auditor-c21-{tag}-4"
    assert (report["updated"], sorted(report["unchanged"])) == (
        [first],
        sorted([second, f"rec-internal_audit-ia-{tag}-2"]),
    )
    assert [(n["line"], n["id"]) for n in report["notes"]] == [(3, second)]
    assert "acceptance is under_consideration" in report["notes"][0]["message"]
    detail = (
        await api.get(f"/api/v1/recommendations/{first}", headers=auth(people.auditor.token))
    ).json()
    assert detail["title"] == "Adopt and publish an accessibility policy"
    last = detail["audit_trail"][-1]
    assert (last["action"], last["actor_id"]) == ("RecordUpdated", "secretariat")
    assert set(last["payload"]["changes"]) == {"title"}


async def test_a_dry_run_reports_without_changing_anything(
    api: httpx.AsyncClient, people: People, tag: str
) -> None:
    planned = await upload(
        api, people.secretariat.token, "recs.csv", as_csv(rows(tag)), dry_run=True
    )
    listed = await api.get(
        f"/api/v1/recommendations/rec-jiu-jiu-{tag}-1", headers=auth(people.chair.token)
    )

    assert (planned.json()["dry_run"], len(planned.json()["created"])) == (True, 3)
    assert listed.status_code == 404


async def test_only_the_secretariat_imports(
    api: httpx.AsyncClient, people: People, tag: str
) -> None:
    response = await upload(api, people.fp_access.token, "recs.csv", as_csv(rows(tag)))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("recs.pdf", b"%PDF-1.7", "neither"),
        ("recs.csv", b"title,colour\nA,red\n", "unknown column"),
        ("recs.xlsx", b"not a workbook", "Excel"),
    ],
)
async def test_a_file_that_is_not_an_import_table_is_refused(
    api: httpx.AsyncClient, people: People, name: str, content: bytes, words: str
) -> None:
    response = await upload(api, people.secretariat.token, name, content)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"][0]["field"] == "file" and words in error["message"]
