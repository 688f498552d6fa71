"""Text in the six UN languages comes back exactly as it was sent, on both databases.

Raised through the API, read back through the API and the issue list, and carried intact
into the notification the other focal point receives.
"""

from __future__ import annotations

import asyncio
import email.policy
import uuid
from collections.abc import Iterator
from email.parser import BytesParser
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from iscflow.mailsink import MailSink
from tests.conftest import _migrated
from tests.security.conftest import bearer
from tests.support.people import People

# Each with what breaks careless code: Arabic with a right-to-left mark and a tatweel,
# Chinese with an astral-plane ideograph, French with both composed and decomposed
# accents, Russian with a soft sign and ё, Spanish with ñ and inverted marks.
TEXTS = {
    "ar": ("إتاحة وثائق المجلس\u200f", "يجب أن تكون جميع وثائق المجلس مـتاحة لقارئات الشاشة."),
    "zh": ("理事会文件的无障碍", "所有理事会文件都应可供屏幕阅读器使用 \U00020bb7。"),
    "en": ("Accessible Council documents", "Every Council PDF must be tagged — “smart quotes”."),
    "fr": ("Documents du Conseil accessibles", "Le comité a décidé ; l'e\u0301te\u0301 prochain."),
    "ru": ("Доступность документов Совета", "Документы Совета должны быть доступны: ёж, ь."),
    "es": ("¿Documentos accesibles del Consejo?", "¡Documentos accesibles para todos! Año, niño."),
}  # fmt: skip


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Both databases: text is stored by each in its own way."""
    yield from _migrated(database_url)


async def _round_trip(
    api: httpx.AsyncClient, fp: dict[str, str], title: str, text: str
) -> dict[str, Any]:
    """Raise an issue with `title` and `text`, comment `text`, and read both back."""
    raised = await api.post(
        "/api/v1/issues",
        json={"title": title, "description": text, "theme": "accessibility"},
        headers=fp,
    )
    issue_id = raised.json()["id"]
    commented = await api.post(
        f"/api/v1/issues/{issue_id}/comments", json={"body": text}, headers=fp
    )
    read = await api.get(f"/api/v1/issues/{issue_id}", headers=fp)
    assert (raised.status_code, commented.status_code, read.status_code) == (201, 200, 200)
    issue: dict[str, Any] = read.json()
    return issue


async def test_text_in_every_un_language_round_trips_through_raise_and_read(
    api: httpx.AsyncClient, people: People
) -> None:
    fp = bearer(people.fp_access.token)
    read = {lang: await _round_trip(api, fp, *TEXTS[lang]) for lang in sorted(TEXTS)}
    listed = (await api.get("/api/v1/issues?mine=true", headers=fp)).json()["items"]

    for lang, (title, text) in TEXTS.items():
        issue = read[lang]
        audit = [a["payload"] for a in issue["audit_trail"]]
        assert (issue["title"], issue["description"]) == (title, text), lang
        assert [c["body"] for c in issue["comments"]] == [text], lang
        assert (audit[0]["title"], audit[1]["body"]) == (title, text), lang
    assert sorted((i["title"], i["description"]) for i in listed) == sorted(TEXTS.values())


@pytest.mark.parametrize("language", ["ar", "zh"])
async def test_a_title_in_a_non_latin_script_reaches_the_mail_intact(
    api: httpx.AsyncClient, people: People, mail_sink: MailSink, language: str
) -> None:
    title, description = TEXTS[language]
    await api.post(
        "/api/v1/issues",
        json={"title": title, "description": description, "theme": "accessibility"},
        headers=bearer(people.fp_access.token),
    )
    for _ in range(100):  # the other focal point is told of the new issue
        if mail_sink.messages():
            break
        await asyncio.sleep(0.1)

    (message,) = mail_sink.messages()
    reparsed = BytesParser(policy=email.policy.default).parsebytes(message.as_bytes())
    text = reparsed.get_body(preferencelist=("plain",))
    assert text is not None and title.strip() in text.get_content()


@pytest.mark.usefixtures("stuck_workflows_terminated")
async def test_a_nul_character_in_a_body_is_refused_naming_its_field(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    """PostgreSQL text cannot hold NUL: accepted, it would fail every attempt to persist and
    leave the caller waiting for a 500. Refused on both databases alike."""
    fp = bearer(people.fp_access.token)
    issue_id = str(uuid.uuid4())
    raised = await api.post(
        "/api/v1/issues",
        json={"id": issue_id, "title": "NUL", "description": "a\x00b", "theme": "accessibility"},
        headers=fp,
    )
    nested = await api.put(
        "/api/v1/recommendations/x",
        json={"risks": ["R-1", "R\x002"]},
        headers=bearer(people.secretariat.token),
    )

    assert raised.status_code == 422, raised.text
    assert [f["field"] for f in raised.json()["error"]["fields"]] == ["description"]
    assert nested.status_code == 422, nested.text
    assert [f["field"] for f in nested.json()["error"]["fields"]] == ["risks.1"]
    assert (await api.get(f"/api/v1/issues/{issue_id}", headers=fp)).status_code == 404


async def test_a_nul_character_in_a_path_or_query_is_refused_not_a_server_error(
    api: httpx.AsyncClient, people: People
) -> None:
    chair = bearer(people.chair.token)

    in_path = await api.get("/api/v1/issues/a%00b", headers=chair)
    in_query = await api.get("/api/v1/issues", params={"theme": "a\x00b"}, headers=chair)

    assert (in_path.status_code, in_query.status_code) == (422, 422), (in_path.text, in_query.text)
    assert in_query.json()["error"]["fields"][0]["field"] == "theme"


@pytest.mark.usefixtures("stuck_workflows_terminated")
async def test_a_nul_character_in_an_imported_file_is_reported_for_its_row(
    api: httpx.AsyncClient, people: People
) -> None:
    header = "source,symbol,number,issued_on,title,text,owner,theme"
    row = f"jiu,JIU/NUL/{uuid.uuid4().hex[:8]},1,2024-06-01,Ti\x00tle,Text,fp_access,accessibility"
    response = await api.post(
        "/api/v1/recommendations/import",
        files={"file": ("recs.csv", f"{header}\n{row}\n".encode(), "text/csv")},
        headers=bearer(people.secretariat.token),
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == [] and [e["field"] for e in report["invalid"]] == ["title"]
