"""Signing in and out of the console in a real browser, in both languages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.console.conftest import sign_in

pytestmark = pytest.mark.real_clock


def test_sign_in_shows_the_console_and_sign_out_ends_it(console, page) -> None:
    page.goto(f"{console.url}/cuts")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))  # signed out: the form
    page.get_by_label("Username").fill("dispatcher")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{console.url}/cuts")  # back where the user was going
    expect(page.get_by_role("heading", name="Planned cuts")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Cuts", "New cut", "Incidents", "Notices", "Alerts"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)  # admins only
    expect(nav.get_by_role("link", name="Reports")).to_have_count(0)  # engineers
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{console.url}/notices")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_password_and_an_unknown_name_read_the_same(console, page) -> None:
    answers = []
    for name, password in (("dispatcher", "not the password"), ("nobody", "not the password")):
        sign_in(page, console, name, password)
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible()
        answers.append(alert.inner_text())
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert answers == ["Wrong username or password."] * 2


def test_roles_see_their_own_links(console, page) -> None:
    sign_in(page, console, "engineer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Reports")).to_be_visible()
    expect(nav.get_by_role("link", name="New cut")).to_have_count(0)
    page.goto(f"{console.url}/users")  # shown or not, the server refuses
    expect(page.get_by_role("alert")).to_have_text("Your role may not do this")
    sign_in(page, console, "admin")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Users")) \
        .to_be_visible()


def test_vietnamese_and_english_and_the_choice_is_remembered(console, page) -> None:
    sign_in(page, console, "viewer", language="vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Lịch cắt điện")).to_be_visible()
    nav = page.get_by_role("navigation", name="Điều hướng")
    expect(nav.get_by_role("link", name="Thông báo")).to_be_visible()
    page.get_by_role("link", name="Thông báo").click()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Notices")).to_be_visible()  # same page
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, console, "viewer", language="vi")  # the Vietnamese form...
    expect(page.locator("html")).to_have_attribute("lang", "en")  # ...the user's choice
    expect(page.get_by_role("heading", name="Planned cuts")).to_be_visible()
