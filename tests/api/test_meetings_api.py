"""/api/v1/meetings: who may do what, and the status codes and bodies of every endpoint.

Meeting numbers are drawn at random: the Temporal dev server (and so the workflow id
`meeting-<n>`) is shared by every test of the run.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.app import create_app
from iscflow.settings import Settings
from storage import meetings, repository
from storage.db import session_scope
from tests.api.conftest import auth
from tests.support.people import People

MEETINGS = "/api/v1/meetings"
THEME = {"kind": "theme_update", "title": "Accessibility update", "theme": "accessibility"}
NOT_SECRETARIAT = ("fp_access", "chair", "executive", "auditor", "admin")
NOT_DECIDERS = ("fp_access", "executive", "auditor", "admin")
SECRETARIAT_ONLY = ("reschedule", "add_item", "remove_item", "reorder", "send_agenda")
DECIDERS_ONLY = ("mark_held", "decide_item", "record_minutes")
COMMANDS = (*SECRETARIAT_ONLY, *DECIDERS_ONLY)


def _number() -> int:
    return 1000 + uuid.uuid4().int % 1_000_000


def _later(days: float = 60) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _command(name: str, item_id: str) -> tuple[str, str, dict[str, Any] | None]:
    """Method, path after /meetings/{n}/ and a valid body of each command endpoint."""
    decision = {"item_id": item_id, "outcome": "resolved", "text": "Noted."}
    return {
        "reschedule": ("POST", "reschedule", {"starts_at": _later(90)}),
        "add_item": ("POST", "agenda", THEME),
        "remove_item": ("DELETE", f"agenda/{item_id}", None),
        "reorder": ("PUT", "agenda/order", {"order": [item_id]}),
        "send_agenda": ("POST", "send-agenda", None),
        "mark_held": ("POST", "held", None),
        "decide_item": ("POST", "decisions", decision),
        "record_minutes": ("POST", "minutes", None),
    }[name]


async def _send(
    api: httpx.AsyncClient, token: str | None, number: int, name: str, item_id: str = "x-1"
) -> httpx.Response:
    method, path, body = _command(name, item_id)
    headers = auth(token) if token is not None else {}
    return await api.request(method, f"{MEETINGS}/{number}/{path}", json=body, headers=headers)


def _error(r: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = r.json()["error"]
    return error


async def _schedule(api: httpx.AsyncClient, people: People, **fields: Any) -> httpx.Response:
    body = {"starts_at": _later(), "place": "Geneva, Tower room", **fields}
    return await api.post(MEETINGS, json=body, headers=auth(people.secretariat.token))


async def _post(
    api: httpx.AsyncClient, token: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await api.post(f"{MEETINGS}/{path}", json=body, headers=auth(token))


async def _meeting(api: httpx.AsyncClient, people: People, *, theme: bool = True) -> int:
    """A fresh scheduled meeting, with one theme update on its agenda unless told otherwise."""
    number = _number()
    r = await _schedule(api, people, number=number)
    assert r.status_code == 201, r.text
    if theme:
        added = await _post(api, people.secretariat.token, f"{number}/agenda", THEME)
        assert added.status_code == 200, added.text
    return number


async def _advance(api: httpx.AsyncClient, people: People, number: int, to: str) -> None:
    """Send the agenda and, for `held`, mark the meeting held."""
    steps = {"agenda_sent": ["send-agenda"], "held": ["send-agenda", "held"]}[to]
    for step in steps:
        r = await _post(api, people.secretariat.token, f"{number}/{step}")
        assert r.status_code == 200, r.text
    assert r.json()["state"] == to


async def _get(api: httpx.AsyncClient, people: People, number: int) -> dict[str, Any]:
    r = await api.get(f"{MEETINGS}/{number}", headers=auth(people.auditor.token))
    assert r.status_code == 200, r.text
    meeting: dict[str, Any] = r.json()
    return meeting


def _items(meeting: dict[str, Any]) -> list[str]:
    return [i["item_id"] for i in meeting["agenda"]]


async def _escalated_issue(api: httpx.AsyncClient, people: People, title: str) -> str:
    """An issue raised by a focal point and escalated to the task force, over HTTP."""
    fp, chair = auth(people.fp_access.token), auth(people.chair.token)
    raised = await api.post(
        "/api/v1/issues",
        json={"title": title, "description": "No agreement.", "theme": "accessibility"},
        headers=fp,
    )
    assert raised.status_code == 201, raised.text
    iid = str(raised.json()["id"])
    asked = await api.post(
        f"/api/v1/issues/{iid}/escalation-request", json={"reason": "For the TF."}, headers=fp
    )
    assert asked.status_code == 200, asked.text
    approved = await api.post(
        f"/api/v1/issues/{iid}/escalation-request/approve", json={"note": "OK"}, headers=chair
    )
    assert approved.json()["state"] == "escalated", approved.text
    return iid


# -- who may do what -------------------------------------------------------------------------


async def test_only_the_secretariat_schedules(api: httpx.AsyncClient, people: People) -> None:
    number = _number()
    for who in NOT_SECRETARIAT:
        r = await api.post(
            MEETINGS,
            json={"number": number, "starts_at": _later()},
            headers=auth(getattr(people, who).token),
        )
        assert (r.status_code, _error(r)["code"]) == (403, "permission_denied"), who
    missing = await api.get(f"{MEETINGS}/{number}", headers=auth(people.auditor.token))
    assert missing.status_code == 404


@pytest.mark.parametrize("command", SECRETARIAT_ONLY)
async def test_only_the_secretariat_runs_the_agenda(
    api: httpx.AsyncClient, people: People, command: str
) -> None:
    number = await _meeting(api, people)
    before = await _get(api, people, number)
    for who in NOT_SECRETARIAT:
        token = getattr(people, who).token
        r = await _send(api, token, number, command, before["agenda"][0]["item_id"])
        assert (r.status_code, _error(r)["code"]) == (403, "permission_denied"), who
    assert await _get(api, people, number) == before


@pytest.mark.parametrize("command", DECIDERS_ONLY)
async def test_only_the_secretariat_and_the_chair_conclude_a_meeting(
    api: httpx.AsyncClient, people: People, command: str
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "agenda_sent" if command == "mark_held" else "held")
    before = await _get(api, people, number)
    for who in NOT_DECIDERS:
        token = getattr(people, who).token
        r = await _send(api, token, number, command, before["agenda"][0]["item_id"])
        assert (r.status_code, _error(r)["code"]) == (403, "permission_denied"), who
    assert await _get(api, people, number) == before


async def test_the_chair_marks_held_decides_and_records_minutes(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "agenda_sent")
    (item,) = _items(await _get(api, people, number))
    chair = people.chair.token

    held = await _send(api, chair, number, "mark_held")
    decided = await _send(api, chair, number, "decide_item", item)
    minuted = await _send(api, chair, number, "record_minutes")

    assert [r.status_code for r in (held, decided, minuted)] == [200, 200, 200]
    assert held.json()["state"] == "held" and held.json()["held_at"] is not None
    assert decided.json()["agenda"][0]["outcome"] == "resolved"
    assert minuted.json()["state"] == "minutes_recorded"
    assert minuted.json()["minutes_recorded_at"] is not None


async def test_every_role_reads_meetings(api: httpx.AsyncClient, people: People) -> None:
    number = await _meeting(api, people)
    for who, user in people.all().items():
        listed = await api.get(MEETINGS, headers=auth(user.token))
        one = await api.get(f"{MEETINGS}/{number}", headers=auth(user.token))
        assert (listed.status_code, one.status_code) == (200, 200), who
        assert [m["number"] for m in listed.json()["items"]] == [number]
        assert one.json()["number"] == number


async def test_without_a_token_every_endpoint_answers_401(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    answers = [
        await api.get(MEETINGS),
        await api.get(f"{MEETINGS}/{number}"),
        await api.post(MEETINGS, json={"starts_at": _later()}),
        *[await _send(api, None, number, command) for command in COMMANDS],
    ]
    assert {(r.status_code, _error(r)["code"]) for r in answers} == {(401, "unauthorized")}


# -- reading ---------------------------------------------------------------------------------


async def test_the_list_is_newest_first_with_past_records_and_filters_by_state(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    number = await _meeting(api, people)
    past = number - 1
    with session_scope(engine) as session:
        meetings.record_history(
            session=session, number=past, title=f"ISC-TF meeting {past}",
            starts_at=datetime(2020, 5, 4, 9, tzinfo=UTC), now=datetime.now(UTC),
        )  # fmt: skip
    reader = auth(people.fp_access.token)

    listed = (await api.get(MEETINGS, headers=reader)).json()
    scheduled = (await api.get(MEETINGS, params={"state": "scheduled"}, headers=reader)).json()

    assert [(m["number"], m["state"], m["historical"]) for m in listed["items"]] == [
        (number, "scheduled", False),
        (past, "minutes_recorded", True),
    ]
    assert listed["total"] == 2
    assert [m["number"] for m in scheduled["items"]] == [number]


# -- scheduling and numbers -------------------------------------------------------------------


async def test_scheduling_answers_201_with_the_meeting(
    api: httpx.AsyncClient, people: People
) -> None:
    number, starts_at = _number(), _later()

    r = await _schedule(api, people, number=number, starts_at=starts_at, virtual_link="https://x")

    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["number"], body["title"], body["state"]) == (
        number, f"ISC-TF meeting {number}", "scheduled",
    )  # fmt: skip
    assert datetime.fromisoformat(body["starts_at"]) == datetime.fromisoformat(starts_at)
    assert (body["place"], body["virtual_link"], body["agenda"]) == (
        "Geneva, Tower room", "https://x", [],
    )  # fmt: skip
    assert (await _get(api, people, number))["state"] == "scheduled"


async def test_a_start_given_with_an_offset_reads_back_as_the_same_instant(
    api: httpx.AsyncClient, people: People
) -> None:
    number, starts_at = _number(), "2030-06-17T10:00:00+02:00"

    r = await _schedule(api, people, number=number, starts_at=starts_at)

    assert r.status_code == 201, r.text
    shown = datetime.fromisoformat((await _get(api, people, number))["starts_at"])
    assert shown == datetime.fromisoformat(starts_at)


async def test_scheduling_the_same_number_twice_returns_the_same_meeting(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    number = _number()

    first = await _schedule(api, people, number=number, title="First title")
    second = await _schedule(api, people, number=number, title="Second title")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    with Session(engine) as session:
        rows = repository.list_audit(session=session, stream=f"meeting-{number}")
    assert [r.action for r in rows] == ["MeetingScheduled"]


@pytest.fixture
def floor() -> int:
    """A `meetings_held_before` no other test uses, so `meeting-<floor+1>` is this test's."""
    return 2_000_000 + uuid.uuid4().int % 1_000_000_000


@pytest.fixture
async def api_with_floor(
    settings: Settings, engine: Engine, client: Client, worker: None, floor: int
) -> AsyncIterator[httpx.AsyncClient]:
    """The `api` fixture, for an installation that counts `floor` meetings held before it."""
    app = create_app(
        settings.model_copy(update={"meetings_held_before": floor}), engine=engine, client=client
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://iscflow.test") as http:
            yield http


async def test_the_first_meeting_continues_the_numbers_held_before(
    api_with_floor: httpx.AsyncClient, people: People, engine: Engine, floor: int
) -> None:
    with session_scope(engine) as session:  # an older record does not lower the floor
        meetings.record_history(
            session=session, number=floor - 5, title="Old", now=datetime.now(UTC),
            starts_at=datetime(2019, 1, 7, tzinfo=UTC),
        )  # fmt: skip

    r = await _schedule(api_with_floor, people)

    assert r.status_code == 201, r.text
    assert (r.json()["number"], r.json()["title"]) == (floor + 1, f"ISC-TF meeting {floor + 1}")


async def test_without_a_number_the_next_after_the_highest_is_taken(
    api_with_floor: httpx.AsyncClient, people: People, engine: Engine, floor: int
) -> None:
    with session_scope(engine) as session:
        meetings.record_history(
            session=session, number=floor + 7, title="Recorded", now=datetime.now(UTC),
            starts_at=datetime(2021, 3, 1, tzinfo=UTC),
        )  # fmt: skip

    r = await _schedule(api_with_floor, people)

    assert r.status_code == 201, r.text
    assert r.json()["number"] == floor + 8


def test_by_default_numbering_continues_the_real_sequence_at_40() -> None:
    # Not through the API: `meeting-40` on the shared dev server belongs to no single test.
    assert Settings.model_fields["meetings_held_before"].default + 1 == 40


# -- the agenda --------------------------------------------------------------------------------


async def test_the_agenda_starts_with_the_escalated_issues_only(
    api: httpx.AsyncClient, people: People
) -> None:
    escalated = await _escalated_issue(api, people, "Shared captioning contract")
    still_open = await api.post(
        "/api/v1/issues",
        json={"title": "Not yet escalated", "description": "d", "theme": "accessibility"},
        headers=auth(people.fp_access.token),
    )
    assert still_open.status_code == 201

    r = await _schedule(api, people, number=_number())

    assert r.status_code == 201, r.text
    (item,) = r.json()["agenda"]
    assert (item["kind"], item["issue_id"], item["title"], item["position"]) == (
        "issue", escalated, "Shared captioning contract", 1,
    )  # fmt: skip
    assert item["outcome"] is None


async def test_the_secretariat_adds_reorders_and_removes_items(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people, theme=False)
    secretariat = people.secretariat.token
    gender = {"kind": "theme_update", "title": "Gender update", "theme": "gender"}
    await _post(api, secretariat, f"{number}/agenda", THEME)
    added = await _post(api, secretariat, f"{number}/agenda", gender)
    first, second = _items(added.json())

    reordered = await api.put(
        f"{MEETINGS}/{number}/agenda/order", json={"order": [second, first]},
        headers=auth(secretariat),
    )  # fmt: skip
    removed = await api.delete(f"{MEETINGS}/{number}/agenda/{second}", headers=auth(secretariat))

    assert added.status_code == 200
    assert [(i["position"], i["theme"]) for i in added.json()["agenda"]] == [
        (1, "accessibility"), (2, "gender"),
    ]  # fmt: skip
    assert reordered.status_code == 200
    assert [(i["position"], i["item_id"]) for i in reordered.json()["agenda"]] == [
        (1, second), (2, first),
    ]  # fmt: skip
    assert removed.status_code == 200
    assert _items(removed.json()) == [first]
    assert _items(await _get(api, people, number)) == [first]


async def test_the_secretariat_reschedules_and_sends_the_agenda(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    later = _later(75)

    moved = await _post(
        api, people.secretariat.token, f"{number}/reschedule",
        {"starts_at": later, "place": "Online"},
    )  # fmt: skip
    sent = await _post(api, people.secretariat.token, f"{number}/send-agenda")

    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == datetime.fromisoformat(later)
    assert moved.json()["place"] == "Online"
    assert sent.status_code == 200, sent.text
    assert sent.json()["state"] == "agenda_sent" and sent.json()["agenda_sent_at"] is not None


async def test_a_decision_moves_the_issue_and_is_shown_on_the_agenda(
    api: httpx.AsyncClient, people: People
) -> None:
    issue_id = await _escalated_issue(api, people, "Interpretation budget")
    number = await _meeting(api, people, theme=False)
    (item,) = _items(await _get(api, people, number))
    await _advance(api, people, number, "held")

    r = await _post(
        api, people.chair.token, f"{number}/decisions",
        {"item_id": item, "outcome": "resolved", "text": "BDT pays."},
    )  # fmt: skip

    assert r.status_code == 200, r.text
    issue = await api.get(f"/api/v1/issues/{issue_id}", headers=auth(people.auditor.token))
    assert issue.json()["state"] == "decided"
    recorded = issue.json()["audit_trail"][-1]
    assert (recorded["action"], recorded["actor_id"]) == ("DecisionRecorded", "chair")
    assert recorded["payload"]["reference"] == f"meeting-{number}/{item}"
    (shown,) = (await _get(api, people, number))["agenda"]
    assert (shown["issue_id"], shown["outcome"], shown["decision_text"]) == (
        issue_id, "resolved", "BDT pays.",
    )  # fmt: skip


# -- 404 and 409 -------------------------------------------------------------------------------


async def test_an_unknown_meeting_answers_404_everywhere(
    api: httpx.AsyncClient, people: People
) -> None:
    number = _number()
    secretariat = people.secretariat.token
    answers = [
        await api.get(f"{MEETINGS}/{number}", headers=auth(secretariat)),
        *[await _send(api, secretariat, number, command) for command in COMMANDS],
    ]
    assert [(r.status_code, _error(r)["code"]) for r in answers] == [(404, "not_found")] * (
        1 + len(COMMANDS)
    )


async def test_a_past_record_takes_no_command_409(
    api: httpx.AsyncClient, people: People, engine: Engine
) -> None:
    number = _number()
    with session_scope(engine) as session:
        meetings.record_history(
            session=session, number=number, title="Past", now=datetime.now(UTC),
            starts_at=datetime(2020, 1, 13, 9, tzinfo=UTC),
        )  # fmt: skip

    answers = [await _send(api, people.secretariat.token, number, c) for c in COMMANDS]
    scheduled = await _schedule(api, people, number=number)

    for command, r in zip(COMMANDS, answers, strict=True):
        assert r.status_code == 409, command
        assert _error(r)["current_state"] == "minutes_recorded", command
    assert scheduled.status_code == 422
    assert _error(scheduled)["field"] == "number"
    assert (await _get(api, people, number))["historical"] is True


async def test_the_agenda_cannot_change_once_sent_409(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "agenda_sent")
    (item,) = _items(await _get(api, people, number))

    for command in ("add_item", "remove_item", "reorder", "send_agenda"):
        r = await _send(api, people.secretariat.token, number, command, item)
        assert r.status_code == 409, command
        assert _error(r)["current_state"] == "agenda_sent", command
    assert _items(await _get(api, people, number)) == [item]


async def test_a_decision_before_the_meeting_is_held_answers_409(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "agenda_sent")
    (item,) = _items(await _get(api, people, number))

    r = await _send(api, people.chair.token, number, "decide_item", item)

    assert r.status_code == 409
    assert (_error(r)["code"], _error(r)["current_state"]) == ("illegal_transition", "agenda_sent")
    assert "held" in _error(r)["allowed_states"]


async def test_a_decision_on_an_item_not_on_the_agenda_answers_409(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "held")

    r = await _send(api, people.chair.token, number, "decide_item", "no-such-item")

    assert r.status_code == 409
    assert _error(r)["current_state"] == "held"
    assert "no-such-item" in _error(r)["message"]


async def test_minutes_are_recorded_once_409(api: httpx.AsyncClient, people: People) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "held")
    (item,) = _items(await _get(api, people, number))
    assert (await _send(api, people.chair.token, number, "decide_item", item)).status_code == 200
    first = await _send(api, people.chair.token, number, "record_minutes")

    again = await _send(api, people.chair.token, number, "record_minutes")

    assert first.status_code == 200, first.text
    assert again.status_code == 409, again.text
    assert _error(again)["current_state"] == "minutes_recorded"


# -- 422 ---------------------------------------------------------------------------------------


async def test_a_start_in_the_past_answers_422_naming_starts_at(
    api: httpx.AsyncClient, people: People
) -> None:
    scheduled = await _schedule(api, people, number=_number(), starts_at=_later(-1))
    number = await _meeting(api, people)
    moved = await _post(
        api, people.secretariat.token, f"{number}/reschedule", {"starts_at": _later(-1)}
    )

    for r in (scheduled, moved):
        assert r.status_code == 422, r.text
        assert (_error(r)["code"], _error(r)["field"]) == ("invalid_command", "starts_at")


async def test_a_start_without_time_zone_answers_422(
    api: httpx.AsyncClient, people: People
) -> None:
    r = await _schedule(api, people, number=_number(), starts_at="2030-01-07T10:00:00")

    assert r.status_code == 422
    assert [f["field"] for f in _error(r)["fields"]] == ["starts_at"]


async def test_an_unknown_field_answers_422_naming_it(
    api: httpx.AsyncClient, people: People
) -> None:
    scheduled = await _schedule(api, people, number=_number(), room="C1")
    number = await _meeting(api, people)
    added = await _post(api, people.secretariat.token, f"{number}/agenda", {**THEME, "urgent": 1})

    assert [f["field"] for f in _error(scheduled)["fields"]] == ["room"]
    assert [f["field"] for f in _error(added)["fields"]] == ["urgent"]
    assert (scheduled.status_code, added.status_code) == (422, 422)


async def test_an_order_that_does_not_name_every_item_once_answers_422(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    r = await _post(api, people.secretariat.token, f"{number}/agenda", THEME)
    first, second = _items(r.json())

    for order in ([first], [first, first], [first, second, "x-9"]):
        r = await api.put(
            f"{MEETINGS}/{number}/agenda/order", json={"order": order},
            headers=auth(people.secretariat.token),
        )  # fmt: skip
        assert r.status_code == 422, order
        assert _error(r)["field"] == "order", order


async def test_an_issue_item_without_its_issue_answers_422(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people, theme=False)

    r = await _post(
        api, people.secretariat.token, f"{number}/agenda", {"kind": "issue", "title": "Which?"}
    )

    assert r.status_code == 422
    assert _error(r)["field"] == "issue_id"


async def test_a_theme_update_cannot_be_referred_back_422(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "held")
    (item,) = _items(await _get(api, people, number))

    r = await _post(
        api, people.chair.token, f"{number}/decisions",
        {"item_id": item, "outcome": "referred_back", "text": "Again."},
    )  # fmt: skip

    assert r.status_code == 422
    assert _error(r)["field"] == "outcome"


async def test_minutes_with_an_undecided_item_answer_422(
    api: httpx.AsyncClient, people: People
) -> None:
    number = await _meeting(api, people)
    await _advance(api, people, number, "held")

    r = await _send(api, people.secretariat.token, number, "record_minutes")

    assert r.status_code == 422
    assert _error(r)["field"] == "items"
    assert (await _get(api, people, number))["state"] == "held"
