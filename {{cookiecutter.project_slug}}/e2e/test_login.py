import re

from playwright.sync_api import expect

from conftest import DEMO_PASSWORD


def test_login_shows_home_page(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))

    # bob logs out, which deletes his token; alice's stored login stays valid.
    page.get_by_test_id("login-username").fill("bob")
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()

    expect(page.get_by_test_id("home-username")).to_have_text("bob")

    page.get_by_test_id("logout-button").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_wrong_password_shows_error(page):
    page.goto("/login")

    page.get_by_test_id("login-username").fill("alice")
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()

    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_stored_login_opens_home(browser, browser_context_args, alice_storage_state):
    context = browser.new_context(**browser_context_args, storage_state=alice_storage_state)
    page = context.new_page()

    page.goto("/")

    expect(page.get_by_test_id("home-username")).to_have_text("alice")
    context.close()
