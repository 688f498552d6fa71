"""Sign-in, sessions, CSRF, sign-out and the language switcher, in a real browser and over HTTP."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from storage.models import UserRow, WebSessionRow
from tests.support.people import People
from tests.web.conftest import PASSWORD, screenshot, serious_violations, sign_in


async def test_sign_in_sets_a_protected_session_cookie_and_sign_out_ends_it(
    page: Page, context: BrowserContext, web_people: People, engine: Engine
) -> None:
    await page.goto("/preferences")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fpreferences$"))
    assert await serious_violations(page) == []
    await screenshot(page, "sign-in.en")

    await sign_in(page, "fp_access@example.org", next_path="/preferences")

    await expect(page).to_have_url(re.compile(r"/preferences$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Preferences")
    cookie = next(c for c in await context.cookies() if c["name"] == "iscflow_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    with Session(engine) as session:
        stored = session.exec(select(WebSessionRow)).all()
    assert [s.user_id for s in stored] == ["fp_access"]
    assert stored[0].id_hash != cookie["value"]  # only a hash of the cookie is kept

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    with Session(engine) as session:
        assert session.exec(select(WebSessionRow)).all() == []
    await page.goto("/preferences")
    await expect(page).to_have_url(re.compile(r"/sign-in"))


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    page: Page, web_people: People
) -> None:
    await sign_in(page, "chair@example.org", password="not the password")
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("The e-mail address or the password is not right.")
    await sign_in(page, "nobody@example.org", password=PASSWORD)
    await expect(alert).to_have_text("The e-mail address or the password is not right.")
    await expect(page.get_by_label("E-mail address")).to_have_value("nobody@example.org")


async def test_forms_without_the_session_csrf_token_are_refused(
    base_url: str, web_people: People, engine: Engine
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        form = await http.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        # A sign-in post without the double-submitted token is refused.
        forged = await http.post(
            "/sign-in",
            data={"email": "chair@example.org", "password": PASSWORD, "csrf_token": "forged"},
        )
        assert forged.status_code == 403
        signed = await http.post(
            "/sign-in",
            data={"email": "chair@example.org", "password": PASSWORD, "csrf_token": token[1]},
        )
        assert signed.status_code == 303
        # Signed in, a post with a wrong token changes nothing.
        refused = await http.post(
            "/preferences", data={"language": "fr", "digest": "daily", "csrf_token": "x"}
        )
        assert refused.status_code == 403
        assert "This form has expired" in refused.text
        with Session(engine) as session:
            chair = session.get(UserRow, "chair")
            assert chair is not None
            assert (chair.language, chair.digest) == ("en", "immediate")


async def test_preferences_change_the_language_of_every_page(
    page: Page, web_people: People, engine: Engine
) -> None:
    await sign_in(page, "fp_access@example.org", next_path="/preferences")
    await page.get_by_label("Language of pages and e-mails").select_option("ar")
    await page.get_by_label("One daily digest of what waits for me").check()
    await page.get_by_role("button", name="Save").click()

    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("html")).to_have_attribute("lang", "ar")
    await expect(page.get_by_role("heading", level=1)).to_have_text("التفضيلات")
    assert await serious_violations(page) == []
    await screenshot(page, "preferences.ar")
    with Session(engine) as session:
        user = session.get(UserRow, "fp_access")
        assert user is not None
        assert (user.language, user.digest) == ("ar", "daily")

    await page.get_by_label("اللغة", exact=True).select_option("zh")
    await page.get_by_role("button", name="تغيير").click()
    await expect(page.locator("html")).to_have_attribute("dir", "ltr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("偏好设置")
