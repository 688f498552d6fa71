"""Every page of every role's navigation, in English and Arabic: axe and the keyboard.

For each role, the test signs in and walks its navigation (`web.nav.items_for`, embedded, so
the outbox is included) by keyboard alone: from the main content, Shift+Tab back to the next
page's link in the navigation, Enter; on the page, Tab reaches the skip link and Enter moves
focus into `main`, which holds the page's heading. axe-core must report no serious or critical
violation. A navigation entry that does not answer 200 is a failure, like any other problem;
all problems are collected so that one run names them all.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from domain.roles import Role
from iscflow.settings import Settings
from tests.support.people import People
from tests.web.conftest import serious_violations, sign_in
from tests.web.seeding import raise_issues, record_recommendations
from web.nav import items_for

SIGN_IN_AS = {
    Role.FOCAL_POINT: "fp_access@example.org",
    Role.CHAIR: "chair@example.org",
    Role.EXECUTIVE: "executive@example.org",
    Role.SECRETARIAT: "secretariat@example.org",
    Role.AUDITOR: "auditor@example.org",
    Role.ADMIN: "admin@example.org",
}
MOST_TABS = 60  # more than any header and navigation hold


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Embedded, as `iscflow up` runs: every page of the navigation exists."""
    return settings.model_copy(update={"embedded": True})


async def focus_main(page: Page) -> list[str]:
    """Tab to the skip link, Enter: focus must land on `main`, which holds the page's h1."""
    problems = []
    await page.keyboard.press("Tab")
    if not await page.evaluate("document.activeElement.classList.contains('skip-link')"):
        problems.append("the first Tab does not reach the skip link")
    await page.keyboard.press("Enter")
    landed = await page.evaluate(
        "(() => { const a = document.activeElement; const m = a && a.closest('main');"
        " return m ? m.querySelectorAll('h1').length : -1; })()"
    )
    if landed != 1:
        problems.append("Enter on the skip link does not focus main with its one h1")
    return problems


async def follow_nav_link(page: Page, path: str) -> int | None:
    """From `main`, Shift+Tab back to the navigation's link to `path`, Enter: the status."""
    for _ in range(MOST_TABS):
        await page.keyboard.press("Shift+Tab")
        here = await page.evaluate(
            "(() => { const a = document.activeElement;"
            " return a && a.closest('nav.main') ? a.getAttribute('href') : null; })()"
        )
        if here == path:
            async with page.expect_navigation() as navigation:
                await page.keyboard.press("Enter")
            response = await navigation.value
            return response.status if response is not None else None
    return None


async def sweep(page: Page, role: Role, language: str) -> list[str]:
    problems: list[str] = []
    items = items_for(role, embedded=True)
    problems += [f"{language} {page.url}: {p}" for p in await focus_main(page)]
    for item in items:
        status = await follow_nav_link(page, item.path)
        where = f"{language} {item.path}"
        if status != 200:
            problems.append(f"{where}: answered {status} (or no link reached by keyboard)")
            await page.goto("/preferences")
            problems += [f"{language} /preferences: {p}" for p in await focus_main(page)]
            continue
        if await page.locator("html").get_attribute("lang") != language:
            problems.append(f"{where}: not in {language}")
        problems += [f"{where}: {p}" for p in await focus_main(page)]
        for finding in await serious_violations(page):
            problems.append(f"{where}: axe {finding.impact} {finding.rule} {finding.targets}")
    return problems


@pytest.mark.parametrize("role", list(SIGN_IN_AS), ids=[r.value for r in SIGN_IN_AS])
async def test_every_page_of_the_navigation_is_accessible_in_english_and_arabic(
    page: Page, base_url: str, web_people: People, role: Role
) -> None:
    await record_recommendations(base_url, web_people)
    await raise_issues(base_url, web_people, count=1)
    await sign_in(page, SIGN_IN_AS[role], next_path="/preferences")

    problems = await sweep(page, role, "en")
    await page.locator("#language-switch").select_option("ar")
    await page.get_by_role("button", name="Change", exact=True).click()
    await page.wait_for_function("document.documentElement.lang === 'ar'")
    problems += await sweep(page, role, "ar")

    assert problems == []
