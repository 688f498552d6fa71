"""A focal point switches the interface to Arabic, then to Chinese, from the header."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support.people import People
from tests.web.conftest import screenshot, serious_violations, sign_in


async def switch_to(page: Page, language: str, button: str) -> None:
    await page.locator("#language-switch").select_option(language)
    await page.get_by_role("button", name=button, exact=True).click()


async def test_a_focal_point_switches_to_arabic_then_chinese(
    page: Page, web_people: People
) -> None:
    await sign_in(page, "fp_access@example.org", next_path="/dashboard")
    html = page.locator("html")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Compliance dashboard")

    await switch_to(page, "ar", "Change")

    await expect(html).to_have_attribute("lang", "ar")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(page.get_by_role("heading", level=1)).to_have_text("لوحة متابعة الامتثال")
    await expect(page.get_by_role("navigation", name="الرئيسية")).to_be_visible()
    await expect(page.get_by_role("link", name="جدول المطابقة")).to_be_visible()
    chart = page.get_by_role("img", name="حالة التنفيذ حسب الجهة المصدرة", exact=True)
    await expect(chart).to_have_attribute("direction", "rtl")
    # Laid out right to left: the navigation starts at the right.
    first = await page.get_by_role("navigation").get_by_role("link").first.bounding_box()
    assert first is not None and first["x"] > 1280 / 2
    assert await serious_violations(page) == []
    await screenshot(page, "language.ar")

    await switch_to(page, "zh", "تغيير")

    await expect(html).to_have_attribute("lang", "zh")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("合规情况仪表板")
    await page.get_by_role("link", name="对应表").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("对应表")
    assert await serious_violations(page) == []
    await screenshot(page, "language.zh")
