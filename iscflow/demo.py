"""Demo data built from the seed report: people of every role and a dozen issues.

Issues go through their workflows like any other, so they show in the Temporal UI and
their audit trails are real. Loading twice changes nothing but the printed tokens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from domain.issues import (
    AddComment,
    ApproveEscalation,
    CloseIssue,
    DecisionOutcome,
    IssueCommand,
    RaiseIssue,
    RecordDecision,
    RequestEscalation,
    ResolveIssue,
    ReturnEscalation,
    WithdrawIssue,
)
from domain.meetings import ScheduleMeeting
from domain.organisation import SECTORS, THEMES
from domain.roles import Actor, Role
from iscflow.directory import add_user, load_reference_data
from iscflow.issue_commands import IssueCommands
from iscflow.meeting_commands import MeetingCommands
from storage import directory, mapping, meetings, repository
from storage.db import session_scope
from web.security import hash_password

DEMO_NAMESPACE = uuid.UUID("0f7d7f4e-2a47-4b3b-8d0e-6f3f6c3f1a91")
TOKEN_LABEL = "demo"
# Every demo user signs in to the web pages with this password (demo data only).
DEMO_PASSWORD = "iscflow-demo"


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    role: Role
    sector: str | None = None
    theme: str | None = None


STAFF = (
    DemoUser("demo-chair", "Deputy Secretary-General (ISC-TF chair)", Role.CHAIR, "GS"),
    DemoUser("demo-secretariat", "ISC-TF secretariat", Role.SECRETARIAT, "GS"),
    DemoUser("demo-executive", "Secretary-General (Coordination Committee)", Role.EXECUTIVE, "GS"),
    DemoUser("demo-auditor", "Head of Internal Audit (observer)", Role.AUDITOR, "GS"),
    DemoUser("demo-admin", "System administrator", Role.ADMIN),
)


def focal_points() -> list[DemoUser]:
    """One focal point per thematic area and sector (DESIGN §1)."""
    return [
        DemoUser(
            f"fp-{theme.code}-{sector.bureau.lower()}",
            f"{theme.name} focal point ({sector.bureau})",
            Role.FOCAL_POINT,
            sector.code,
            theme.code,
        )
        for theme in THEMES
        for sector in SECTORS
    ]


def _email(user: DemoUser) -> str:
    return f"{user.id}@demo.iscflow.example"


def load_people(engine: Engine, now: datetime) -> dict[str, tuple[Actor, str]]:
    """Create the demo users once; give every one a fresh token. Returns id -> (actor, token)."""
    load_reference_data(engine)
    result: dict[str, tuple[Actor, str]] = {}
    for user in (*STAFF, *focal_points()):
        with session_scope(engine) as session:
            existing = directory.get_user(session=session, user_id=user.id)
            if existing is not None:
                directory.revoke_tokens(
                    session=session, user_id=user.id, label=TOKEN_LABEL, now=now
                )
                token = directory.issue_token(
                    session=session, user_id=user.id, now=now, label=TOKEN_LABEL
                )
                result[user.id] = (directory.actor_for(session=session, user=existing), token)
                continue
        created = add_user(
            engine,
            name=user.name,
            email=_email(user),
            role=user.role,
            sector=user.sector,
            themes=(user.theme,) if user.theme else (),
            user_id=user.id,
            now=now,
            token_label=TOKEN_LABEL,
        )
        result[user.id] = (created.actor, created.token)
    _set_demo_passwords(engine, [u.id for u in (*STAFF, *focal_points())])
    return result


def _set_demo_passwords(engine: Engine, user_ids: list[str]) -> None:
    """Give demo users the demo password, once (loading again keeps their sessions)."""
    hashed = hash_password(DEMO_PASSWORD)
    with session_scope(engine) as session:
        for user_id in user_ids:
            row = directory.get_user(session=session, user_id=user_id)
            if row is not None and row.password_hash is None:
                row.password_hash = hashed
                session.add(row)


@dataclass(frozen=True)
class DemoIssue:
    key: str
    theme: str
    bureau: str
    title: str
    description: str
    steps: tuple[tuple[str, IssueCommand], ...] = ()


def _issues() -> tuple[DemoIssue, ...]:
    esc = RequestEscalation(reason="Cannot be settled between the sectors' focal points.")
    approve = ApproveEscalation(note="On the agenda of the next ISC-TF meeting.")
    decide = RecordDecision(
        outcome=DecisionOutcome.RESOLVED, text="The task force agreed a joint approach."
    )
    return (
        DemoIssue(
            "captioning",
            "accessibility",
            "tsb",
            "Live captioning of remote meetings",
            "Remote participation lacks live captioning in the six languages.",
            (("author", AddComment(body="BDT can share its captioning contract.")),),
        ),
        DemoIssue(
            "ai-glossary",
            "emerging-ai",
            "tsb",
            "Common AI terminology across sectors",
            "AI for Good and study groups use diverging terms for the same concepts.",
        ),
        DemoIssue(
            "gender-stats",
            "gender",
            "bdt",
            "Gender-disaggregated participation data",
            "Participation statistics are not broken down by gender in all sectors.",
        ),
        DemoIssue(
            "website-migration",
            "digital-transformation",
            "gs",
            "Sequencing the new website migration",
            "Bureau sites migrate on different timelines, breaking shared pages.",
            (("author", esc),),
        ),
        DemoIssue(
            "emergency-roster",
            "emergency-telecom",
            "bdt",
            "Shared roster for emergency deployments",
            "Deployment rosters are kept separately by BDT and BR.",
            (("author", esc),),
        ),
        DemoIssue(
            "events-calendar",
            "major-events",
            "gs",
            "One calendar for major events",
            "Overlapping major events compete for the same delegates and rooms.",
            (("author", esc), ("chair", approve)),
        ),
        DemoIssue(
            "sme-fees",
            "membership-smes",
            "tsb",
            "SME membership fee alignment",
            "SME fee categories differ between ITU-T and ITU-D.",
            (("author", esc), ("chair", approve)),
        ),
        DemoIssue(
            "translation-budget",
            "multilingualism",
            "gs",
            "Translation budget for study group outputs",
            "Study group outputs wait months for translation.",
            (("author", esc), ("chair", approve), ("chair", decide)),
        ),
        DemoIssue(
            "geo-data",
            "geospatial",
            "br",
            "Licensing of geospatial datasets",
            "BR and BDT negotiate the same dataset licences separately.",
            (("author", ResolveIssue(resolution="BR negotiates for both bureaux.")),),
        ),
        DemoIssue(
            "climate-theme",
            "environment-smart-cities",
            "tsb",
            "Climate change theme reporting",
            "The ISCG climate theme needs one consolidated contribution.",
            (
                ("author", esc),
                ("chair", ReturnEscalation(reason="Agree a draft first.")),
                ("author", esc),
                ("chair", approve),
                ("chair", decide),
                ("secretariat", CloseIssue(note="Reported to Council.")),
            ),
        ),
        DemoIssue(
            "community-toolkit",
            "community-networks",
            "bdt",
            "Community networks toolkit",
            "Two toolkits on community networks are being drafted in parallel.",
            (
                ("author", ResolveIssue(resolution="Merged into one BDT-led toolkit.")),
                ("secretariat", CloseIssue()),
            ),
        ),
        DemoIssue(
            "press-lines",
            "communication",
            "gs",
            "Press lines for joint announcements",
            "Duplicate of an item handled by the communication division.",
            (("author", WithdrawIssue(reason="Handled by the communication division.")),),
        ),
    )


async def load_issues(
    engine: Engine, commands: IssueCommands, people: dict[str, tuple[Actor, str]]
) -> int:
    """Raise and advance the demo issues that do not exist yet; returns how many were new."""
    new = 0
    for item in _issues():
        issue_id = str(uuid.uuid5(DEMO_NAMESPACE, item.key))
        with session_scope(engine) as session:
            if repository.get_issue(session=session, issue_id=issue_id) is not None:
                continue
        author = people[f"fp-{item.theme}-{item.bureau}"][0]
        sector = next(s.code for s in SECTORS if s.bureau.lower() == item.bureau)
        await commands.raise_issue(
            author,
            RaiseIssue(
                issue_id=issue_id,
                title=item.title,
                description=item.description,
                theme=item.theme,
                sector=sector,
            ),
        )
        actors = {
            "author": author,
            "chair": people["demo-chair"][0],
            "secretariat": people["demo-secretariat"][0],
        }
        for who, command in item.steps:
            await commands.send(issue_id, actors[who], command)
        new += 1
    return new


def demo_now() -> datetime:
    return datetime.now(UTC)


# (topic, theme, sector, responsible entity, contact): topics of the seed report's ISCG work.
MAPPING: tuple[tuple[str, str, str, str, str], ...] = (
    # An ISCG pilot theme since 2019.
    ("Climate change", "environment-smart-cities", "ITU-R",
     "SG 7 (science services) / BR Space Services Department", "br-climate@example.org"),
    ("Climate change", "environment-smart-cities", "ITU-T",
     "SG 5 (environment, climate change and circular economy)", "tsb-sg5@example.org"),
    ("Climate change", "environment-smart-cities", "ITU-D",
     "SG 2 Question 6/2 (ICTs and the environment)", "bdt-sg2@example.org"),
    ("Climate change", "environment-smart-cities", "GS",
     "Strategic Planning and Membership Department", "gs-spm@example.org"),
    # An ISCG theme since March 2021.
    ("Accessibility", "accessibility", "ITU-R",
     "SG 6 (broadcasting services)", "br-sg6@example.org"),
    ("Accessibility", "accessibility", "ITU-T",
     "SG 16 Question 26/16 and JCA-AHF", "tsb-accessibility@example.org"),
    ("Accessibility", "accessibility", "ITU-D",
     "SG 1 Question 7/1 (ICT accessibility)", "bdt-accessibility@example.org"),
    ("Accessibility", "accessibility", "GS",
     "Conferences and Publications Department", "gs-accessibility@example.org"),
    ("Emergency telecommunications", "emergency-telecom", "ITU-R",
     "SG 5 Working Party 5A (disaster relief radiocommunication)", "br-sg5@example.org"),
    ("Emergency telecommunications", "emergency-telecom", "ITU-T",
     "SG 2 (numbering, disaster relief and early warning)", "tsb-sg2@example.org"),
    ("Emergency telecommunications", "emergency-telecom", "ITU-D",
     "SG 2 Question 5/2 / BDT emergency telecommunications", "bdt-emergency@example.org"),
    ("Smart sustainable cities", "environment-smart-cities", "ITU-T",
     "SG 20 (IoT, smart cities and communities) / U4SSC", "tsb-sg20@example.org"),
    ("Smart sustainable cities", "environment-smart-cities", "ITU-D",
     "SG 2 Question 1/2 (smart cities and society)", "bdt-sg2@example.org"),
    ("Bridging the standardization gap", "standardization-gap", "ITU-R",
     "BR Study Groups Department (regional seminars)", "br-sgd@example.org"),
    ("Bridging the standardization gap", "standardization-gap", "ITU-T",
     "TSB Bridging the Standardization Gap programme", "tsb-bsg@example.org"),
    ("Bridging the standardization gap", "standardization-gap", "ITU-D",
     "BDT regional offices (capacity building on standards)", "bdt-regions@example.org"),
    ("Gender", "gender", "ITU-R",
     "Network of Women for WRC (NoW4WRC)", "br-now4wrc@example.org"),
    ("Gender", "gender", "ITU-T",
     "Women in Standardization Expert Group (WISE), TSAG", "tsb-wise@example.org"),
    ("Gender", "gender", "ITU-D",
     "Network of Women for WTDC (NoW4WTDC)", "bdt-now4wtdc@example.org"),
    ("Gender", "gender", "GS",
     "Gender equality focal point, Human Resources Management", "gs-gender@example.org"),
)  # fmt: skip


def load_mapping(engine: Engine, now: datetime) -> int:
    """Add the demo mapping entries that are missing (edits are kept); returns how many."""
    load_reference_data(engine)
    new = 0
    with session_scope(engine) as session:
        for topic, theme, sector, entity, contact in MAPPING:
            if mapping.find_entry(session=session, topic=topic, sector=sector) is None:
                mapping.upsert_entry(
                    session=session,
                    topic=topic,
                    sector=sector,
                    entity=entity,
                    contact=contact,
                    theme=theme,
                    now=now,
                    actor=("system", "system"),
                )
                new += 1
    return new


HISTORY_START = datetime(2015, 3, 16, 9, 0, tzinfo=UTC)  # the task force was set up in March 2015
HISTORY_END = datetime(2021, 3, 31, 9, 0, tzinfo=UTC)


def load_meeting_history(engine: Engine, held_before: int, now: datetime) -> int:
    """Meetings 1..held_before as past records, spread over the seed's reporting period."""
    span = (HISTORY_END - HISTORY_START) / max(held_before - 1, 1)
    added = 0
    with session_scope(engine) as session:
        for number in range(1, held_before + 1):
            starts_at = HISTORY_START + span * (number - 1)
            added += meetings.record_history(
                session=session,
                number=number,
                title=f"ISC-TF meeting {number}",
                starts_at=starts_at,
                now=now,
            )
    return added


async def load_next_meeting(
    engine: Engine,
    commands: MeetingCommands,
    people: dict[str, tuple[Actor, str]],
    number: int,
    now: datetime,
) -> None:
    """Schedule the next meeting, two weeks out; its agenda takes the escalated issues."""
    with session_scope(engine) as session:
        if meetings.get_meeting(session=session, number=number) is not None:
            return
    starts_at = datetime.combine(
        (now + timedelta(days=14)).date(), time(10, 0), tzinfo=ZoneInfo("Europe/Zurich")
    )
    await commands.schedule(
        people["demo-secretariat"][0],
        ScheduleMeeting(
            number=number,
            title=f"ISC-TF meeting {number}",
            starts_at=starts_at,
            place="Geneva, ITU Tower, room C1",
            virtual_link="https://meet.example.org/isc-tf",
        ),
    )
