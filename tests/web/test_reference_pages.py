"""The mapping table, the Council report download and their refusals, in a browser and over HTTP.

This server is not embedded, so the mail outbox answers 404 here (test_outbox_pages.py covers
the embedded server).
"""

from __future__ import annotations

import io
import re

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from tests.support.people import People
from tests.web.conftest import screenshot, serious_violations, sign_in
from tests.web.seeding import bearer, signed_in_client

ENTRIES = (
    ("Accessibility of meetings", "ITU-T", "SG16", "accessibility"),
    ("Accessibility of meetings", "ITU-D", "SG1 Q7", "accessibility"),
    ("Climate change", "ITU-T", "SG5", None),
)


async def record_mapping(base_url: str, people: People) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as api:
        for topic, sector, entity, theme in ENTRIES:
            response = await api.put(
                "/api/v1/mapping",
                json={"topic": topic, "sector": sector, "entity": entity, "theme": theme,
                      "contact": f"{entity.lower().replace(' ', '')}@example.org"},
                headers=bearer(people.secretariat.token),
            )  # fmt: skip
            assert response.status_code == 200, response.text


async def test_the_mapping_table_lists_entries_and_filters_them(
    page: Page, base_url: str, web_people: People
) -> None:
    await record_mapping(base_url, web_people)
    await sign_in(page, "fp_gender@example.org", next_path="/mapping")

    table = page.get_by_role("table", name="3 entries of the mapping table")
    await expect(table.get_by_role("rowheader")).to_have_text(
        ["Accessibility of meetings", "Accessibility of meetings", "Climate change"]
    )
    assert await serious_violations(page) == []
    await screenshot(page, "mapping.en")

    await page.get_by_label("Sector", exact=True).select_option("ITU-T")
    await page.get_by_label("Topic contains").fill("ACCESS")
    await page.get_by_role("button", name="Show").click()

    table = page.get_by_role("table", name="1 entry of the mapping table")
    await expect(table.get_by_role("row").nth(1)).to_contain_text("SG16")
    await expect(page.get_by_label("Topic contains")).to_have_value("ACCESS")

    await page.get_by_label("Topic contains").fill("no such topic")
    await page.get_by_role("button", name="Show").click()
    await expect(
        page.get_by_text("No entry of the mapping table matches these filters.")
    ).to_be_visible()


async def test_in_french_the_mapping_table_is_translated(
    page: Page, base_url: str, web_people: People
) -> None:
    await record_mapping(base_url, web_people)
    await sign_in(page, "chair@example.org", next_path="/mapping")
    await page.get_by_label("Language").select_option("fr")
    await page.get_by_role("button", name="Change").click()

    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de correspondance")
    assert await serious_violations(page) == []
    await screenshot(page, "mapping.fr")


@pytest.mark.parametrize(
    ("fmt", "media"),
    [("md", "text/markdown"), ("html", "text/html"), ("xlsx", "application/vnd.openxmlformats")],
)
async def test_the_council_report_downloads_in_each_format(
    page: Page, web_people: People, fmt: str, media: str
) -> None:
    await sign_in(page, "secretariat@example.org", next_path="/reports")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    if fmt == "md":
        assert await serious_violations(page) == []
        await screenshot(page, "reports.en")

    await page.get_by_label("First day of the period").fill("2020-05-01")
    await page.get_by_label("Last day of the period").fill("2021-03-31")
    await page.get_by_role("radio", name=re.compile({"md": "Markdown", "html": "HTML",
                                                     "xlsx": "Excel"}[fmt])).check()  # fmt: skip
    async with page.expect_download() as event:
        await page.get_by_role("button", name="Download the report").click()
    download = await event.value

    assert download.suggested_filename == f"iscflow-council-2020-05-01-2021-03-31.{fmt}"
    path = await download.path()
    content = path.read_bytes()
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(content))
        assert "Mapping table" in book.sheetnames
    else:
        assert "2021" in content.decode("utf-8")
    assert media  # the media type is checked over HTTP below


async def test_the_report_in_arabic_keeps_the_form_right_to_left(
    page: Page, web_people: People
) -> None:
    await sign_in(page, "auditor@example.org", next_path="/reports")
    await page.get_by_label("Language", exact=True).select_option("ar")
    await page.get_by_role("button", name="Change").click()

    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("#r-lang")).to_have_value("ar")
    assert await serious_violations(page) == []
    await screenshot(page, "reports.ar")


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        ({"from": "2021-03-31", "to": "2020-05-01"}, "to", "comes before its start"),
        ({"from": "31/03/2021", "to": "2021-04-30"}, "from", "Enter a date"),
        ({"from": "1999-12-31", "to": "2021-04-30"}, "from", "Enter a date between"),
        ({"from": "2021-01-01", "to": ""}, "to", "Enter a date"),
    ],
)
async def test_a_bad_period_answers_422_naming_the_field(
    base_url: str, web_people: People, period: dict[str, str], field: str, message: str
) -> None:
    async with signed_in_client(base_url, "chair@example.org") as http:
        response = await http.get(
            "/reports/council", params={**period, "format": "md", "lang": "en"}
        )

    assert response.status_code == 422
    assert f'aria-invalid="true" aria-describedby="r-{field}-error"' in response.text
    error = re.search(rf'id="r-{field}-error">([^<]+)<', response.text)
    assert error is not None and message in error[1]
    assert response.text.count("field-error") == 1


async def test_each_format_is_served_with_its_media_type(base_url: str, web_people: People) -> None:
    async with signed_in_client(base_url, "executive@example.org") as http:
        for fmt, media in (("md", "text/markdown"), ("html", "text/html"),
                           ("xlsx", "application/vnd.openxmlformats")):  # fmt: skip
            response = await http.get(
                "/reports/council",
                params={"from": "2021-01-01", "to": "2021-03-31", "format": fmt, "lang": "fr"},
            )
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(media)
            assert response.headers["content-disposition"].startswith("attachment;")


async def test_focal_points_may_not_produce_council_reports(
    base_url: str, web_people: People
) -> None:
    async with signed_in_client(base_url, "fp_access@example.org") as http:
        form = await http.get("/reports")
        download = await http.get(
            "/reports/council",
            params={"from": "2021-01-01", "to": "2021-03-31", "format": "md", "lang": "en"},
        )

    assert (form.status_code, download.status_code) == (403, 403)
    assert "Your role may not use this page." in download.text


async def test_the_outbox_is_not_found_unless_iscflow_runs_embedded(
    base_url: str, web_people: People
) -> None:
    async with signed_in_client(base_url, "secretariat@example.org") as http:
        listing = await http.get("/outbox")
        message = await http.get("/outbox/1")
        home = await http.get("/preferences")

    assert (listing.status_code, message.status_code) == (404, 404)
    assert "/outbox" not in home.text  # nor offered in the navigation
