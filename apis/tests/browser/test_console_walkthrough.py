"""Walk the console in Chromium: sign in, design, test, deploy, sell, roll back; screenshots at two widths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apis import models as m
from apis.tests.conftest import ServerThread
from apis.tests.console_support import (
    PASSWORD,
    allowed_methods,
    build_world,
    console_patterns,
    console_url,
    make_user,
)

WIDTHS = (1280, 390)

pytestmark = pytest.mark.browser


def field(page: Page, label: str):
    """Return the form control labelled exactly `label` (a required field's label ends in an asterisk)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\W*$"))


def check_and_shoot(page: Page, folder: Path, name: str) -> None:
    """Save the page at both widths, failing if anything makes the page scroll sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(100)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/console/")
    expect(page).to_have_url(re.compile(r"/console/login/"))
    field(page, "Username").fill(username)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password").press("Enter")
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()


def test_an_owner_designs_tests_deploys_sells_and_rolls_back(
    page: Page, console_server: ServerThread, screenshots: Path
) -> None:
    make_user("owner", superuser=True, password=PASSWORD)
    base = console_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{base}/console/login/")
    check_and_shoot(page, screenshots, "login")
    sign_in(page, base, "owner")

    # Create an API.
    page.get_by_role("link", name="Create API").first.click()
    field(page, "Name").fill("Inventory")
    page.get_by_role("button", name="Create API").click()
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    api = m.RestApi.objects.get(name="Inventory")

    # Add /items/{id} with a GET MOCK method.
    field(page, "Resource name").fill("items")
    page.get_by_role("button", name="Create resource").click()
    expect(page.locator("#resource-title")).to_have_text("/items")
    field(page, "Resource name").fill("{id}")
    page.get_by_role("button", name="Create resource").click()
    expect(page.locator("#resource-title")).to_have_text("/items/{id}")
    field(page, "Method").select_option("GET")
    field(page, "Integration type").select_option("MOCK")
    page.get_by_role("button", name="Create method").click()
    expect(page.get_by_role("heading", name="GET /items/{id}")).to_be_visible()
    check_and_shoot(page, screenshots, "method-request")
    page.get_by_role("link", name="Resources").click()
    page.locator(".tree").get_by_role("link", name="/{id}").click()
    check_and_shoot(page, screenshots, "resources")

    # Test it in the console (htmx swaps the panel in place).
    page.get_by_role("link", name="GET", exact=True).click()
    page.get_by_role("link", name="Test").click()
    field(page, "Path: id").fill("42")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.get_by_test_id("test-status")).to_have_text("200")
    expect(page.get_by_text("Method completed with status: 200")).to_be_visible()
    check_and_shoot(page, screenshots, "method-test")

    # Deploy to a new stage `dev`; the stage page shows the invoke URLs.
    page.get_by_role("link", name="Deploy API").click()
    field(page, "Stage").select_option("__new__")
    field(page, "New stage name").fill("dev")
    field(page, "Deployment description").fill("first")
    check_and_shoot(page, screenshots, "deploy")
    page.get_by_role("button", name="Deploy").click()
    expect(page.get_by_role("heading", name="Stage dev")).to_be_visible()
    urls = page.get_by_test_id("invoke-urls")
    expect(urls.locator("input").first).to_have_value(
        re.compile(rf"^http://{api.id}\.execute-api\.localhost:\d+/dev/$")
    )
    expect(urls.locator("input").nth(1)).to_have_value(re.compile(rf"/_aws/execute-api/{api.id}/dev/$"))
    urls.get_by_role("button", name="Copy").first.click()
    expect(urls.get_by_role("button", name="Copied")).to_be_visible()
    check_and_shoot(page, screenshots, "stage")

    # Create a usage plan on dev and an API key in it; the value is shown once.
    page.get_by_role("link", name="Usage plans").click()
    page.get_by_role("link", name="Create usage plan").click()
    field(page, "Name").fill("Basic")
    field(page, "Rate (requests/s)").fill("5")
    field(page, "Burst").fill("10")
    field(page, "Quota (requests)").fill("1000")
    field(page, "Add an API stage").select_option(f"{api.id}:dev")
    page.get_by_role("button", name="Create usage plan").click()
    expect(page.get_by_role("heading", name="Basic")).to_be_visible()
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_role("link", name="Create API key").click()
    field(page, "Name").fill("Partner key")
    plan = m.UsagePlan.objects.get(name="Basic")
    field(page, "Add to usage plan").select_option(plan.id)
    page.get_by_role("button", name="Create API key").click()
    value = page.get_by_test_id("secret").locator("input").input_value()
    assert len(value) == 40
    check_and_shoot(page, screenshots, "key-created")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text(re.compile("Not in any usage plan"))).to_have_count(0)
    page.get_by_role("link", name="Usage plans").click()
    page.get_by_role("link", name="Basic").click()
    expect(page.get_by_role("link", name="Partner key")).to_be_visible()
    check_and_shoot(page, screenshots, "plan")
    page.get_by_role("link", name="API keys", exact=True).click()
    check_and_shoot(page, screenshots, "keys")

    # Change the API, deploy again, then roll dev back to the first deployment.
    page.get_by_role("link", name="APIs").click()
    check_and_shoot(page, screenshots, "apis")
    page.get_by_role("link", name="Inventory").click()
    field(page, "Resource name").fill("health")
    page.get_by_role("button", name="Create resource").click()
    field(page, "Method").select_option("GET")
    page.get_by_role("button", name="Create method").click()
    page.get_by_role("link", name="Deploy API").click()
    field(page, "Deployment description").fill("second")
    page.get_by_role("button", name="Deploy").click()
    history = page.get_by_test_id("stage-history")
    expect(history.locator("tr.table-success")).to_contain_text("second")
    history.get_by_role("button", name="Roll back to this").click()
    expect(history.locator("tr.table-success")).to_contain_text("first")
    stage = m.Stage.objects.get(rest_api=api, stage_name="dev")
    assert stage.deployment.description == "first"

    page.get_by_role("link", name="Deployments").click()
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_test_id("diff")).to_contain_text("/health")
    check_and_shoot(page, screenshots, "deployments")

    for link, name in (("Custom domains", "domains"), ("Access keys", "access-keys"), ("Audit log", "audit")):
        page.get_by_role("link", name=link).click()
        check_and_shoot(page, screenshots, name)
    expect(page.get_by_test_id("audit-table")).to_contain_text("UpdateStage")


def test_the_console_works_from_the_keyboard_on_a_phone(page: Page, console_server: ServerThread) -> None:
    make_user("phone", superuser=True, password=PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{console_server.url}/console/login/")
    expect(field(page, "Username")).to_be_focused()
    page.keyboard.type("phone")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    sidebar = page.locator("#sidebar")
    expect(sidebar.get_by_role("link", name="Usage plans")).to_be_hidden()
    menu = page.get_by_role("button", name="Open navigation")
    menu.focus()
    page.keyboard.press("Enter")
    expect(sidebar.get_by_role("link", name="Usage plans")).to_be_visible()
    sidebar.get_by_role("link", name="Usage plans").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Usage plans")).to_be_visible()


def test_no_console_page_scrolls_sideways_at_either_width(page: Page, console_server: ServerThread) -> None:
    owner = make_user("wide", superuser=True, password=PASSWORD)
    world = build_world(owner)
    sign_in(page, console_server.url, "wide")
    urls = [console_url(p, world) for p in console_patterns() if "GET" in allowed_methods(p)]
    too_wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            response = page.goto(f"{console_server.url}{url}")
            assert response is not None and response.ok, url
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                too_wide.append((width, url, overflow))
    assert too_wide == []
