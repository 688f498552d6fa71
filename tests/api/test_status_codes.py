"""Every endpoint's status codes: success, 401, 403, 404, 409 and 422, with their JSON bodies.

Each test brings a fresh issue into the state it needs through the API itself, then sends
one request and checks both the status and the machine-readable part of the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.calendar import BusinessCalendar
from domain.issues import ALLOWED_FROM
from tests.api.conftest import auth
from tests.support.people import People

ISSUES = "/api/v1/issues"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

RAISE = {
    "title": "Sign-language interpretation at WTDC",
    "description": "No budget line covers interpretation for deaf delegates.",
    "theme": "accessibility",
}


# -- the command endpoints, as a table -------------------------------------------------------


@dataclass(frozen=True)
class Command:
    path: str  # after /api/v1/issues/{id}/
    kind: str  # the domain command, key of ALLOWED_FROM
    body: dict[str, Any]  # a valid body
    actor: str  # someone allowed to send it (a People field)
    from_state: str  # a state in which it is legal


COMMANDS: dict[str, Command] = {
    "comment": Command("comments", "add_comment", {"body": "Any news?"}, "fp_access", "open"),
    "resolve": Command("resolve", "resolve", {"resolution": "BDT pays."}, "fp_access", "open"),
    "escalation-request": Command(
        "escalation-request", "request_escalation", {"reason": "No agreement."}, "fp_access", "open"
    ),
    "approve": Command(
        "escalation-request/approve",
        "approve_escalation",
        {"note": "On the agenda."},
        "chair",
        "escalation_requested",
    ),
    "return": Command(
        "escalation-request/return",
        "return_escalation",
        {"reason": "Talk again."},
        "chair",
        "escalation_requested",
    ),
    "decision": Command(
        "decision",
        "record_decision",
        {"outcome": "resolved", "text": "Split."},
        "chair",
        "escalated",
    ),
    "close": Command("close", "close", {"note": "Done."}, "fp_access", "resolved"),
    "withdraw": Command("withdraw", "withdraw", {"reason": "Duplicate."}, "fp_access", "open"),
}


def command_url(issue_id: str, command: str) -> str:
    return f"{ISSUES}/{issue_id}/{COMMANDS[command].path}"


# -- a small driver that walks an issue through its life over HTTP ----------------------------


@dataclass
class Driver:
    api: httpx.AsyncClient
    people: People

    def headers(self, who: str) -> dict[str, str]:
        return auth(getattr(self.people, who).token)

    async def post(self, url: str, who: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.post(url, json=body, headers=self.headers(who))

    async def send(
        self, issue_id: str, command: str, who: str | None = None, **body: Any
    ) -> httpx.Response:
        spec = COMMANDS[command]
        return await self.post(
            command_url(issue_id, command), who or spec.actor, {**spec.body, **body}
        )

    async def ok(
        self, issue_id: str, command: str, who: str | None = None, **body: Any
    ) -> dict[str, Any]:
        r = await self.send(issue_id, command, who, **body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    async def raise_issue(self, who: str = "fp_access", **fields: Any) -> dict[str, Any]:
        r = await self.post(ISSUES, who, {**RAISE, **fields})
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    async def get(self, issue_id: str, who: str = "auditor") -> dict[str, Any]:
        r = await self.api.get(f"{ISSUES}/{issue_id}", headers=self.headers(who))
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    async def issue_in(self, state: str) -> str:
        """A fresh issue of fp_access, brought into `state` (escalated means level 1)."""
        iid: str = (await self.raise_issue())["id"]
        steps: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {
            "open": [],
            "escalation_requested": [("escalation-request", None, {})],
            "escalated": [("escalation-request", None, {}), ("approve", None, {})],
            "decided": [
                ("escalation-request", None, {}),
                ("approve", None, {}),
                ("decision", None, {}),
            ],
            "resolved": [("resolve", None, {})],
            "closed": [("resolve", None, {}), ("close", None, {})],
            "withdrawn": [("withdraw", None, {})],
            "escalated_level_2": [
                ("escalation-request", None, {}),
                ("approve", None, {}),
                ("decision", None, {"outcome": "escalated_further"}),
                ("approve", "executive", {}),
            ],
        }
        issue: dict[str, Any] = {"state": "open"}
        for command, who, body in steps[state]:
            issue = await self.ok(iid, command, who, **body)
        assert issue["state"] == state.removesuffix("_level_2")
        return iid


@pytest.fixture
def drive(api: httpx.AsyncClient, people: People) -> Driver:
    return Driver(api, people)


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


def fields_of(r: httpx.Response) -> list[str]:
    error = error_of(r, 422, r.json()["error"]["code"])
    assert error["code"] in {"invalid_request", "invalid_command"}
    return [f["field"] for f in error["fields"]]


def future(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# == 200 / 201: the happy path =================================================================


async def test_raise_answers_201_with_the_issue_open_at_level_0(drive: Driver) -> None:
    before = datetime.now(UTC)
    r = await drive.post(ISSUES, "fp_access", RAISE)
    assert r.status_code == 201, r.text
    issue = r.json()
    assert {k: issue[k] for k in ("title", "description", "theme")} == RAISE
    assert issue["sector"] == "ITU-T" and issue["author_id"] == "fp_access"
    assert (issue["state"], issue["level"], issue["requested_level"], issue["version"]) == (
        "open",
        0,
        None,
        1,
    )
    assert issue["resolution"] is None and issue["decision"] is None
    assert issue["decision_outcome"] is None
    uuid.UUID(issue["id"])
    deadline = parse(issue["discussion_deadline"])
    created = parse(issue["created_at"])
    assert before <= created <= datetime.now(UTC)
    # Ten working days in Geneva span two weekends: at least twelve calendar days.
    assert deadline == BusinessCalendar().add_working_days(created, 10)
    assert deadline - created >= timedelta(days=12)


async def test_raise_strips_whitespace_from_the_echoed_fields(drive: Driver) -> None:
    issue = await drive.raise_issue(title="  Padded title  ", sector=" ITU-T ")
    assert (issue["title"], issue["sector"]) == ("Padded title", "ITU-T")


async def test_raise_takes_the_focal_points_sector_when_sector_is_omitted(drive: Driver) -> None:
    assert (await drive.raise_issue("fp_access"))["sector"] == "ITU-T"
    assert (await drive.raise_issue("fp_access_d"))["sector"] == "ITU-D"
    assert (await drive.raise_issue("fp_gender", theme="gender"))["sector"] == "GS"


async def test_raise_for_a_sector_other_than_ones_own_answers_422_naming_sector(
    drive: Driver,
) -> None:
    r = await drive.post(ISSUES, "fp_access", {**RAISE, "sector": "ITU-R"})
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["field"], fields_of(r)) == ("sector", ["sector"])


async def test_malformed_json_body_answers_422_naming_the_body(drive: Driver) -> None:
    r = await drive.api.post(
        ISSUES,
        content=b"not json",
        headers={**drive.headers("fp_access"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert fields_of(r) == ["body"]


async def test_list_answers_200_with_items_and_paging(drive: Driver) -> None:
    first = (await drive.raise_issue())["id"]
    second = (await drive.raise_issue(title="Captioning of webcasts"))["id"]
    r = await drive.api.get(ISSUES, params={"limit": 1}, headers=drive.headers("auditor"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
    assert [i["id"] for i in page["items"]] == [second]  # newest activity first
    r = await drive.api.get(
        ISSUES, params={"limit": 1, "offset": 1}, headers=drive.headers("auditor")
    )
    assert [i["id"] for i in r.json()["items"]] == [first]


async def test_list_filters_by_state(drive: Driver) -> None:
    escalated = await drive.issue_in("escalated")
    await drive.raise_issue()
    r = await drive.api.get(ISSUES, params={"state": "escalated"}, headers=drive.headers("chair"))
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [escalated]
    assert r.json()["items"][0]["state"] == "escalated"


async def test_list_with_mine_true_shows_only_the_callers_issues(drive: Driver) -> None:
    own = (await drive.raise_issue("fp_access"))["id"]
    await drive.raise_issue("fp_access_d")
    await drive.raise_issue("fp_gender", theme="gender")
    r = await drive.api.get(ISSUES, params={"mine": "true"}, headers=drive.headers("fp_access"))
    assert r.status_code == 200, r.text
    assert [(i["id"], i["author_id"]) for i in r.json()["items"]] == [(own, "fp_access")]
    assert r.json()["total"] == 1
    everyone = await drive.api.get(ISSUES, headers=drive.headers("fp_access"))
    assert everyone.json()["total"] == 3


async def test_list_filters_by_theme(drive: Driver) -> None:
    await drive.raise_issue("fp_access")
    gender = (await drive.raise_issue("fp_gender", theme="gender"))["id"]
    r = await drive.api.get(ISSUES, params={"theme": "gender"}, headers=drive.headers("chair"))
    assert r.status_code == 200, r.text
    assert [(i["id"], i["theme"]) for i in r.json()["items"]] == [(gender, "gender")]
    assert r.json()["total"] == 1


async def test_read_answers_200_with_comments_and_audit_trail(drive: Driver) -> None:
    iid = (await drive.raise_issue())["id"]
    await drive.ok(iid, "comment", body="Who pays?")
    r = await drive.api.get(f"{ISSUES}/{iid}", headers=drive.headers("auditor"))
    assert r.status_code == 200, r.text
    detail = r.json()
    assert (detail["id"], detail["state"], detail["version"]) == (iid, "open", 2)
    assert [(c["author_id"], c["author_role"], c["body"]) for c in detail["comments"]] == [
        ("fp_access", "focal_point", "Who pays?")
    ]
    assert [
        (a["sequence"], a["action"], a["from_state"], a["to_state"]) for a in detail["audit_trail"]
    ] == [
        (1, "IssueRaised", None, "open"),
        (2, "CommentAdded", "open", "open"),
    ]


@pytest.mark.parametrize("who", ["fp_access", "chair", "secretariat", "executive"])
async def test_comment_answers_200_and_keeps_the_state(drive: Driver, who: str) -> None:
    iid = await drive.issue_in("escalated")
    r = await drive.send(iid, "comment", who, body="A thought.")
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["state"], r.json()["level"], r.json()["version"]) == (
        iid,
        "escalated",
        1,
        4,
    )
    comments = (await drive.get(iid))["comments"]
    assert [(c["author_id"], c["body"]) for c in comments] == [(who, "A thought.")]


async def test_resolve_answers_200_with_state_resolved_and_the_resolution(drive: Driver) -> None:
    iid = await drive.issue_in("open")
    r = await drive.send(iid, "resolve", resolution="BDT covers the cost.")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["resolution"], r.json()["version"]) == (
        "resolved",
        "BDT covers the cost.",
        2,
    )


async def test_escalation_request_answers_200_with_requested_level_1(drive: Driver) -> None:
    iid = await drive.issue_in("open")
    r = await drive.send(iid, "escalation-request", reason="No agreement.")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["level"], r.json()["requested_level"]) == (
        "escalation_requested",
        0,
        1,
    )
    audit = (await drive.get(iid))["audit_trail"][-1]
    assert (audit["action"], audit["payload"]["reason"]) == ("EscalationRequested", "No agreement.")


async def test_approve_answers_200_with_state_escalated_at_level_1(drive: Driver) -> None:
    iid = await drive.issue_in("escalation_requested")
    r = await drive.send(iid, "approve", note="On the agenda.")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["level"], r.json()["requested_level"]) == (
        "escalated",
        1,
        None,
    )


async def test_approve_without_a_note_answers_200(drive: Driver) -> None:
    iid = await drive.issue_in("escalation_requested")
    r = await drive.post(command_url(iid, "approve"), "chair", {})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "escalated"


async def test_return_answers_200_with_state_open_and_the_new_deadline(drive: Driver) -> None:
    iid = await drive.issue_in("escalation_requested")
    deadline = future(30)
    r = await drive.send(iid, "return", reason="Talk again.", new_deadline=deadline.isoformat())
    assert r.status_code == 200, r.text
    issue = r.json()
    assert (issue["state"], issue["level"], issue["requested_level"]) == ("open", 0, None)
    assert parse(issue["discussion_deadline"]) == deadline


@pytest.mark.parametrize(
    ("outcome", "state", "level", "requested_level"),
    [
        ("resolved", "decided", 1, None),
        ("referred_back", "open", 0, None),
        ("escalated_further", "escalation_requested", 1, 2),
        ("deferred", "escalated", 1, None),
    ],
)
async def test_decision_answers_200_with_the_state_its_outcome_leads_to(
    drive: Driver, outcome: str, state: str, level: int, requested_level: int | None
) -> None:
    iid = await drive.issue_in("escalated")
    r = await drive.send(iid, "decision", "secretariat", outcome=outcome, text="Decided so.")
    assert r.status_code == 200, r.text
    issue = r.json()
    assert (issue["state"], issue["level"], issue["requested_level"]) == (
        state,
        level,
        requested_level,
    )
    assert (issue["decision"], issue["decision_outcome"]) == ("Decided so.", outcome)


async def test_executive_decides_at_level_2(drive: Driver) -> None:
    iid = await drive.issue_in("escalated_level_2")
    r = await drive.send(iid, "decision", "executive", outcome="resolved", text="Funded.")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["level"], r.json()["decision"]) == ("decided", 2, "Funded.")


@pytest.mark.parametrize(
    ("from_state", "who"),
    [
        ("resolved", "fp_access"),
        ("resolved", "fp_access_d"),
        ("decided", "chair"),
        ("decided", "secretariat"),
    ],
)
async def test_close_answers_200_with_state_closed(
    drive: Driver, from_state: str, who: str
) -> None:
    iid = await drive.issue_in(from_state)
    r = await drive.send(iid, "close", who, note="Done.")
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["state"]) == (iid, "closed")
    assert (await drive.get(iid))["state"] == "closed"


async def test_withdraw_answers_200_with_state_withdrawn(drive: Driver) -> None:
    iid = await drive.issue_in("open")
    r = await drive.send(iid, "withdraw", reason="Duplicate.")
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["state"]) == (iid, "withdrawn")
    audit = (await drive.get(iid))["audit_trail"][-1]
    assert (audit["action"], audit["payload"]["reason"]) == ("IssueWithdrawn", "Duplicate.")


async def test_me_answers_200_with_role_sector_and_themes(drive: Driver) -> None:
    r = await drive.api.get("/api/v1/me", headers=drive.headers("fp_access"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": "fp_access",
        "name": "Fp Access",
        "email": "fp_access@example.org",
        "role": "focal_point",
        "sector": "ITU-T",
        "themes": ["accessibility"],
        "language": "en",
    }


async def test_me_answers_200_for_a_user_without_sector_or_themes(drive: Driver) -> None:
    r = await drive.api.get("/api/v1/me", headers=drive.headers("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["role"], r.json()["sector"], r.json()["themes"]) == (
        "admin",
        "admin",
        None,
        [],
    )


async def test_themes_answers_200_with_every_theme(drive: Driver) -> None:
    r = await drive.api.get("/api/v1/themes", headers=drive.headers("auditor"))
    assert r.status_code == 200, r.text
    themes = {t["code"]: t["name"] for t in r.json()}
    assert len(themes) == 13
    assert themes["accessibility"] == "Accessibility" and themes["gender"] == "Gender"


async def test_sectors_answers_200_with_every_sector_and_bureau(drive: Driver) -> None:
    r = await drive.api.get("/api/v1/sectors", headers=drive.headers("auditor"))
    assert r.status_code == 200, r.text
    assert sorted((s["code"], s["bureau"]) for s in r.json()) == [
        ("GS", "GS"),
        ("ITU-D", "BDT"),
        ("ITU-R", "BR"),
        ("ITU-T", "TSB"),
    ]


@pytest.mark.parametrize("who", ["auditor", "admin", "fp_gender"])
async def test_reading_is_open_to_every_authenticated_role(drive: Driver, who: str) -> None:
    iid = (await drive.raise_issue())["id"]
    assert (await drive.get(iid, who))["id"] == iid
    r = await drive.api.get(ISSUES, headers=drive.headers(who))
    assert r.status_code == 200 and r.json()["total"] == 1


# == idempotent creation =====================================================================


async def test_same_idempotency_key_twice_gives_one_issue_and_one_audit_row(drive: Driver) -> None:
    headers = {**drive.headers("fp_access"), "Idempotency-Key": "raise-42"}
    first = await drive.api.post(ISSUES, json=RAISE, headers=headers)
    second = await drive.api.post(ISSUES, json=RAISE, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["version"] == 1
    detail = await drive.get(first.json()["id"])
    assert [a["action"] for a in detail["audit_trail"]] == ["IssueRaised"]
    listed = await drive.api.get(ISSUES, headers=drive.headers("auditor"))
    assert listed.json()["total"] == 1


async def test_idempotency_key_is_scoped_to_the_caller(drive: Driver) -> None:
    key = {"Idempotency-Key": "same-key"}
    a = await drive.api.post(ISSUES, json=RAISE, headers={**drive.headers("fp_access"), **key})
    b = await drive.api.post(ISSUES, json=RAISE, headers={**drive.headers("fp_access_d"), **key})
    assert (a.status_code, b.status_code) == (201, 201), b.text
    assert a.json()["id"] != b.json()["id"]
    assert (a.json()["author_id"], b.json()["author_id"]) == ("fp_access", "fp_access_d")


async def test_same_id_in_the_body_twice_gives_the_same_issue(drive: Driver) -> None:
    chosen = str(uuid.uuid4())
    first = await drive.raise_issue(id=chosen)
    second = await drive.raise_issue(id=chosen)
    assert first["id"] == second["id"] == chosen
    assert second["version"] == 1
    detail = await drive.get(chosen)
    assert [a["action"] for a in detail["audit_trail"]] == ["IssueRaised"]


async def test_an_id_already_used_by_another_author_is_refused(drive: Driver) -> None:
    chosen = str(uuid.uuid4())
    await drive.raise_issue("fp_access", id=chosen)
    r = await drive.post(ISSUES, "fp_gender", {**RAISE, "theme": "gender", "id": chosen})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"]


async def test_same_id_after_the_issue_finished_answers_with_its_final_state(drive: Driver) -> None:
    chosen = str(uuid.uuid4())
    await drive.raise_issue(id=chosen)
    await drive.ok(chosen, "withdraw")
    again = await drive.raise_issue(id=chosen)
    assert (again["id"], again["state"]) == (chosen, "withdrawn")


# == 401: no token, wrong token ===============================================================

ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", ISSUES, RAISE),
    ("GET", ISSUES, None),
    ("GET", f"{ISSUES}/{UNKNOWN_ID}", None),
    *[("POST", command_url(UNKNOWN_ID, name), spec.body) for name, spec in COMMANDS.items()],
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/themes", None),
    ("GET", "/api/v1/sectors", None),
]
ENDPOINT_IDS = [f"{m} {u.replace(UNKNOWN_ID, '{id}')}" for m, u, _ in ENDPOINTS]

BAD_CREDENTIALS = {
    "no-token": {},
    "wrong-token": {"Authorization": "Bearer not-a-real-token"},
}


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS), ids=list(BAD_CREDENTIALS))
@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
async def test_missing_or_wrong_token_answers_401_with_bearer_challenge(
    api: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None, credentials: str
) -> None:
    r = await api.request(method, url, json=body, headers=BAD_CREDENTIALS[credentials])
    error_of(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_a_non_bearer_authorization_answers_401(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    error_of(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_a_rejected_token_creates_nothing(drive: Driver) -> None:
    r = await drive.api.post(ISSUES, json=RAISE, headers={"Authorization": "Bearer nope"})
    error_of(r, 401, "unauthorized")
    listed = await drive.api.get(ISSUES, headers=drive.headers("auditor"))
    assert listed.json()["total"] == 0


# == 403: wrong role, wrong theme, not the author ============================================


@pytest.mark.parametrize("who", ["chair", "secretariat", "executive", "auditor", "admin"])
async def test_raise_by_a_role_other_than_focal_point_answers_403(drive: Driver, who: str) -> None:
    r = await drive.post(ISSUES, who, RAISE)
    error = error_of(r, 403, "permission_denied")
    assert "focal_point" in error["message"]


async def test_raise_by_a_focal_point_of_another_theme_answers_403(drive: Driver) -> None:
    r = await drive.post(ISSUES, "fp_gender", RAISE)
    error = error_of(r, 403, "permission_denied")
    assert "accessibility" in error["message"]
    listed = await drive.api.get(ISSUES, headers=drive.headers("auditor"))
    assert listed.json()["total"] == 0


FORBIDDEN: list[tuple[str, str]] = [
    # comment: the theme's focal points, chair, secretariat, executive
    ("comment", "auditor"),
    ("comment", "admin"),
    ("comment", "fp_gender"),
    # resolve and escalation request: the theme's focal points only
    ("resolve", "chair"),
    ("resolve", "auditor"),
    ("resolve", "admin"),
    ("resolve", "fp_gender"),
    ("escalation-request", "secretariat"),
    ("escalation-request", "auditor"),
    ("escalation-request", "admin"),
    ("escalation-request", "fp_gender"),
    # approve and return a level-1 request: the chair only
    ("approve", "fp_access"),
    ("approve", "secretariat"),
    ("approve", "auditor"),
    ("approve", "admin"),
    ("approve", "executive"),  # approver of level 2, not of level 1 (the workflow's check)
    ("return", "fp_access"),
    ("return", "secretariat"),
    ("return", "auditor"),
    ("return", "admin"),
    ("return", "executive"),
    # decision at level 1: the chair or the secretariat
    ("decision", "fp_access"),
    ("decision", "auditor"),
    ("decision", "admin"),
    ("decision", "executive"),  # decider of level 2, not of level 1 (the workflow's check)
    # close: the theme's focal points, chair, secretariat
    ("close", "executive"),
    ("close", "auditor"),
    ("close", "admin"),
    ("close", "fp_gender"),
    # withdraw: the author only
    ("withdraw", "chair"),
    ("withdraw", "auditor"),
    ("withdraw", "admin"),
    ("withdraw", "fp_access_d"),  # a focal point of the same theme, not the author
    ("withdraw", "fp_gender"),
]


@pytest.mark.parametrize(("command", "who"), FORBIDDEN, ids=[f"{c}-by-{w}" for c, w in FORBIDDEN])
async def test_command_by_someone_without_the_right_answers_403_and_changes_nothing(
    drive: Driver, command: str, who: str
) -> None:
    iid = await drive.issue_in(COMMANDS[command].from_state)
    before = await drive.get(iid)
    r = await drive.send(iid, command, who)
    error_of(r, 403, "permission_denied")
    after = await drive.get(iid)
    assert (after["state"], after["version"], after["audit_trail"]) == (
        before["state"],
        before["version"],
        before["audit_trail"],
    )


async def test_withdraw_by_a_focal_point_who_is_not_the_author_names_the_author_rule(
    drive: Driver,
) -> None:
    iid = await drive.issue_in("open")
    r = await drive.send(iid, "withdraw", "fp_access_d")
    error = error_of(r, 403, "permission_denied")
    assert "author" in error["message"]


@pytest.mark.parametrize("who", ["chair", "secretariat"])
async def test_decision_at_level_2_by_a_level_1_decider_answers_403(
    drive: Driver, who: str
) -> None:
    iid = await drive.issue_in("escalated_level_2")
    r = await drive.send(iid, "decision", who)
    error = error_of(r, 403, "permission_denied")
    assert "executive" in error["message"]
    assert (await drive.get(iid))["state"] == "escalated"


async def test_approve_of_a_level_2_request_by_the_chair_answers_403(drive: Driver) -> None:
    iid = await drive.issue_in("escalated")
    await drive.ok(iid, "decision", outcome="escalated_further")
    r = await drive.send(iid, "approve", "chair")
    error = error_of(r, 403, "permission_denied")
    assert "executive" in error["message"]


# == 404: unknown issue ======================================================================

BY_ID: list[tuple[str, str, str, dict[str, Any] | None, str]] = [
    ("read", "GET", "", None, "auditor"),
    *[(name, "POST", f"/{spec.path}", spec.body, spec.actor) for name, spec in COMMANDS.items()],
]


@pytest.mark.parametrize(
    ("name", "method", "suffix", "body", "who"), BY_ID, ids=[b[0] for b in BY_ID]
)
async def test_unknown_issue_id_answers_404(
    drive: Driver, name: str, method: str, suffix: str, body: dict[str, Any] | None, who: str
) -> None:
    r = await drive.api.request(
        method, f"{ISSUES}/{UNKNOWN_ID}{suffix}", json=body, headers=drive.headers(who)
    )
    error = error_of(r, 404, "not_found")
    assert UNKNOWN_ID in error["message"]


# == 409: illegal transitions ================================================================

ILLEGAL: list[tuple[str, str, str | None]] = [
    # (command, state of the issue, who sends it if not the command's usual actor)
    ("comment", "withdrawn", None),
    ("comment", "closed", None),
    ("resolve", "escalated", None),
    ("resolve", "escalation_requested", None),
    ("escalation-request", "escalation_requested", None),
    ("escalation-request", "resolved", None),
    ("approve", "open", None),
    ("approve", "escalated", None),
    ("return", "escalated", None),
    ("return", "open", None),
    ("decision", "open", None),
    ("decision", "decided", None),
    ("close", "open", None),
    ("close", "escalated", "chair"),
    ("close", "closed", None),
    ("withdraw", "resolved", None),
    ("withdraw", "escalation_requested", None),
    ("withdraw", "withdrawn", None),
]
TERMINAL = {"closed", "withdrawn"}


@pytest.mark.parametrize(
    ("command", "state", "who"), ILLEGAL, ids=[f"{c}-when-{s}" for c, s, _ in ILLEGAL]
)
async def test_illegal_transition_answers_409_with_the_current_state(
    drive: Driver, command: str, state: str, who: str | None
) -> None:
    iid = await drive.issue_in(state)
    before = await drive.get(iid)
    r = await drive.send(iid, command, who)
    error = error_of(r, 409, "illegal_transition")
    assert error["current_state"] == state
    if state not in TERMINAL:
        assert error["allowed_states"] == sorted(ALLOWED_FROM[COMMANDS[command].kind])
    after = await drive.get(iid)
    assert (after["state"], after["version"]) == (before["state"], before["version"])


# == 422: invalid bodies and queries =========================================================

INVALID_BODIES: list[tuple[str, dict[str, Any], str]] = [
    # (command, body sent instead of the valid one, field named)
    ("comment", {}, "body"),
    ("comment", {"body": ""}, "body"),
    ("comment", {"body": "   "}, "body"),
    ("comment", {"body": 42}, "body"),
    ("comment", {"body": "x", "author_id": "chair"}, "author_id"),
    ("resolve", {}, "resolution"),
    ("resolve", {"resolution": ""}, "resolution"),
    ("resolve", {"resolution": "x", "state": "closed"}, "state"),
    ("escalation-request", {}, "reason"),
    ("escalation-request", {"reason": " "}, "reason"),
    ("escalation-request", {"reason": "x", "level": 2}, "level"),
    ("approve", {"note": ""}, "note"),
    ("approve", {"level": 2}, "level"),
    ("return", {}, "reason"),
    ("return", {"reason": ""}, "reason"),
    ("return", {"reason": "x", "new_deadline": "2099-01-01T00:00:00"}, "new_deadline"),
    ("return", {"reason": "x", "new_deadline": "next week"}, "new_deadline"),
    ("decision", {"text": "x"}, "outcome"),
    ("decision", {"outcome": "maybe", "text": "x"}, "outcome"),
    ("decision", {"outcome": "resolved"}, "text"),
    ("decision", {"outcome": "resolved", "text": ""}, "text"),
    ("decision", {"outcome": "resolved", "text": "x", "level": 3}, "level"),
    ("close", {"note": ""}, "note"),
    ("close", {"reason": "x"}, "reason"),
    ("withdraw", {}, "reason"),
    ("withdraw", {"reason": ""}, "reason"),
]


@pytest.mark.parametrize(
    ("command", "body", "field"),
    INVALID_BODIES,
    ids=[f"{c}-{f}-{i}" for i, (c, _, f) in enumerate(INVALID_BODIES)],
)
async def test_invalid_command_body_answers_422_naming_the_field(
    drive: Driver, command: str, body: dict[str, Any], field: str
) -> None:
    iid = await drive.issue_in(COMMANDS[command].from_state)
    r = await drive.post(command_url(iid, command), COMMANDS[command].actor, body)
    assert r.json()["error"]["code"] == "invalid_request", r.text
    assert fields_of(r) == [field]


async def test_invalid_body_leaves_the_issue_unchanged(drive: Driver) -> None:
    iid = await drive.issue_in("open")
    r = await drive.post(command_url(iid, "resolve"), "fp_access", {"resolution": ""})
    assert fields_of(r) == ["resolution"]
    issue = await drive.get(iid)
    assert (issue["state"], issue["version"], len(issue["audit_trail"])) == ("open", 1, 1)


INVALID_RAISES: list[tuple[dict[str, Any], str]] = [
    ({k: v for k, v in RAISE.items() if k != "title"}, "title"),
    ({**RAISE, "title": ""}, "title"),
    ({**RAISE, "title": "ab"}, "title"),
    ({k: v for k, v in RAISE.items() if k != "description"}, "description"),
    ({**RAISE, "description": "   "}, "description"),
    ({k: v for k, v in RAISE.items() if k != "theme"}, "theme"),
    ({**RAISE, "theme": ""}, "theme"),
    ({**RAISE, "id": "not-a-uuid"}, "id"),
    ({**RAISE, "state": "closed"}, "state"),
    ({**RAISE, "author_id": "chair"}, "author_id"),
]


@pytest.mark.parametrize(
    ("body", "field"), INVALID_RAISES, ids=[f"{f}-{i}" for i, (_, f) in enumerate(INVALID_RAISES)]
)
async def test_invalid_raise_body_answers_422_naming_the_field(
    drive: Driver, body: dict[str, Any], field: str
) -> None:
    r = await drive.post(ISSUES, "fp_access", body)
    assert r.json()["error"]["code"] == "invalid_request", r.text
    assert fields_of(r) == [field]


async def test_raise_with_an_unknown_theme_answers_422_naming_theme(drive: Driver) -> None:
    r = await drive.post(ISSUES, "fp_access", {**RAISE, "theme": "astrology"})
    error = error_of(r, 422, "invalid_command")
    assert (error["field"], fields_of(r)) == ("theme", ["theme"])
    assert "astrology" in error["message"]


async def test_raise_with_an_unknown_sector_answers_422_naming_sector(drive: Driver) -> None:
    r = await drive.post(ISSUES, "fp_access", {**RAISE, "sector": "ITU-X"})
    error = error_of(r, 422, "invalid_command")
    assert (error["field"], fields_of(r)) == ("sector", ["sector"])
    listed = await drive.api.get(ISSUES, headers=drive.headers("auditor"))
    assert listed.json()["total"] == 0


async def test_return_with_a_past_new_deadline_answers_422_naming_new_deadline(
    drive: Driver,
) -> None:
    iid = await drive.issue_in("escalation_requested")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = await drive.send(iid, "return", new_deadline=past)
    error = error_of(r, 422, "invalid_command")
    assert (error["field"], fields_of(r)) == ("new_deadline", ["new_deadline"])
    assert (await drive.get(iid))["state"] == "escalation_requested"


async def test_referral_back_with_a_past_new_deadline_answers_422_naming_new_deadline(
    drive: Driver,
) -> None:
    iid = await drive.issue_in("escalated")
    r = await drive.send(
        iid, "decision", outcome="referred_back", new_deadline="2000-01-01T00:00:00Z"
    )
    error = error_of(r, 422, "invalid_command")
    assert (error["field"], fields_of(r)) == ("new_deadline", ["new_deadline"])
    assert (await drive.get(iid))["state"] == "escalated"


@pytest.mark.parametrize("outcome", ["resolved", "deferred", "escalated_further"])
async def test_new_deadline_on_a_decision_that_does_not_refer_back_answers_422(
    drive: Driver, outcome: str
) -> None:
    iid = await drive.issue_in("escalated")
    r = await drive.send(iid, "decision", outcome=outcome, new_deadline=future(30).isoformat())
    error = error_of(r, 422, "invalid_command")
    assert (error["field"], fields_of(r)) == ("new_deadline", ["new_deadline"])
    issue = await drive.get(iid)
    assert (issue["state"], issue["version"]) == ("escalated", 3)


async def test_escalated_further_at_the_top_of_the_ladder_answers_422_naming_outcome(
    drive: Driver,
) -> None:
    iid = await drive.issue_in("escalated_level_2")
    r = await drive.send(iid, "decision", "executive", outcome="escalated_further", text="Up!")
    error = error_of(r, 422, "invalid_command")
    assert (error["field"], fields_of(r)) == ("outcome", ["outcome"])
    issue = await drive.get(iid)
    assert (issue["state"], issue["level"], issue["requested_level"]) == ("escalated", 2, None)


INVALID_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"state": "bogus"}, "state"),
    ({"mine": "perhaps"}, "mine"),
    ({"limit": 0}, "limit"),
    ({"limit": 201}, "limit"),
    ({"offset": -1}, "offset"),
    ({"theme": "x" * 65}, "theme"),
]


@pytest.mark.parametrize(
    ("params", "field"),
    INVALID_QUERIES,
    ids=[f"{f}-{i}" for i, (_, f) in enumerate(INVALID_QUERIES)],
)
async def test_invalid_list_query_answers_422_naming_the_parameter(
    drive: Driver, params: dict[str, Any], field: str
) -> None:
    r = await drive.api.get(ISSUES, params=params, headers=drive.headers("chair"))
    assert r.json()["error"]["code"] == "invalid_request", r.text
    assert fields_of(r) == [field]


async def test_idempotency_key_longer_than_200_characters_answers_422(drive: Driver) -> None:
    headers = {**drive.headers("fp_access"), "Idempotency-Key": "k" * 201}
    r = await drive.api.post(ISSUES, json=RAISE, headers=headers)
    assert r.json()["error"]["code"] == "invalid_request", r.text
    assert fields_of(r) == ["idempotency-key"]
