"""/api/v1/mapping: the ISCG mapping table, its edits, exports and the `iscflow mapping` CLI."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import Engine

from iscflow.demo import MAPPING, load_mapping
from storage import mapping
from storage.db import session_scope
from storage.repository import list_audit
from tests.api.conftest import auth
from tests.support.people import People
from tests.support.processes import iscflow_executable

URL = "/api/v1/mapping"
NOW = datetime(2025, 3, 1, tzinfo=UTC)
EDITORS = ["secretariat", "admin"]
READERS = ["fp_access", "chair", "executive", "auditor"]
ARABIC, CHINESE, RUSSIAN = "لجنة الدراسات 5", "第5研究组", "Исследовательская комиссия 5"
CLIMATE = {
    "topic": "Climate change",
    "sector": "ITU-T",
    "entity": "SG 5",
    "contact": "tsb-sg5@example.org",
    "theme": "environment-smart-cities",
}


async def _put(
    api: httpx.AsyncClient, people: People, body: dict[str, Any], who: str = "secretariat"
) -> httpx.Response:
    return await api.put(URL, json=body, headers=auth(getattr(people, who).token))


async def _created(api: httpx.AsyncClient, people: People, **changes: str) -> dict[str, Any]:
    r = await _put(api, people, {**CLIMATE, **changes})
    assert r.status_code == 200, r.text
    entry: dict[str, Any] = r.json()
    return entry


async def _multilingual(api: httpx.AsyncClient, people: People) -> None:
    await _created(api, people, sector="ITU-D", entity=ARABIC)
    await _created(api, people, sector="ITU-R", entity=CHINESE)
    await _created(api, people, entity=RUSSIAN)
    await _created(
        api, people, topic="Gender", sector="GS", entity="<script>x</script>", theme="gender"
    )


@pytest.mark.parametrize("who", EDITORS)
async def test_secretariat_and_admin_set_an_entry(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    r = await _put(api, people, CLIMATE, who)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in CLIMATE} == CLIMATE
    assert isinstance(body["id"], int) and body["updated_at"]


@pytest.mark.parametrize("who", READERS)
async def test_other_roles_may_not_set_an_entry(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    r = await _put(api, people, CLIMATE, who)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


async def test_setting_the_same_topic_and_sector_again_replaces_the_entry(
    api: httpx.AsyncClient, people: People
) -> None:
    first = await _created(api, people)
    second = await _created(api, people, entity="SG 5 (new name)", contact="")
    assert second["id"] == first["id"]
    assert (second["entity"], second["contact"]) == ("SG 5 (new name)", "")
    listed = (await api.get(URL, headers=auth(people.auditor.token))).json()
    assert listed["total"] == 1 and listed["items"] == [second]


async def test_setting_an_unchanged_entry_keeps_its_update_time(
    api: httpx.AsyncClient, people: People
) -> None:
    first = await _created(api, people)
    assert (await _created(api, people))["updated_at"] == first["updated_at"]


@pytest.mark.parametrize(("field", "value"), [("sector", "ITU-X"), ("theme", "no-such-theme")])
async def test_an_unknown_sector_or_theme_answers_422_naming_the_field(
    api: httpx.AsyncClient, people: People, field: str, value: str
) -> None:
    r = await _put(api, people, {**CLIMATE, field: value})
    assert r.status_code == 422
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_command", field)
    assert value in error["message"]
    assert [f["field"] for f in error["fields"]] == [field]


async def test_an_extra_field_answers_422(api: httpx.AsyncClient, people: People) -> None:
    r = await _put(api, people, {**CLIMATE, "owner": "me"})
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["owner"]


async def test_a_blank_entity_answers_422(api: httpx.AsyncClient, people: People) -> None:
    r = await _put(api, people, {**CLIMATE, "entity": "  "})
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["entity"]


@pytest.mark.parametrize("who", EDITORS + READERS + ["fp_gender"])
async def test_every_role_reads_the_table_and_an_entry(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    entry = await _created(api, people)
    listed = await api.get(URL, headers=auth(getattr(people, who).token))
    assert listed.status_code == 200
    assert listed.json() == {"items": [entry], "total": 1}
    one = await api.get(f"{URL}/{entry['id']}", headers=auth(getattr(people, who).token))
    assert (one.status_code, one.json()) == (200, entry)


async def test_reading_without_a_token_answers_401(api: httpx.AsyncClient) -> None:
    assert (await api.get(URL)).status_code == 401
    assert (await api.get(f"{URL}/export.csv")).status_code == 401


async def test_an_unknown_entry_answers_404(api: httpx.AsyncClient, people: People) -> None:
    r = await api.get(f"{URL}/999", headers=auth(people.fp_access.token))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "topics"),
    [
        ({"topic": "CLIM"}, ["Climate change"]),
        ({"theme": "gender"}, ["Gender"]),
        ({"sector": "GS"}, ["Gender", "Gender equality"]),
        ({"topic": "gender", "sector": "ITU-T"}, []),
    ],
)
async def test_the_list_filters_by_topic_theme_and_sector(
    api: httpx.AsyncClient, people: People, query: dict[str, str], topics: list[str]
) -> None:
    await _created(api, people)
    await _created(api, people, topic="Gender", sector="GS", theme="gender")
    await _created(api, people, topic="Gender equality", sector="GS", theme="accessibility")
    r = await api.get(URL, params=query, headers=auth(people.chair.token))
    assert [e["topic"] for e in r.json()["items"]] == topics


@pytest.mark.parametrize("who", EDITORS)
async def test_secretariat_and_admin_delete_an_entry(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    entry = await _created(api, people)
    headers = auth(getattr(people, who).token)
    r = await api.delete(f"{URL}/{entry['id']}", headers=headers)
    assert (r.status_code, r.content) == (204, b"")
    assert (await api.get(f"{URL}/{entry['id']}", headers=headers)).status_code == 404
    assert (await api.delete(f"{URL}/{entry['id']}", headers=headers)).status_code == 404


@pytest.mark.parametrize("who", READERS)
async def test_other_roles_may_not_delete_an_entry(
    api: httpx.AsyncClient, people: People, who: str
) -> None:
    entry = await _created(api, people)
    r = await api.delete(f"{URL}/{entry['id']}", headers=auth(getattr(people, who).token))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"
    assert (await api.get(f"{URL}/{entry['id']}", headers=auth(people.admin.token))).is_success


async def test_every_role_downloads_every_export(api: httpx.AsyncClient, people: People) -> None:
    await _created(api, people)
    types = {"csv": "text/csv", "xlsx": "application/vnd.openxml", "html": "text/html"}
    for who in people.all().values():
        for ext, media_type in types.items():
            r = await api.get(f"{URL}/export.{ext}", headers=auth(who.token))
            assert r.status_code == 200, (who.actor.id, ext, r.text)
            assert r.headers["content-type"].startswith(media_type)
            assert r.headers["content-disposition"] == f"attachment; filename=iscflow-mapping.{ext}"


async def test_an_unknown_export_format_answers_422(api: httpx.AsyncClient, people: People) -> None:
    r = await api.get(f"{URL}/export.pdf", headers=auth(people.fp_access.token))
    assert r.status_code == 422


def _expected_rows() -> list[list[str]]:
    climate = ["Climate change", "Environment and sustainable smart cities and communities"]
    contact = CLIMATE["contact"]
    return [
        ["Topic", "Theme", "GS entity", "GS contact", "ITU-D entity", "ITU-D contact",
         "ITU-R entity", "ITU-R contact", "ITU-T entity", "ITU-T contact"],
        [*climate, "", "", ARABIC, contact, CHINESE, contact, RUSSIAN, contact],
        ["Gender", "Gender", "<script>x</script>", contact, "", "", "", "", "", ""],
    ]  # fmt: skip


async def test_the_csv_export_reads_back_with_the_same_cells(
    api: httpx.AsyncClient, people: People
) -> None:
    await _multilingual(api, people)
    r = await api.get(f"{URL}/export.csv", headers=auth(people.executive.token))
    assert r.content.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")))) == _expected_rows()


async def test_the_xlsx_export_opens_with_the_same_cells(
    api: httpx.AsyncClient, people: People
) -> None:
    await _multilingual(api, people)
    r = await api.get(f"{URL}/export.xlsx", headers=auth(people.executive.token))
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)] == _expected_rows()


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self.caption = ""
        self._where = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in {"th", "td", "caption"}:
            self._where = tag
            if tag != "caption":
                self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._where = ""

    def handle_data(self, data: str) -> None:
        if self._where == "caption":
            self.caption += data
        elif self._where:
            self.rows[-1][-1] += data


async def test_the_html_export_is_a_table_with_caption_and_escaped_cells(
    api: httpx.AsyncClient, people: People
) -> None:
    await _multilingual(api, people)
    r = await api.get(f"{URL}/export.html", headers=auth(people.executive.token))
    parsed = _Cells()
    parsed.feed(r.text)
    assert parsed.caption.startswith("ISCG mapping table")
    assert parsed.rows == _expected_rows()
    assert "script" not in parsed.tags
    assert "&lt;script&gt;x&lt;/script&gt;" in r.text


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ISCFLOW_DATA_DIR": str(data_dir)}
    env.pop("ISCFLOW_DATABASE_URL", None)
    return subprocess.run(
        [iscflow_executable(), *args], env=env, capture_output=True, text=True, timeout=120
    )


IMPORT = (
    "topic,sector,entity,contact,theme\n"
    "Climate change,ITU-T,SG 5,tsb-sg5@example.org,environment-smart-cities\n"
    f"Climate change,ITU-D,{ARABIC},,\n"
    "Gender,GS,Gender focal point,gs-gender@example.org,gender\n"
)


def test_the_cli_imports_a_csv_idempotently_and_exports_xlsx(tmp_path: Path) -> None:
    assert _cli("db", "upgrade", data_dir=tmp_path).returncode == 0
    source = tmp_path / "mapping.csv"
    source.write_text(IMPORT, encoding="utf-8")
    first = _cli("mapping", "import", str(source), data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "3 rows: 3 created, 0 updated, 0 unchanged" in first.stdout
    again = _cli("mapping", "import", str(source), data_dir=tmp_path)
    assert "3 rows: 0 created, 0 updated, 3 unchanged" in again.stdout
    out = tmp_path / "out.xlsx"
    exported = _cli(
        "mapping", "export", "--format", "xlsx", "--output", str(out), data_dir=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    sheet = openpyxl.load_workbook(out).active
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert [r[0] for r in rows] == ["Topic", "Climate change", "Gender"]
    assert (rows[1][4], rows[1][8], rows[2][2]) == (ARABIC, "SG 5", "Gender focal point")


def test_the_cli_refuses_a_file_with_an_unknown_sector_naming_its_line(tmp_path: Path) -> None:
    assert _cli("db", "upgrade", data_dir=tmp_path).returncode == 0
    source = tmp_path / "bad.csv"
    source.write_text(IMPORT + "Gender,ITU-X,Someone,,\n", encoding="utf-8")
    r = _cli("mapping", "import", str(source), data_dir=tmp_path)
    assert r.returncode == 1
    assert "line 5: unknown sector 'ITU-X'" in r.stderr
    out = tmp_path / "out.csv"
    assert _cli("mapping", "export", "-o", str(out), data_dir=tmp_path).returncode == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1  # nothing was imported


def test_the_cli_refuses_a_bad_row_before_touching_the_database(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("topic,sector,entity\nClimate change,ITU-T,\n", encoding="utf-8")
    r = _cli("mapping", "import", str(source), data_dir=tmp_path)
    assert r.returncode == 1
    assert "line 2: entity is empty" in r.stderr


def test_the_demo_mapping_loads_once_and_keeps_later_edits(engine: Engine) -> None:
    assert load_mapping(engine, NOW) == len(MAPPING)
    with session_scope(engine) as session:
        mapping.upsert_entry(
            session=session,
            topic="Gender",
            sector="GS",
            entity="Edited",
            now=NOW,
            theme="gender",
            actor=("secretariat", "secretariat"),
        )
    assert load_mapping(engine, NOW) == 0
    with session_scope(engine) as session:
        entries = mapping.list_entries(session=session)
        edited = mapping.find_entry(session=session, topic="Gender", sector="GS")
    assert len(entries) == len(MAPPING)
    assert edited is not None and edited.entity == "Edited"


async def test_every_mapping_change_is_in_the_audit_trail(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    editor = {"Authorization": f"Bearer {people.secretariat.token}"}
    body = {"topic": "Audited topic", "sector": "ITU-T", "entity": "SG 5"}
    created = await api.put("/api/v1/mapping", json=body, headers=editor)
    await api.put("/api/v1/mapping", json=body, headers=editor)  # unchanged: not audited
    await api.put("/api/v1/mapping", json={**body, "entity": "SG 20"}, headers=editor)
    await api.delete(f"/api/v1/mapping/{created.json()['id']}", headers=editor)

    with session_scope(engine) as session:
        rows = list_audit(session=session, stream="mapping")
    assert [(r.action, r.actor_id, r.payload["entity"]) for r in rows] == [
        ("MappingEntrySet", "secretariat", "SG 5"),
        ("MappingEntrySet", "secretariat", "SG 20"),
        ("MappingEntryRemoved", "secretariat", "SG 20"),
    ]
