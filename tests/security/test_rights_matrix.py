"""Who may call what: every endpoint by every role, no token, a wrong and an expired token.

The table below gives, for each endpoint, the exact set of principals allowed. "Allowed"
means the request is not refused with 401 or 403; to make that mean something, each allowed
request is sent to an entity in a state where the command is legal (a fresh one each time
when the command changes it), and must succeed (2xx). A refused role must get 403, an
unauthenticated caller 401. Endpoints reached through signed e-mail links have a table of
their own, with valid, expired, altered and misdirected links.

The endpoint list is read from the app's routes: an API endpoint added without a row here
fails `test_every_api_route_has_a_row_in_the_matrix`.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.routing import BaseRoute, Route

from api.app import create_app
from domain.links import LinkPayload, sign
from iscflow.settings import Settings
from storage import directory
from storage.db import session_scope
from storage.models import OutboxRow
from tests.security.conftest import bearer
from tests.support.people import People

PEOPLE = ("fp_access", "fp_access_d", "fp_gender", "chair", "secretariat", "executive",
          "auditor", "admin")  # fmt: skip
ANONYMOUS = ("no token", "wrong token", "expired token")
PRINCIPALS = (*PEOPLE, *ANONYMOUS)

EVERYONE = frozenset(PEOPLE)
PUBLIC = frozenset(PRINCIPALS)
THEME_FPS = frozenset({"fp_access", "fp_access_d"})  # accessibility; fp_access is the author
MAIL_READERS = frozenset({"secretariat", "admin"})
AUDIT_READERS = frozenset({"auditor", "admin"})
DECIDERS = frozenset({"secretariat", "chair"})
SECRETARIAT = frozenset({"secretariat"})

THEME_ITEM = {"kind": "theme_update", "title": "Accessibility update", "theme": "accessibility"}
ACTION_URL = re.compile(r"/actions/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
CSV_HEADER = "source,symbol,number,issued_on,title,text,owner,theme"


def _later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@dataclass
class Target:
    """What one request needs: path parameters, and a body or query or file."""

    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    params: dict[str, Any] | None = None
    files: dict[str, Any] | None = None


class World:
    """Builds entities in the states the commands need, through the API itself."""

    def __init__(self, api: httpx.AsyncClient, people: People, engine: Engine) -> None:
        self.api, self.people, self.engine = api, people, engine
        self.headers = {name: bearer(u.token) for name, u in people.all().items()}

    async def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.api.request(method, path, headers=self.headers[who], **kwargs)
        assert response.status_code < 300, f"setup {method} {path}: {response.text}"
        return response.json() if response.content else None

    # -- issues ---------------------------------------------------------------------------

    async def issue(self, state: str = "open") -> str:
        """An accessibility issue raised by fp_access, moved to `state`."""
        raised = await self.call(
            "fp_access", "POST", "/api/v1/issues",
            json={"title": "Matrix issue", "description": "d", "theme": "accessibility"},
        )  # fmt: skip
        base = f"/api/v1/issues/{raised['id']}"
        steps: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
            "open": [],
            "resolved": [("fp_access", "resolve", {"resolution": "agreed"})],
            "requested": [("fp_access", "escalation-request", {"reason": "stuck"})],
        }
        steps["escalated"] = [*steps["requested"], ("chair", "escalation-request/approve", {})]
        steps["decided"] = [
            *steps["escalated"], ("chair", "decision", {"outcome": "resolved", "text": "ok"})
        ]  # fmt: skip
        steps["requested_l2"] = [
            *steps["escalated"],
            ("chair", "decision", {"outcome": "escalated_further", "text": "for the SG"}),
        ]
        steps["escalated_l2"] = [
            *steps["requested_l2"], ("executive", "escalation-request/approve", {})
        ]  # fmt: skip
        for who, command, body in steps[state]:
            await self.call(who, "POST", f"{base}/{command}", json=body)
        return str(raised["id"])

    async def action_link(self) -> str:
        """The chair's signed approve/return link, as sent by e-mail."""
        issue_id = await self.issue("requested")
        for _ in range(100):
            with Session(self.engine) as session:
                rows = session.exec(
                    select(OutboxRow).where(
                        OutboxRow.kind == "escalation_requested", OutboxRow.user_id == "chair"
                    )
                ).all()
            links = [
                m[1]
                for r in rows
                if issue_id in r.body_text and (m := ACTION_URL.search(r.body_text))
            ]
            if links:
                return links[0]
            await asyncio.sleep(0.1)
        raise AssertionError("no action link was written")

    # -- meetings -------------------------------------------------------------------------

    async def meeting(self, state: str = "scheduled") -> int:
        """A meeting of a number no other test uses, with one theme item, moved to `state`."""
        number = _private_number()
        meeting = await self.call(
            "secretariat", "POST", "/api/v1/meetings",
            json={"number": number, "starts_at": _later(60)},
        )  # fmt: skip
        base = f"/api/v1/meetings/{number}"
        meeting = await self.call("secretariat", "POST", f"{base}/agenda", json=THEME_ITEM)
        order = ["scheduled", "agenda_sent", "held", "decided"]
        if order.index(state) >= 1:
            await self.call("secretariat", "POST", f"{base}/send-agenda")
        if order.index(state) >= 2:
            await self.call("secretariat", "POST", f"{base}/held")
        if order.index(state) >= 3:
            for item in meeting["agenda"]:
                await self.call(
                    "secretariat", "POST", f"{base}/decisions",
                    json={"item_id": item["item_id"], "outcome": "resolved", "text": "noted"},
                )  # fmt: skip
        return number

    async def agenda_item(self, number: int) -> str:
        meeting = await self.call("chair", "GET", f"/api/v1/meetings/{number}")
        return str(meeting["agenda"][0]["item_id"])

    # -- recommendations, risks, mapping --------------------------------------------------

    def recommendation_body(self, **changes: Any) -> dict[str, Any]:
        return {
            "source": "jiu", "symbol": f"JIU/REP/{uuid.uuid4().hex[:10]}", "number": 1,
            "issued_on": "2024-06-01", "title": "Accessible meetings", "text": "t",
            "owner": "fp_access", "theme": "accessibility", "target_date": "2027-06-30",
            **changes,
        }  # fmt: skip

    async def recommendation(self, state: str = "under_consideration") -> str:
        """Owned by fp_access; `accepted` and `implemented` are accepted ones."""
        acceptance = "under_consideration" if state == "under_consideration" else "accepted"
        rec = await self.call(
            "secretariat", "POST", "/api/v1/recommendations",
            json=self.recommendation_body(acceptance=acceptance),
        )  # fmt: skip
        if state == "implemented":
            await self.call(
                "fp_access", "POST", f"/api/v1/recommendations/{rec['id']}/implemented",
                json={"narrative": "done", "evidence": ["https://example.org/evidence"]},
            )  # fmt: skip
        return str(rec["id"])

    def risk_body(self) -> dict[str, Any]:
        return {
            "title": "Inaccessible documents", "description": "d", "owner": "fp_access",
            "inherent_likelihood": 4, "inherent_impact": 4, "residual_likelihood": 2,
            "residual_impact": 3, "treatment": "tagging",
        }  # fmt: skip

    async def risk(self) -> str:
        risk_id = f"R-{uuid.uuid4().hex[:8]}"
        await self.call(
            "secretariat", "POST", "/api/v1/risks", json={"id": risk_id, **self.risk_body()}
        )
        return risk_id

    async def mapping_entry(self) -> int:
        entry = await self.call(
            "secretariat", "PUT", "/api/v1/mapping",
            json={"topic": f"Topic {uuid.uuid4().hex[:8]}", "sector": "ITU-T", "entity": "SG16"},
        )  # fmt: skip
        return int(entry["id"])

    async def outbox_id(self) -> int:
        await self.issue()
        listed = await self.call("secretariat", "GET", "/api/v1/outbox")
        return int(listed["items"][0]["id"])


Setup = Callable[[World], Awaitable[Target]]


async def _nothing(_: World) -> Target:
    return Target()


def fixed(target: Target | None = None) -> Setup:
    async def setup(_: World) -> Target:
        return target or Target()

    return setup


def on_issue(state: str, json: Any = None) -> Setup:
    async def setup(world: World) -> Target:
        return Target(path={"issue_id": await world.issue(state)}, json=json)

    return setup


def on_meeting(state: str, json: Any = None, *, item: bool = False) -> Setup:
    async def setup(world: World) -> Target:
        number = await world.meeting(state)
        path: dict[str, Any] = {"number": number}
        body = json
        if item:
            item_id = await world.agenda_item(number)
            path["item_id"] = item_id
            body = json(item_id) if callable(json) else json
        return Target(path=path, json=body)

    return setup


def on_recommendation(state: str, json: Any = None) -> Setup:
    async def setup(world: World) -> Target:
        return Target(path={"recommendation_id": await world.recommendation(state)}, json=json)

    return setup


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    allowed: frozenset[str]
    setup: Setup = _nothing
    # A fresh target for every allowed principal: the command changes what it acts on.
    fresh: bool = False
    situation: str = ""


def _private_number() -> int:
    """A meeting number no other test uses: `meeting-<n>` lives on the shared dev server."""
    return 4_000_000 + uuid.uuid4().int % 1_000_000


async def _new_meeting(_: World) -> Target:
    return Target(json={"number": _private_number(), "starts_at": _later(60)})


async def _new_recommendation(world: World) -> Target:
    return Target(json=world.recommendation_body())


async def _new_risk(world: World) -> Target:
    return Target(json={"id": f"R-{uuid.uuid4().hex[:8]}", **world.risk_body()})


async def _risk(world: World) -> Target:
    return Target(path={"risk_id": await world.risk()}, json=world.risk_body())


async def _entry(world: World) -> Target:
    return Target(path={"entry_id": await world.mapping_entry()})


async def _outbox_entry(world: World) -> Target:
    return Target(path={"outbox_id": await world.outbox_id()})


async def _import_file(_: World) -> Target:
    row = f"jiu,JIU/REP/{uuid.uuid4().hex[:8]},1,2024-06-01,Title,Text,fp_access,accessibility"
    return Target(
        params={"dry_run": "true"},
        files={"file": ("recs.csv", f"{CSV_HEADER}\n{row}\n".encode(), "text/csv")},
    )


async def _record_update(world: World) -> Target:
    rec_id = await world.recommendation()
    body = {
        k: v
        for k, v in world.recommendation_body().items()
        if k not in {"source", "symbol", "number"}
    }
    return Target(path={"recommendation_id": rec_id}, json=body)


ISSUE = "/api/v1/issues/{issue_id}"
MEETING = "/api/v1/meetings/{number}"
REC = "/api/v1/recommendations/{recommendation_id}"
DECISION = {"outcome": "resolved", "text": "decided"}
REPORT = Target(params={"from": "2026-01-01", "to": "2026-12-31"})

MATRIX: tuple[Row, ...] = (
    # Meetings first: their agendas take in every escalated issue, and none exists yet.
    Row("POST", "/api/v1/meetings", SECRETARIAT, _new_meeting, fresh=True),
    Row("GET", "/api/v1/meetings", EVERYONE),
    Row("GET", MEETING, EVERYONE, on_meeting("scheduled")),
    Row(
        "POST",
        f"{MEETING}/reschedule",
        SECRETARIAT,
        on_meeting("scheduled", {"starts_at": _later(90)}),
    ),
    Row("POST", f"{MEETING}/agenda", SECRETARIAT, on_meeting("scheduled", THEME_ITEM)),
    Row(
        "DELETE",
        f"{MEETING}/agenda/{{item_id}}",
        SECRETARIAT,
        on_meeting("scheduled", item=True),
        fresh=True,
    ),
    Row(
        "PUT",
        f"{MEETING}/agenda/order",
        SECRETARIAT,
        on_meeting("scheduled", lambda i: {"order": [i]}, item=True),
    ),
    Row("POST", f"{MEETING}/send-agenda", SECRETARIAT, on_meeting("scheduled"), fresh=True),
    Row("POST", f"{MEETING}/held", DECIDERS, on_meeting("agenda_sent"), fresh=True),
    Row(
        "POST",
        f"{MEETING}/decisions",
        DECIDERS,
        on_meeting("held", lambda i: {"item_id": i, **DECISION}, item=True),
        fresh=True,
    ),
    Row("POST", f"{MEETING}/minutes", DECIDERS, on_meeting("decided"), fresh=True),
    # Issues.
    Row(
        "POST",
        "/api/v1/issues",
        THEME_FPS,
        fixed(Target(json={"title": "New", "description": "d", "theme": "accessibility"})),
    ),
    Row("GET", "/api/v1/issues", EVERYONE),
    Row("GET", ISSUE, EVERYONE, on_issue("open")),
    Row(
        "POST",
        f"{ISSUE}/comments",
        THEME_FPS | {"chair", "secretariat", "executive"},
        on_issue("open", {"body": "c"}),
    ),
    Row("POST", f"{ISSUE}/resolve", THEME_FPS, on_issue("open", {"resolution": "r"}), fresh=True),
    Row(
        "POST",
        f"{ISSUE}/escalation-request",
        THEME_FPS,
        on_issue("open", {"reason": "r"}),
        fresh=True,
    ),
    Row(
        "POST",
        f"{ISSUE}/escalation-request/approve",
        frozenset({"chair"}),
        on_issue("requested", {}),
        fresh=True,
        situation="level 1",
    ),
    Row(
        "POST",
        f"{ISSUE}/escalation-request/approve",
        frozenset({"executive"}),
        on_issue("requested_l2", {}),
        fresh=True,
        situation="level 2",
    ),
    Row(
        "POST",
        f"{ISSUE}/escalation-request/return",
        frozenset({"chair"}),
        on_issue("requested", {"reason": "r"}),
        fresh=True,
        situation="level 1",
    ),
    Row(
        "POST",
        f"{ISSUE}/escalation-request/return",
        frozenset({"executive"}),
        on_issue("requested_l2", {"reason": "r"}),
        fresh=True,
        situation="level 2",
    ),
    Row(
        "POST",
        f"{ISSUE}/decision",
        DECIDERS,
        on_issue("escalated", DECISION),
        fresh=True,
        situation="level 1",
    ),
    Row(
        "POST",
        f"{ISSUE}/decision",
        frozenset({"executive"}),
        on_issue("escalated_l2", DECISION),
        fresh=True,
        situation="level 2",
    ),
    Row(
        "POST",
        f"{ISSUE}/close",
        THEME_FPS | DECIDERS,
        on_issue("decided", {}),
        fresh=True,
        situation="decided",
    ),
    Row(
        "POST",
        f"{ISSUE}/close",
        THEME_FPS | DECIDERS,
        on_issue("resolved", {}),
        fresh=True,
        situation="resolved",
    ),
    Row(
        "POST",
        f"{ISSUE}/withdraw",
        frozenset({"fp_access"}),
        on_issue("open", {"reason": "dup"}),
        fresh=True,
    ),
    Row("POST", f"{ISSUE}/deadline", DECIDERS, on_issue("open", {"deadline": _later(30)})),
    # Mail.
    Row("GET", "/api/v1/outbox", MAIL_READERS),
    Row("GET", "/api/v1/outbox/{outbox_id}", MAIL_READERS, _outbox_entry),
    Row("GET", "/api/v1/me/preferences", EVERYONE),
    Row("PUT", "/api/v1/me/preferences", EVERYONE, fixed(Target(json={"digest": "immediate"}))),
    # Audit.
    Row("GET", "/api/v1/audit/verify", AUDIT_READERS),
    Row("GET", "/api/v1/audit/export", AUDIT_READERS),
    Row("GET", "/api/v1/audit/checkpoints/latest", AUDIT_READERS),
    Row("POST", "/api/v1/audit/checkpoints", frozenset({"admin"})),
    Row("GET", "/api/v1/audit/public-key", AUDIT_READERS),
    # The mapping table.
    Row("GET", "/api/v1/mapping", EVERYONE),
    Row(
        "PUT",
        "/api/v1/mapping",
        MAIL_READERS,
        fixed(Target(json={"topic": "Gender", "sector": "GS", "entity": "HRMD"})),
    ),
    Row("GET", "/api/v1/mapping/export.{fmt}", EVERYONE, fixed(Target(path={"fmt": "csv"}))),
    Row("GET", "/api/v1/mapping/{entry_id}", EVERYONE, _entry),
    Row("DELETE", "/api/v1/mapping/{entry_id}", MAIL_READERS, _entry, fresh=True),
    # Reports.
    Row(
        "GET",
        "/api/v1/reports/council",
        EVERYONE - {"fp_access", "fp_access_d", "fp_gender"},
        fixed(REPORT),
    ),
    # Recommendations.
    Row("POST", "/api/v1/recommendations", SECRETARIAT, _new_recommendation, fresh=True),
    Row("GET", "/api/v1/recommendations", EVERYONE),
    Row(
        "GET", "/api/v1/recommendations/export.{fmt}", EVERYONE, fixed(Target(path={"fmt": "csv"}))
    ),
    Row("POST", "/api/v1/recommendations/import", SECRETARIAT, _import_file, fresh=True),
    Row("GET", REC, EVERYONE, on_recommendation("under_consideration")),
    Row("PUT", REC, SECRETARIAT, _record_update),
    Row(
        "POST",
        f"{REC}/acceptance",
        SECRETARIAT,
        on_recommendation("under_consideration", {"acceptance": "accepted"}),
        fresh=True,
    ),
    Row(
        "POST",
        f"{REC}/progress",
        frozenset({"fp_access"}),
        on_recommendation("accepted", {"percentage": 50, "narrative": "n"}),
    ),
    Row(
        "POST",
        f"{REC}/implemented",
        frozenset({"fp_access"}),
        on_recommendation("accepted", {"narrative": "n", "evidence": ["https://example.org/e"]}),
        fresh=True,
    ),
    Row(
        "POST",
        f"{REC}/verify",
        frozenset({"auditor"}),
        on_recommendation("implemented", {}),
        fresh=True,
    ),
    Row(
        "POST",
        f"{REC}/return",
        frozenset({"auditor"}),
        on_recommendation("implemented", {"reason": "r"}),
        fresh=True,
    ),
    Row(
        "POST",
        f"{REC}/closure",
        frozenset({"fp_access", "secretariat"}),
        on_recommendation("accepted", {"outcome": "overtaken_by_events", "justification": "j"}),
        fresh=True,
    ),
    # The risk register and the compliance dashboard.
    Row("GET", "/api/v1/risks", EVERYONE),
    Row("POST", "/api/v1/risks", SECRETARIAT, _new_risk, fresh=True),
    Row("GET", "/api/v1/risks/{risk_id}", EVERYONE, _risk),
    Row("PUT", "/api/v1/risks/{risk_id}", SECRETARIAT, _risk),
    Row("GET", "/api/v1/dashboard", EVERYONE),
    Row("GET", "/api/v1/dashboard/export.{fmt}", EVERYONE, fixed(Target(path={"fmt": "csv"}))),
    # Who am I, reference data, health, and the documentation.
    Row("GET", "/api/v1/me", EVERYONE),
    Row("GET", "/api/v1/themes", EVERYONE),
    Row("GET", "/api/v1/sectors", EVERYONE),
    Row("GET", "/api/v1/health", PUBLIC),
    Row("GET", "/openapi.json", PUBLIC),
    Row("GET", "/docs", PUBLIC),
    Row("GET", "/docs/oauth2-redirect", PUBLIC),
    Row("GET", "/redoc", PUBLIC),
)

# Reached through signed e-mail links, not bearer tokens (their own test below).
LINK_ROUTES = {
    ("GET", "/actions/{token}"),
    ("POST", "/actions/{token}"),
    ("GET", "/preferences/{token}"),
    ("POST", "/preferences/{token}"),
}


# The HTTP API and its documentation. The web pages (signed in with a session cookie) have
# their own tests, in tests/web and tests/security/test_web_sessions.py.
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The app's routes, including those inside included routers."""
    found: list[BaseRoute] = []
    for route in routes:
        router = getattr(route, "original_router", None)  # FastAPI's included routers
        found += _routes(router.routes) if router is not None else [route]
    return found


def app_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route; mounts (static files) have none."""
    endpoints = set()
    for route in _routes(app.routes):
        if isinstance(route, APIRoute | Route):
            endpoints |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    return endpoints


def test_every_api_route_has_a_row_in_the_matrix(settings: Settings) -> None:
    endpoints = app_endpoints(create_app(settings))
    api = {(m, p) for m, p in endpoints if p.startswith("/api/") or p in DOCUMENTATION}
    covered = {(row.method, row.path) for row in MATRIX}
    assert len(api) > 60  # the walk reaches into the included routers
    assert sorted(api - covered) == [], "endpoints without a row in MATRIX"
    assert sorted(covered - api) == [], "rows for endpoints the app no longer has"
    assert sorted(LINK_ROUTES - endpoints) == [], "signed-link pages the app no longer has"


@pytest.fixture
def expired_token(engine: Engine, people: People) -> str:
    """A token of the chair that expired yesterday."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        return directory.issue_token(
            session=session, user_id="chair", now=now - timedelta(days=30),
            label="expired", expires_at=now - timedelta(days=1),
        )  # fmt: skip


def _headers(world: World, principal: str, expired: str) -> dict[str, str]:
    match principal:
        case "no token":
            return {}
        case "wrong token":
            return bearer("not-a-token-of-anyone")
        case "expired token":
            return bearer(expired)
        case _:
            return world.headers[principal]


async def _cell(world: World, row: Row, principal: str, target: Target, expired: str) -> int:
    kwargs: dict[str, Any] = {"headers": _headers(world, principal, expired)}
    if target.json is not None:
        kwargs["json"] = target.json
    if target.params:
        kwargs["params"] = target.params
    if target.files:
        kwargs["files"] = target.files
    path = row.path.format(**target.path)
    response = await world.api.request(row.method, path, **kwargs)
    return response.status_code


def _expected_refusal(principal: str) -> int:
    return 401 if principal in ANONYMOUS else 403


async def _observe(world: World, row: Row, expired: str) -> dict[str, int]:
    """Each principal's status for `row`: refusals on one shared target, then each allowed
    principal on a target of its own when the command changes it.

    One request at a time: concurrent requests on SQLite can stall (see
    tests/reliability/test_sqlite_writers.py), and this test is about rights.
    """
    shared = await row.setup(world)
    statuses: dict[str, int] = {}
    for principal in sorted(PRINCIPALS, key=lambda p: p in row.allowed):
        fresh = row.fresh and principal in row.allowed
        target = await row.setup(world) if fresh else shared
        statuses[principal] = await _cell(world, row, principal, target, expired)
    return statuses


@pytest.mark.slow
async def test_each_endpoint_allows_exactly_its_principals(
    api: httpx.AsyncClient, people: People, engine: Engine, expired_token: str
) -> None:
    world = World(api, people, engine)
    await world.call("admin", "POST", "/api/v1/audit/checkpoints")  # for checkpoints/latest
    wrong: list[str] = []
    cells = 0
    for row in MATRIX:
        statuses = await _observe(world, row, expired_token)
        cells += len(statuses)
        for principal, status in statuses.items():
            ok = (
                status < 300 if principal in row.allowed else status == _expected_refusal(principal)
            )
            if not ok:
                expected = "2xx" if principal in row.allowed else _expected_refusal(principal)
                wrong.append(
                    f"{row.method} {row.path} [{row.situation}] as {principal}: "
                    f"{status}, expected {expected}"
                )
    print(f"{cells} cells over {len(MATRIX)} rows")
    assert cells == len(MATRIX) * len(PRINCIPALS)
    assert wrong == [], "\n".join(wrong)


# -- signed links ----------------------------------------------------------------------------


def _tampered(token: str) -> str:
    body, mac = token.split(".", 1)
    return f"{body}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


async def test_signed_links_work_only_while_genuine_unexpired_and_for_their_purpose(
    api: httpx.AsyncClient, people: People, engine: Engine, settings: Settings
) -> None:
    world = World(api, people, engine)
    key = settings.signing_key()
    now = datetime.now(UTC)
    expired_action = sign(
        LinkPayload(purpose="escalation", user_id="chair", issue_id="x", request=1,
                    expires_at=now - timedelta(minutes=1)),
        key,
    )  # fmt: skip
    preferences = sign(
        LinkPayload(purpose="preferences", user_id="chair", expires_at=now + timedelta(days=1)),
        key,
    )
    expired_preferences = sign(
        LinkPayload(purpose="preferences", user_id="chair", expires_at=now - timedelta(minutes=1)),
        key,
    )
    action = await world.action_link()
    chair = world.headers["chair"]  # a bearer token changes nothing on these pages
    approve = {"decision": "approve"}
    cases: list[tuple[str, str, str, dict[str, str] | None, int]] = [
        ("GET", "/actions", _tampered(action), None, 400),
        ("GET", "/actions", expired_action, None, 410),
        ("GET", "/actions", preferences, None, 400),  # a link made for another purpose
        ("POST", "/actions", _tampered(action), approve, 400),
        ("POST", "/actions", expired_action, approve, 410),
        ("POST", "/actions", preferences, approve, 400),
        ("GET", "/actions", action, None, 200),
        ("POST", "/actions", action, approve, 200),
        ("POST", "/actions", action, approve, 409),  # single use
        ("GET", "/preferences", _tampered(preferences), None, 400),
        ("GET", "/preferences", expired_preferences, None, 410),
        ("GET", "/preferences", action, None, 400),
        ("POST", "/preferences", _tampered(preferences), {"digest": "daily"}, 400),
        ("POST", "/preferences", expired_preferences, {"digest": "daily"}, 410),
        ("POST", "/preferences", action, {"digest": "daily"}, 400),
        ("GET", "/preferences", preferences, None, 200),
        ("POST", "/preferences", preferences, {"digest": "immediate"}, 200),
    ]
    observed = []
    for method, base, token, form, _ in cases:
        response = await api.request(method, f"{base}/{token}", data=form, headers=chair)
        observed.append(response.status_code)

    assert {(m, f"{b}/{{token}}") for m, b, *_ in cases} == LINK_ROUTES
    assert observed == [expected for *_, expected in cases]
