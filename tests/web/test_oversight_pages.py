"""Recommendation and risk-register pages in Chromium and over HTTP: an owner claims an
implementation and an auditor verifies it, by keyboard alone; the secretariat edits a risk;
the server refuses what a page does not offer.

Recommendation symbols are drawn at random: the Temporal dev server (so the workflow id) is
shared by every test of the run.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from domain.recommendation_terms import Acceptance, Implementation
from domain.risks import RiskData
from iscflow.recommendation_commands import RecommendationCommands
from iscflow.settings import Settings
from storage import directory, repository, risks
from storage.db import session_scope
from storage.recommendations import get_recommendation, list_progress
from tests.support.people import People
from tests.support.recommendations import create_command
from tests.web.conftest import PASSWORD, screenshot, serious_violations
from tests.web.journey import csrf_of, press, signed_in, type_into

RISK = "RISK-ACCESS"
EVIDENCE = "https://www.itu.int/en/council/accessible-documents.pdf"


@pytest.fixture
def register(engine: Engine, web_people: People) -> None:
    data = RiskData(
        title="Meetings inaccessible to persons with disabilities",
        description="Captioning and documents.",
        owner_id="chair",
        inherent_likelihood=3,
        inherent_impact=4,
        residual_likelihood=2,
        residual_impact=4,
        treatment="Accessibility policy.",
    )
    with session_scope(engine) as session:
        risks.save_risk(
            session=session, risk_id=RISK, data=data, actor=web_people.secretariat.actor,
            now=datetime.now(UTC),
        )  # fmt: skip


@pytest.fixture
async def in_progress(
    client: Client, settings: Settings, web_people: People, register: None
) -> str:
    """An accepted recommendation owned by fp_access, 40 % done, mitigating the risk."""
    commands = RecommendationCommands.from_settings(client, settings)
    rec = await commands.create(
        web_people.secretariat.actor,
        create_command(
            symbol=f"JIU/REP/2024/{uuid.uuid4().hex[:8]}",
            acceptance=Acceptance.ACCEPTED,
            implementation=Implementation.IN_PROGRESS,
            progress=40,
            risk_ids=(RISK,),
            target_date=date.today() + timedelta(days=300),
        ),
    )
    return rec.id


async def _no_serious_violations(page: Page) -> None:
    found = await serious_violations(page)
    assert found == [], found


async def _sign_in_by_keyboard(page: Page, email: str) -> None:
    await page.goto("/sign-in")
    await type_into(page, page.get_by_label(re.compile("e-mail", re.I)), email)
    await type_into(page, page.get_by_label(re.compile("password", re.I)), PASSWORD)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_an_auditor_verifies_an_implementation_its_owner_claimed_by_keyboard(
    page: Page, web_people: People, in_progress: str, engine: Engine
) -> None:
    await _sign_in_by_keyboard(page, "fp_access@example.org")
    await press(page, page.get_by_role("link", name="Recommendations"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Oversight recommendations")
    await _no_serious_violations(page)
    await screenshot(page, "recommendations.en")
    await press(page, page.get_by_role("link", name=re.compile(r"^JIU\/REP\/2024\/.* #3$")))
    await expect(page.locator("#implementation-state")).to_have_text("In progress")
    await _no_serious_violations(page)
    await screenshot(page, "recommendation-owner.en")

    claim = page.locator(
        "section", has=page.get_by_role("heading", name="Claim the recommendation implemented")
    )
    await type_into(page, claim.get_by_label("How it was implemented"), "All documents tagged.")
    await type_into(page, claim.get_by_label("Evidence for the auditor"), EVIDENCE)
    await press(page, claim.get_by_role("button", name="Claim implemented"))
    await expect(page.get_by_role("status")).to_have_text(
        "The implementation is claimed; an auditor will verify it."
    )
    await expect(page.locator("#implementation-state")).to_have_text("Implemented (claimed)")
    await expect(page.locator("#progress-updates")).to_contain_text(EVIDENCE)
    # Claimed, the owner has nothing more to send.
    await expect(page.get_by_role("heading", name="What you can do")).to_have_count(0)
    await press(page, page.get_by_role("button", name="Sign out"))

    await _sign_in_by_keyboard(page, "auditor@example.org")
    await press(page, page.get_by_role("link", name="Recommendations"))
    await press(page, page.get_by_role("link", name=re.compile(r"^JIU\/REP\/2024\/.* #3$")))
    await expect(page.get_by_role("heading", name="Verify the implementation")).to_be_visible()
    await _no_serious_violations(page)
    await screenshot(page, "recommendation-auditor.en")
    await type_into(page, page.get_by_label("Note (optional)"), "Checked a sample of 20.")
    await press(page, page.get_by_role("button", name="Verify", exact=True))
    await expect(page.get_by_role("status")).to_have_text(
        "The implementation is verified; the recommendation is closed."
    )
    await expect(page.locator("#implementation-state")).to_have_text("Verified")
    await expect(page.get_by_role("button", name="Verify", exact=True)).to_have_count(0)

    with Session(engine) as session:
        row = get_recommendation(session=session, recommendation_id=in_progress)
        assert row is not None
        assert (row.implementation, row.verification_note) == (
            "verified", "Checked a sample of 20.",
        )  # fmt: skip
        claims = list_progress(session=session, recommendation_id=in_progress)
        assert [(p.kind, p.actor_id, p.evidence) for p in claims] == [
            ("ImplementationClaimed", "fp_access", [EVIDENCE])
        ]
        trail = repository.list_audit(session=session, stream=in_progress)
        assert [(a.action, a.actor_id) for a in trail[-2:]] == [
            ("ImplementationClaimed", "fp_access"),
            ("ImplementationVerified", "auditor"),
        ]


async def test_the_secretariat_edits_a_risk_and_sees_what_mitigates_it(
    page: Page, web_people: People, in_progress: str, engine: Engine
) -> None:
    await _sign_in_by_keyboard(page, "secretariat@example.org")
    await page.goto("/risks")
    await expect(page.locator("#register tbody tr")).to_have_count(1)
    await expect(page.locator("#register")).to_contain_text("1 linked, 1 open, 0 overdue")
    await _no_serious_violations(page)
    await screenshot(page, "risks.en")
    await page.get_by_role("link", name=RISK).click()
    await expect(page.locator("#mitigating")).to_contain_text("In progress")
    await expect(page.locator("#residual-score")).to_have_text("8")

    form = page.locator("section", has=page.get_by_role("heading", name="Change the risk"))
    residual = form.get_by_role("group", name="After treatment (residual)")
    # Worse after treatment than before: refused, nothing saved, the field named.
    await residual.get_by_label(re.compile("^Likelihood")).select_option("5")
    await form.get_by_role("button", name="Save the risk").click()
    field = residual.get_by_label(re.compile("^Likelihood"))
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#edit-risk-residual_likelihood-error")).to_be_visible()
    await _no_serious_violations(page)
    await screenshot(page, "risk-refused.en")

    await residual.get_by_label(re.compile("^Likelihood")).select_option("1")
    await form.get_by_role("button", name="Save the risk").click()
    await expect(page.get_by_role("status")).to_have_text("The risk is updated.")
    await expect(page.locator("#residual-score")).to_have_text("4")
    await expect(page.locator("#audit-trail tbody tr")).to_have_count(2)
    with Session(engine) as session:
        row = risks.get_risk(session=session, risk_id=RISK)
        assert row is not None and (row.residual_likelihood, row.residual_score) == (1, 4)


async def test_oversight_pages_in_arabic(
    page: Page, web_people: People, in_progress: str, engine: Engine
) -> None:
    with session_scope(engine) as session:
        directory.set_preferences(session=session, user_id="secretariat", language="ar")
    await _sign_in_by_keyboard(page, "secretariat@example.org")
    for path, name in (
        ("/recommendations", "recommendations"),
        (f"/recommendations/{in_progress}", "recommendation"),
        ("/risks", "risks"),
        (f"/risks/{RISK}", "risk"),
    ):
        await page.goto(path)
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await _no_serious_violations(page)
        await screenshot(page, f"{name}.ar")
    await page.goto(f"/recommendations/{in_progress}")
    await expect(page.locator("#implementation-state")).to_have_text("قيد التنفيذ")
    await page.goto("/risks")
    await expect(page.get_by_role("heading", level=1)).to_have_text("سجل المخاطر")


async def test_the_server_refuses_what_the_oversight_pages_do_not_offer(
    base_url: str, web_people: People, in_progress: str, engine: Engine
) -> None:
    path = f"/recommendations/{in_progress}"
    async with (
        signed_in(base_url, "fp_gender@example.org") as stranger,
        signed_in(base_url, "fp_access@example.org") as owner,
        signed_in(base_url, "auditor@example.org") as auditor,
        signed_in(base_url, "secretariat@example.org") as secretariat,
    ):
        assert f'action="{path}/progress"' not in (await stranger.get(path)).text
        assert f'action="{path}/progress"' in (await owner.get(path)).text
        assert f'action="{path}/verify"' not in (await auditor.get(path)).text

        token = await csrf_of(stranger, path)
        progress = {"percentage": "60", "narrative": "Half the documents.", "evidence": EVIDENCE}
        not_owner = await stranger.post(f"{path}/progress", data={**progress, "csrf_token": token})
        assert not_owner.status_code == 403
        assert "does not allow this step" in not_owner.text

        token = await csrf_of(auditor, path)
        too_early = await auditor.post(f"{path}/verify", data={"csrf_token": token, "note": "x"})
        assert too_early.status_code == 409
        assert "This step is not possible in the current state: In progress." in too_early.text

        token = await csrf_of(owner, path)
        too_much = await owner.post(
            f"{path}/progress", data={**progress, "percentage": "150", "csrf_token": token}
        )
        assert too_much.status_code == 422
        assert re.search(r'id="report_progress-percentage"[^>]*aria-invalid="true"', too_much.text)
        no_evidence = await owner.post(
            f"{path}/implemented", data={"narrative": "Done.", "evidence": "", "csrf_token": token}
        )
        assert no_evidence.status_code == 422
        assert re.search(
            r'id="claim_implemented-evidence"[^>]*aria-invalid="true"', no_evidence.text
        )
        forged = await owner.post(f"{path}/progress", data={**progress, "csrf_token": "forged"})
        assert forged.status_code == 403
        assert "This form has expired" in forged.text

        risk = {"title": "Changed", "description": "d", "owner": "chair", "treatment": "t",
                "inherent_likelihood": "3", "inherent_impact": "4",
                "residual_likelihood": "2", "residual_impact": "4"}  # fmt: skip
        token = await csrf_of(owner, f"/risks/{RISK}")
        assert f'action="/risks/{RISK}"' not in (await owner.get(f"/risks/{RISK}")).text
        refused = await owner.post(f"/risks/{RISK}", data={**risk, "csrf_token": token})
        assert refused.status_code == 403
        token = await csrf_of(secretariat, f"/risks/{RISK}")
        worse = await secretariat.post(
            f"/risks/{RISK}", data={**risk, "residual_likelihood": "4", "csrf_token": token}
        )
        assert worse.status_code == 422
        assert re.search(r'id="edit-risk-residual_likelihood"[^>]*aria-invalid="true"', worse.text)
        nobody = await secretariat.post(
            f"/risks/{RISK}", data={**risk, "owner": "nobody", "csrf_token": token}
        )
        assert nobody.status_code == 422
        assert re.search(r'id="edit-risk-owner"[^>]*aria-invalid="true"', nobody.text)

    with Session(engine) as session:
        row = get_recommendation(session=session, recommendation_id=in_progress)
        assert row is not None and (row.implementation, row.progress) == ("in_progress", 40)
        assert list_progress(session=session, recommendation_id=in_progress) == []
        stored = risks.get_risk(session=session, risk_id=RISK)
        assert stored is not None and (stored.title, stored.version) == (
            "Meetings inaccessible to persons with disabilities", 1,
        )  # fmt: skip
