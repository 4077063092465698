"""Walk the console in Chromium: sign in, design, test, deploy, sell, roll back, watch usage, run the portal.

Screenshots at two widths go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from apis import models as m
from apis.patching import PatchOp
from apis.services import deployments, design, keys
from apis.tests.conftest import ServerThread
from apis.tests.console_support import (
    PASSWORD,
    allowed_methods,
    build_world,
    console_patterns,
    console_url,
    make_user,
)
from gateway_runtime.tests.servers import Reply, call
from gateway_runtime.tests.servers import ServerThread as GatewayThread
from portal import services as portal_services
from portal.models import Listing, PortalSettings, SignupMode
from usage import services

WIDTHS = (1280, 390)
T = TypeVar("T")

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


def eventually(call: Callable[[], T], ready: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Repeat a call until its result is ready (gateways reload config and flush events within moments)."""
    deadline = time.monotonic() + timeout
    result = call()
    while not ready(result) and time.monotonic() < deadline:
        time.sleep(0.1)
        result = call()
    return result


def test_gateway_requests_reach_the_dashboard_and_the_plan_usage_after_the_drain(
    page: Page,
    console_server: ServerThread,
    metered_gateway: GatewayThread,
    screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("apis.console.views.dashboard.POLL_SECONDS", 1)  # the page polls every second
    owner = make_user("metrics", superuser=True, password=PASSWORD)
    world = build_world(owner)
    design.method_update(
        method=world.method, patch_operations=[PatchOp(op="replace", path="/apiKeyRequired", value="true")]
    )
    deployments.deployment_create(api=world.api, stage_name="dev", description="keys required")
    keys.usage_plan_update(
        plan=world.plan,
        patch_operations=[
            PatchOp(op="replace", path="/quota/limit", value="50"),
            PatchOp(op="replace", path="/quota/period", value="DAY"),
        ],
    )
    base = console_server.url
    sign_in(page, base, "metrics")
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="1h").click()
    expect(page.get_by_test_id("total-count")).to_have_text("0")
    expect(page.get_by_text("No requests in the last 1 hour")).to_be_visible()
    # Chart.js is a deferred script: the page's text can be there before the chart is drawn.
    page.wait_for_function("window.Chart !== undefined && Chart.getChart(document.getElementById('chart-count'))")
    chart_id = page.evaluate("Chart.getChart(document.getElementById('chart-count')).id")

    # Call the gateway: with the key once it knows it (it reloads config within moments), and without.
    path = f"/_aws/execute-api/{world.api.id}/dev/items/42"
    statuses = [eventually(lambda: gateway_call(metered_gateway, path, world.key_value), lambda s: s == 200)]
    statuses += [gateway_call(metered_gateway, path, world.key_value) for _ in range(5)]
    statuses += [gateway_call(metered_gateway, path, None) for _ in range(2)]
    answered = statuses.count(200)
    assert answered == 6 and statuses[-2:] == [403, 403]

    # The drain moves the events the gateway stored into the rollups; the dashboard reads those.
    counted = [0]

    def drain() -> int:
        counted[0] += services.usage_events_drain().result.counted
        return counted[0]

    eventually(drain, lambda n: n >= len(statuses))
    time.sleep(0.3)  # the gateway writes events every 50 ms: let the last ones (e.g. early 403s) land
    total = drain()
    assert total >= len(statuses)
    # htmx polling brings the figures in without a reload; the charts are updated in place, not redrawn.
    expect(page.get_by_test_id("total-count")).to_have_text(str(total))
    page.wait_for_function(
        "n => { const c = Chart.getChart(document.getElementById('chart-count'));"
        " return !!c && c.data.datasets[0].data.reduce((a, b) => a + b, 0) === n; }",
        arg=total,
    )
    assert page.evaluate("Chart.getChart(document.getElementById('chart-count')).id") == chart_id
    expect(page.get_by_test_id("top-keys")).to_contain_text("Acme key")
    expect(page.get_by_test_id("top-keys").locator("tbody tr").first).to_contain_text(str(answered))
    expect(page.get_by_test_id("top-methods")).to_contain_text("GET /items/{id}")
    check_and_shoot(page, screenshots, "dashboard")

    # The plan's usage by key: 6 of the 50 daily requests used.
    page.get_by_role("link", name="Usage plans").click()
    page.get_by_role("link", name="Gold").click()
    page.get_by_role("link", name="Usage by key").click()
    row = page.locator(f'[data-key-id="{world.key.id}"]')
    expect(row.get_by_test_id("remaining")).to_have_text(str(50 - answered))
    check_and_shoot(page, screenshots, "plan-usage")

    # UpdateUsage: nothing left, and the gateway refuses the key with AWS's quota error.
    row.get_by_label("Remaining requests for Acme key").fill("0")
    row.get_by_role("button", name="Set remaining").click()
    expect(page.get_by_text(f"Key {world.key.id} has 0 requests left")).to_be_visible()
    expect(page.locator(f'[data-key-id="{world.key.id}"]')).to_contain_text("Set to 0 on")
    refused = eventually(lambda: gateway_reply(metered_gateway, path, world.key_value), lambda r: r.status == 429)
    assert (refused.status, json.loads(refused.body)) == (429, {"message": "Limit Exceeded"})


def gateway_reply(gateway: GatewayThread, path: str, key: str | None) -> Reply:
    return call(gateway.port, "GET", path, headers={"x-api-key": key} if key else {})


def gateway_call(gateway: GatewayThread, path: str, key: str | None) -> int:
    return gateway_reply(gateway, path, key).status


def test_an_owner_publishes_to_the_portal_decides_requests_and_edits_components(
    page: Page, console_server: ServerThread, screenshots: Path
) -> None:
    owner = make_user("publisher", superuser=True, password=PASSWORD)
    world = build_world(owner)
    base = console_server.url
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, "publisher")

    # Publish stage dev with the Gold plan, whose subscriptions wait for approval.
    page.goto(f"{base}/console/apis/{world.api.id}/stages/dev/")
    page.get_by_role("link", name="Portal", exact=True).click()
    field(page, "Title").fill("Shop API")
    field(page, "Summary").fill("Items and orders for your storefront")
    field(page, "Tags").fill("retail, orders")
    page.get_by_role("group", name="Usage plans on offer").get_by_label(re.compile("^Gold")).check()
    page.get_by_role("group", name=re.compile("wait for an owner")).get_by_label(re.compile("^Gold")).check()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Listed in the catalog at")).to_be_visible()
    check_and_shoot(page, screenshots, "stage-portal")
    listing = Listing.objects.get(stage=world.stage)
    assert listing.published and listing.offers.get().requires_approval

    # A consumer asks for Gold, another one signs up while approval is required.
    carol = get_user_model().objects.create_user("carol", "carol@example.com")
    portal_services.consumer_register(user=carol)
    portal_services.subscription_create(consumer=carol, listing=listing, plan=world.plan)
    PortalSettings.objects.update_or_create(id=1, defaults={"signup_mode": SignupMode.APPROVAL})
    dave = get_user_model().objects.create_user("dave", "dave@example.com")
    portal_services.consumer_register(user=dave)

    page.get_by_role("link", name="Developer portal").click()
    expect(page.get_by_test_id("listings")).to_contain_text("Shop API")
    check_and_shoot(page, screenshots, "portal-listings")
    page.get_by_role("link", name=re.compile("^Subscription requests")).click()
    expect(page.get_by_test_id("pending-subscription")).to_contain_text("carol@example.com")
    page.get_by_text("Reject…").click()
    expect(page.get_by_label("Reason, sent to the consumer (optional)")).to_be_visible()
    check_and_shoot(page, screenshots, "portal-subscriptions")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved carol@example.com's subscription to Gold.")).to_be_visible()
    check_and_shoot(page, screenshots, "portal-subscriptions-decided")
    page.get_by_role("link", name=re.compile("^Signups")).click()
    expect(page.get_by_test_id("pending-signup")).to_contain_text("dave@example.com")
    check_and_shoot(page, screenshots, "portal-signups")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved the signup of dave@example.com.")).to_be_visible()

    # Rename /items to /products: its child follows.
    page.goto(f"{base}/console/apis/{world.api.id}/resources/{world.item.parent_id}/")
    page.locator("#id_move-path_part").fill("products")
    page.get_by_role("button", name="Rename or move").click()
    expect(page.locator("#resource-title")).to_have_text("/products")
    expect(page.locator(".tree")).to_contain_text("/{id}")
    check_and_shoot(page, screenshots, "resource-move")

    # An authorizer, a customised gateway response, and tags on the API.
    page.get_by_role("link", name="Authorizers").click()
    check_and_shoot(page, screenshots, "authorizers")
    page.get_by_role("link", name="tokens").click()
    field(page, "Result cache TTL (seconds)").fill("60")
    page.get_by_role("button", name="Save authorizer").click()
    expect(page.get_by_text("Authorizer tokens saved.")).to_be_visible()
    check_and_shoot(page, screenshots, "authorizer")
    page.get_by_role("link", name="Gateway responses").click()
    check_and_shoot(page, screenshots, "gateway-responses")
    page.get_by_role("link", name="THROTTLED").click()
    field(page, "Status code").fill("503")
    field(page, "Headers and parameters").fill("header.Retry-After = '10'")
    page.get_by_role("button", name="Save response").click()
    expect(page.get_by_text("Saved gateway response THROTTLED")).to_be_visible()
    check_and_shoot(page, screenshots, "gateway-response")
    page.get_by_role("link", name="Tags", exact=True).click()
    field(page, "Key").fill("team")
    field(page, "Value").fill("storefront")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tags")).to_contain_text("storefront")
    check_and_shoot(page, screenshots, "api-tags")
    for url, name in (
        (f"/console/usage-plans/{world.plan.id}/tags/", "plan-tags"),
        (f"/console/api-keys/{world.key.id}/tags/", "key-tags"),
        (f"/console/domains/{world.domain.domain_name}/tags/", "domain-tags"),
    ):
        page.goto(base + url)
        check_and_shoot(page, screenshots, name)
