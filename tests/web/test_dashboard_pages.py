"""The compliance dashboard in a real browser: charts with their tables, filters, languages."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.support.people import People
from tests.web.conftest import screenshot, serious_violations, sign_in
from tests.web.seeding import raise_issues, record_recommendations, signed_in_client
from web.i18n import locale

CHARTS = (
    "Implementation status per source body",
    "Implementation rate by year of the report",
    "Ageing of open recommendations",
    "Key issues per theme and state",
)


async def test_the_dashboard_draws_each_chart_with_its_text_alternative_and_table(
    page: Page, base_url: str, web_people: People
) -> None:
    await record_recommendations(base_url, web_people)
    await raise_issues(base_url, web_people)
    await sign_in(page, "auditor@example.org", next_path="/dashboard")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Compliance dashboard")
    for name in CHARTS:
        chart = page.get_by_role("img", name=name, exact=True)
        await expect(chart).to_be_visible()
        description = await chart.get_attribute("aria-describedby")
        assert description is not None
        await expect(page.locator(f"[id='{description}']")).not_to_be_empty()
        await expect(page.get_by_role("table", name=f"Data of the chart: {name}")).to_be_visible()

    status = page.get_by_role("table", name=f"Data of the chart: {CHARTS[0]}")
    jiu = status.get_by_role("row", name=re.compile("^Joint Inspection Unit"))
    # Not started 3 (JIU 2, 3, 4), implemented 1, total 4.
    await expect(jiu.get_by_role("cell")).to_have_text(["3", "0", "1", "0", "0", "0", "4"])
    await expect(page.locator("#chart-status-desc")).to_contain_text(
        "Joint Inspection Unit: Not started 3, Implemented, not yet verified 1."
    )
    ageing = page.get_by_role("table", name=f"Data of the chart: {CHARTS[2]}")
    await expect(ageing.get_by_role("cell")).to_have_text(["0", "2", "1", "1", "0"])
    issues = page.get_by_role("table", name=f"Data of the chart: {CHARTS[3]}")
    await expect(issues.get_by_role("row", name=re.compile("^Accessibility"))).to_contain_text("2")
    figures = page.get_by_role("table", name=re.compile("^Compliance figures"))
    jiu_figures = figures.get_by_role("row", name=re.compile("^Joint Inspection Unit"))
    # total 4, open 3, acceptance 2 of 3 decided, implementation 1 of 2 accepted
    await expect(jiu_figures.get_by_role("cell").nth(3)).to_have_text("50%")
    assert await serious_violations(page) == []
    await screenshot(page, "dashboard.en")


async def test_filters_narrow_every_chart_and_table(
    page: Page, base_url: str, web_people: People
) -> None:
    await record_recommendations(base_url, web_people)
    await sign_in(page, "chair@example.org", next_path="/dashboard")

    await page.get_by_label("Source body", exact=True).select_option("imac")
    await page.get_by_label("Group the figures by").select_option("priority")
    await page.get_by_role("button", name="Show").click()

    await expect(page).to_have_url(re.compile(r"source=imac"))
    status = page.get_by_role("table", name=f"Data of the chart: {CHARTS[0]}")
    await expect(status.get_by_role("row")).to_have_count(2)  # header and IMAC
    await expect(status.get_by_role("row").nth(1)).to_contain_text(
        "Independent Management Advisory Committee"
    )
    figures = page.get_by_role("table", name=re.compile("^Compliance figures"))
    await expect(figures.get_by_role("rowheader")).to_have_text(["Medium", "All recommendations"])
    await expect(page.get_by_label("Source body", exact=True)).to_have_value("imac")


async def test_an_empty_dashboard_says_there_is_nothing_to_chart(
    page: Page, web_people: People
) -> None:
    await sign_in(page, "fp_gender@example.org", next_path="/dashboard")

    chart = page.get_by_role("img", name=CHARTS[0], exact=True)
    await expect(chart).to_contain_text("No recommendation matches these filters.")
    await expect(page.get_by_role("img", name=CHARTS[3], exact=True)).to_contain_text(
        "No key issue has been raised yet."
    )
    assert await serious_violations(page) == []


async def test_in_arabic_the_charts_mirror_and_numbers_follow_the_locale(
    page: Page, base_url: str, web_people: People
) -> None:
    await record_recommendations(base_url, web_people)
    await sign_in(page, "secretariat@example.org", next_path="/dashboard")
    await page.get_by_label("Language").select_option("ar")
    await page.get_by_role("button", name="Change").click()

    arabic = locale("ar")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        arabic.gettext("Compliance dashboard")
    )
    status = page.get_by_role("img", name=arabic.gettext(CHARTS[0]), exact=True)
    await expect(status).to_have_attribute("direction", "rtl")
    rate = page.get_by_role("table", name=re.compile(re.escape(arabic.gettext(CHARTS[1]))))
    await expect(rate).to_contain_text(arabic.percent(0.5))
    assert await serious_violations(page) == []
    await screenshot(page, "dashboard.ar")


async def test_a_filter_that_cannot_be_read_answers_422_naming_it(
    base_url: str, web_people: People
) -> None:
    async with signed_in_client(base_url, "chair@example.org") as http:
        response = await http.get("/dashboard", params={"year": "last", "source": "jiu"})

    assert response.status_code == 422
    assert (
        'id="f-year" name="year" type="number" inputmode="numeric" value="last" aria-invalid="true"'
        in response.text
    )
    assert "Enter a year between 1900 and 2200." in response.text
