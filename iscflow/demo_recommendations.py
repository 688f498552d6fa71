"""Demo risk register and oversight recommendations, in the spirit of the seed report.

The seed names the four bodies whose recommendations the compliance dashboard follows
(External Auditor, IMAC, JIU, Internal Audit), the action plan strengthening the risk
management framework, the JIU reports routed to the thematic groups, multilingualism,
accessibility, remote participation, the new website and major events. Symbols and texts
below are illustrative. Recommendations go through their workflows like any other, so their
audit trails are real; loading twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from domain.recommendation_commands import (
    ClaimImplemented,
    CloseRecommendation,
    CreateRecommendation,
    RecommendationCommand,
    RecordAcceptance,
    ReportProgress,
    ReturnToInProgress,
    VerifyImplementation,
)
from domain.recommendation_terms import (
    Acceptance,
    Addressee,
    Implementation,
    Priority,
    RecordData,
    SourceBody,
    recommendation_id,
)
from domain.risks import RiskData
from domain.roles import Actor
from iscflow.recommendation_commands import RecommendationCommands
from storage import risks
from storage.db import session_scope
from storage.recommendations import get_recommendation

EVIDENCE = "https://www.itu.int/md/S21-CL-C-0061/en"

# (id, title, owner, inherent L, I, residual L, I, treatment)
RISKS: tuple[tuple[str, str, str, int, int, int, int, str], ...] = (
    ("RISK-ERM", "Enterprise risk management not embedded in decisions", "demo-chair",
     4, 4, 3, 3, "Action plan strengthening the risk management framework (C21/61)."),
    ("RISK-IC", "Weaknesses in internal control go undetected", "demo-chair",
     4, 4, 2, 4, "Statement of internal control; compliance dashboard of recommendations."),
    ("RISK-LANG", "Documents and meetings not available in the six languages",
     "fp-multilingualism-gs", 4, 3, 3, 3, "Multilingualism action plan (2021)."),
    ("RISK-ACCESS", "Meetings inaccessible to persons with disabilities",
     "fp-accessibility-tsb", 3, 4, 2, 4, "Accessibility policy, strategy and 2021-2022 plan."),
    ("RISK-REMOTE", "Remote participation fails during a major event",
     "fp-digital-transformation-gs", 3, 5, 2, 4,
     "Guidelines and best practices for virtual events and remote participation."),
    ("RISK-WEB", "Fragmented web presence across the Sectors", "fp-digital-transformation-gs",
     4, 3, 3, 2, "New ITU website with one content platform."),
    ("RISK-DUP", "Work duplicated between the Sectors on common themes", "demo-chair",
     4, 3, 2, 3, "ISC-TF coordination by theme; ISCG mapping table."),
    ("RISK-MEMB", "Membership revenue declines", "fp-membership-smes-gs",
     3, 5, 3, 4, "Digital marketing and MyITU to reach new audiences."),
    ("RISK-ETC", "Emergency telecommunications deployed late", "fp-emergency-telecom-bdt",
     2, 5, 2, 3, "Shared deployment roster between BDT and BR."),
)  # fmt: skip


@dataclass(frozen=True)
class DemoRecommendation:
    source: SourceBody
    symbol: str
    number: int
    issued_on: date
    title: str
    text: str
    owner: str
    theme: str
    priority: Priority
    target_in_days: int | None  # from the day the demo is loaded
    risks: tuple[str, ...]
    steps: tuple[tuple[str, RecommendationCommand], ...] = ()
    addressee: Addressee = Addressee.EXECUTIVE_HEAD


ACCEPT = ("secretariat", RecordAcceptance(acceptance=Acceptance.ACCEPTED))
PARTIAL = ("secretariat", RecordAcceptance(acceptance=Acceptance.PARTIALLY_ACCEPTED))


def _progress(percentage: int, narrative: str) -> tuple[str, RecommendationCommand]:
    return "owner", ReportProgress(percentage=percentage, narrative=narrative, evidence=(EVIDENCE,))


def _claim(narrative: str) -> tuple[str, RecommendationCommand]:
    return "owner", ClaimImplemented(narrative=narrative, evidence=(EVIDENCE,))


VERIFY = ("auditor", VerifyImplementation(note="Evidence reviewed by Internal Audit."))

RECOMMENDATIONS: tuple[DemoRecommendation, ...] = (
    DemoRecommendation(
        SourceBody.JIU, "JIU/REP/2020/6", 1, date(2020, 12, 15),
        "Adopt a multilingualism policy with an action plan",
        "The legislative bodies should request the executive heads to adopt a multilingualism "
        "policy and a detailed action plan, and to report on its implementation.",
        "fp-multilingualism-gs", "multilingualism", Priority.MEDIUM, 180, ("RISK-LANG",),
        (ACCEPT, _progress(40, "Action plan sent to the Council working group on languages.")),
        Addressee.LEGISLATIVE_ORGAN,
    ),
    DemoRecommendation(
        SourceBody.JIU, "JIU/REP/2020/6", 3, date(2020, 12, 15),
        "Designate a senior coordinator for multilingualism",
        "The executive heads should designate a senior coordinator for multilingualism.",
        "fp-multilingualism-gs", "multilingualism", Priority.LOW, 30, ("RISK-LANG",),
        (ACCEPT, _claim("Coordinator designated by service order."), VERIFY),
    ),
    DemoRecommendation(
        SourceBody.JIU, "JIU/REP/2018/6", 2, date(2018, 11, 20),
        "Adopt an accessibility policy and strategy with targets",
        "The executive heads should adopt an accessibility policy and strategy for conferences "
        "and meetings, with measurable targets.",
        "fp-accessibility-tsb", "accessibility", Priority.MEDIUM, 60, ("RISK-ACCESS",),
        (ACCEPT, _progress(70, "Policy under review."), _claim("Strategy and 2021-2022 plan.")),
    ),
    DemoRecommendation(
        SourceBody.JIU, "JIU/REP/2018/6", 5, date(2018, 11, 20),
        "Make remote participation services accessible",
        "The executive heads should ensure that remote participation services, including "
        "captioning, are accessible to persons with disabilities.",
        # Due in five days: once overdue, it opens a key issue (not at load time, so that the
        # demo's issues stay the dozen of its script).
        "fp-accessibility-tsb", "accessibility", Priority.HIGH, 5,
        ("RISK-ACCESS", "RISK-REMOTE"),
        (PARTIAL, _progress(30, "Trials of accessible virtual meetings, following ITU-T.")),
    ),
    DemoRecommendation(
        SourceBody.JIU, "JIU/REP/2019/5", 2, date(2019, 10, 1),
        "Assess the risks of cloud services before adopting them",
        "The executive heads should assess the risks of cloud computing services, including "
        "data protection, before adopting them.",
        "fp-digital-transformation-gs", "digital-transformation", Priority.MEDIUM, None,
        ("RISK-IC",),
    ),
    DemoRecommendation(
        SourceBody.EXTERNAL_AUDITOR, "C21/40", 4, date(2021, 4, 30),
        "Keep one register of the costs of major events",
        "The External Auditor recommends one register of the costs of major events, shared by "
        "the Sectors and the General Secretariat.",
        "fp-major-events-gs", "major-events", Priority.MEDIUM, 240, ("RISK-DUP",),
        (ACCEPT,),
    ),
    DemoRecommendation(
        SourceBody.EXTERNAL_AUDITOR, "C21/40", 7, date(2021, 4, 30),
        "Strengthen the IT governance of the new website project",
        "The External Auditor recommends a steering committee and a risk log for the new "
        "website project.",
        "fp-digital-transformation-gs", "digital-transformation", Priority.MEDIUM, 90,
        ("RISK-WEB",),
        (
            ACCEPT,
            _claim("Steering committee set up."),
            ("auditor", ReturnToInProgress(reason="The risk log is not yet kept.")),
        ),
    ),
    DemoRecommendation(
        SourceBody.EXTERNAL_AUDITOR, "C21/40", 9, date(2021, 4, 30),
        "Review the fee structure of SME membership",
        "The External Auditor recommends aligning the SME fee categories of the Sectors.",
        "fp-membership-smes-tsb", "membership-smes", Priority.LOW, None, ("RISK-MEMB",),
        (
            (
                "secretariat",
                RecordAcceptance(
                    acceptance=Acceptance.NOT_ACCEPTED,
                    comment="Fee categories are set by the Plenipotentiary Conference.",
                ),
            ),
        ),
    ),
    DemoRecommendation(
        SourceBody.IMAC, "C21/22", 3, date(2021, 3, 15),
        "Link the compliance dashboard to the risk register",
        "IMAC recommends that the compliance dashboard of oversight recommendations show the "
        "risks each recommendation mitigates and the residual risk.",
        "fp-digital-transformation-gs", "digital-transformation", Priority.HIGH, 45,
        ("RISK-ERM", "RISK-IC"),
        (ACCEPT, _progress(80, "Dashboard live; links to risks added."), _claim("Done."), VERIFY),
    ),
    DemoRecommendation(
        SourceBody.IMAC, "C21/22", 5, date(2021, 3, 15),
        "Cover remote participation in the business continuity plan",
        "IMAC recommends that the business continuity plan cover remote participation in "
        "major events.",
        "fp-major-events-gs", "major-events", Priority.MEDIUM, 120, ("RISK-REMOTE",),
        (
            ACCEPT,
            (
                "owner",
                CloseRecommendation(
                    outcome=Implementation.OVERTAKEN_BY_EVENTS,
                    justification="Superseded by the guidelines for virtual events (2020).",
                ),
            ),
        ),
    ),
    DemoRecommendation(
        SourceBody.INTERNAL_AUDIT, "IA-2021-01", 2, date(2021, 2, 10),
        "Keep a shared roster for emergency deployments",
        "Internal Audit recommends one roster of experts for emergency deployments, shared by "
        "BDT and BR.",
        "fp-emergency-telecom-bdt", "emergency-telecom", Priority.MEDIUM, 60, ("RISK-ETC",),
        (
            ACCEPT,
            (
                "owner",
                CloseRecommendation(
                    outcome=Implementation.NOT_IMPLEMENTED,
                    justification="The rosters remain separate under the bureaux' mandates.",
                ),
            ),
        ),
    ),
    DemoRecommendation(
        SourceBody.INTERNAL_AUDIT, "IA-2021-01", 4, date(2021, 2, 10),
        "Procure satellite terminals through regional offices",
        "Internal Audit recommends that regional offices procure satellite terminals locally.",
        "fp-emergency-telecom-bdt", "emergency-telecom", Priority.LOW, None, ("RISK-ETC",),
        (
            (
                "secretariat",
                RecordAcceptance(
                    acceptance=Acceptance.NOT_RELEVANT,
                    comment="Terminals are now procured centrally by BDT.",
                ),
            ),
        ),
    ),
    DemoRecommendation(
        SourceBody.INTERNAL_AUDIT, "IA-2016-02", 4, date(2016, 5, 20),
        "Document the licensing of geospatial datasets",
        "Internal Audit recommends documenting how geospatial datasets are licensed and by "
        "whom.",
        "fp-geospatial-br", "geospatial", Priority.MEDIUM, -900, ("RISK-DUP",),
        (ACCEPT, _progress(50, "BR negotiates for both bureaux; procedure in draft.")),
    ),
    DemoRecommendation(
        SourceBody.INTERNAL_AUDIT, "IA-2021-02", 1, date(2021, 6, 1),
        "Appoint gender focal points in each regional office",
        "Internal Audit recommends a gender focal point in each regional office.",
        "fp-gender-bdt", "gender", Priority.MEDIUM, 365, (),
    ),
)  # fmt: skip


def load_risks(engine: Engine, now: datetime, actor: Actor) -> int:
    """Add the demo risks that are missing (edits are kept); returns how many."""
    new = 0
    with session_scope(engine) as session:
        for risk_id, title, owner, il, ii, rl, ri, treatment in RISKS:
            if risks.get_risk(session=session, risk_id=risk_id) is not None:
                continue
            data = RiskData(
                title=title,
                description=title + ".",
                owner_id=owner,
                inherent_likelihood=il,
                inherent_impact=ii,
                residual_likelihood=rl,
                residual_impact=ri,
                treatment=treatment,
            )
            risks.save_risk(session=session, risk_id=risk_id, data=data, actor=actor, now=now)
            new += 1
    return new


def _command(item: DemoRecommendation, today: date) -> CreateRecommendation:
    target = None if item.target_in_days is None else today + timedelta(days=item.target_in_days)
    return CreateRecommendation(
        source=item.source,
        symbol=item.symbol,
        number=item.number,
        record=RecordData(
            issued_on=item.issued_on,
            title=item.title,
            text=item.text,
            addressee=item.addressee,
            owner_id=item.owner,
            theme=item.theme,
            priority=item.priority,
            target_date=target,
            risk_ids=item.risks,
        ),
    )


async def load_recommendations(
    engine: Engine,
    commands: RecommendationCommands,
    people: dict[str, tuple[Actor, str]],
    today: date,
) -> int:
    """Record and advance the demo recommendations that do not exist yet; returns how many."""
    new = 0
    for item in RECOMMENDATIONS:
        key = recommendation_id(item.source, item.symbol, item.number)
        with session_scope(engine) as session:
            if get_recommendation(session=session, recommendation_id=key) is not None:
                continue
        actors = {
            "secretariat": people["demo-secretariat"][0],
            "auditor": people["demo-auditor"][0],
            "owner": people[item.owner][0],
        }
        await commands.create(actors["secretariat"], _command(item, today))
        for who, command in item.steps:
            await commands.send(key, actors[who], command)
        new += 1
    return new
