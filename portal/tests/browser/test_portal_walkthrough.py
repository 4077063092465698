"""Walk the portal in Chromium: sign up, verify, browse, read, subscribe, take a key, try it, rotate, revoke.

Each page is saved at 1280 px and 390 px under artifacts/screenshots/portal/, and fails the test if it makes
the page scroll sideways.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from apis.tests.conftest import ServerThread as WebServer
from gateway_runtime.tests.servers import ServerThread, call
from portal.models import KeyRotation
from portal.tasks import expire_rotated_keys
from portal.tests.conftest import eventually
from portal.tests.factories import OwnerFactory, publish

WIDTHS = (1280, 390)
EMAIL = "grace@example.com"
PASSWORD = "Walkthrough-pw-97531!"

pytestmark = pytest.mark.browser


def check_and_shoot(page: Page, folder: Path, name: str) -> None:
    """Save the page at both widths, failing if anything makes the page scroll sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def gateway_status(gateway: ServerThread, api_id: str, key: str) -> int:
    """Call GET /hello on the gateway directly with a key value; return the status."""
    return call(gateway.port, "GET", f"/_aws/execute-api/{api_id}/prod/hello", headers={"x-api-key": key}).status


def settle(gateway: ServerThread, api_id: str, key: str, expected: int) -> int:
    """Return the status once the gateway answers `expected` for the key (it reloads keys within seconds)."""
    return eventually(lambda: gateway_status(gateway, api_id, key), lambda status: status == expected)


def created_value(page: Page) -> str:
    expect(page.get_by_text("Copy the value now.")).to_be_visible()
    return page.locator("#copy-key-value").input_value()


def test_a_developer_signs_up_subscribes_tries_rotates_and_revokes(
    page: Page, portal_server: WebServer, live_gateway: ServerThread, screenshots: Path, settings: Any
) -> None:
    owner = OwnerFactory()
    published = publish(owner, summary="Forecasts and observations, hourly.")
    publish(owner, name="Payments", tags=("money",), summary="Charge cards and refund them.")
    api_id = published.api.id
    base = portal_server.url
    page.on("dialog", lambda dialog: dialog.accept())

    # The catalog, as a visitor sees it.
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="APIs", exact=True)).to_be_visible()
    check_and_shoot(page, screenshots, "catalog")

    # Sign up; the account is not usable until the emailed link is followed.
    page.get_by_role("link", name="Sign up").first.click()
    expect(page.get_by_role("heading", name="Sign Up")).to_be_visible()
    check_and_shoot(page, screenshots, "signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    check_and_shoot(page, screenshots, "verification-sent")

    (message,) = [m for m in mail.outbox if EMAIL in m.to]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body)[0]
    page.goto(link)
    check_and_shoot(page, screenshots, "confirm-email")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("button", name=EMAIL)).to_be_visible()

    # Browse: search, filter by tag, open the API.
    page.get_by_label("Search APIs").fill("forecast")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Weather API")).to_be_visible()
    expect(page.get_by_role("link", name="Payments API")).to_have_count(0)
    page.goto(f"{base}/?tag=money")
    expect(page.get_by_role("link", name="Payments API")).to_be_visible()
    expect(page.get_by_role("link", name="Weather API")).to_have_count(0)
    page.goto(f"{base}/")
    page.get_by_role("link", name="Weather API").click()
    expect(page.get_by_role("heading", name="Weather API")).to_be_visible()
    check_and_shoot(page, screenshots, "api-overview")

    # Read the reference (Redoc renders the stage's OpenAPI export).
    page.get_by_role("link", name="Reference", exact=True).click()
    expect(page.locator("#redoc").get_by_text("SayHello").first).to_be_visible(timeout=15_000)
    check_and_shoot(page, screenshots, "api-reference")

    # Subscribe to the plan that starts at once.
    page.get_by_role("link", name="Overview", exact=True).click()
    page.locator("section", has_text="Weather Free").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("You are subscribed to the Weather Free plan")).to_be_visible()
    check_and_shoot(page, screenshots, "subscriptions")

    # Create a key: its value is shown once.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    first = created_value(page)
    check_and_shoot(page, screenshots, "key-created")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", name="laptop")).to_be_visible()
    assert first not in page.content()
    check_and_shoot(page, screenshots, "key-detail")
    page.goto(f"{base}/keys/")
    assert first not in page.content()
    check_and_shoot(page, screenshots, "keys")

    # Try it: Swagger UI calls the gateway through the portal's proxy with the chosen key.
    assert settle(live_gateway, api_id, first, 200) == 200
    page.goto(f"{base}/apis/{published.listing.slug}/try/")
    operation = page.locator("#operations-default-SayHello")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("200", timeout=15_000)
    expect(operation.locator(".live-responses-table")).to_contain_text('"hello": "world"')
    check_and_shoot(page, screenshots, "try-it")

    # Rotate with a grace period: old and new both work, then only the new one.
    page.goto(f"{base}/keys/")
    page.get_by_role("link", name="laptop").click()
    page.get_by_label("Grace period").select_option("1")
    page.get_by_role("button", name="Rotate key").click()
    second = created_value(page)
    assert second != first
    assert settle(live_gateway, api_id, second, 200) == 200
    assert gateway_status(live_gateway, api_id, first) == 200, "the old key works during the grace period"
    page.goto(f"{base}/keys/")
    expect(page.get_by_text("rotated, until")).to_be_visible()
    check_and_shoot(page, screenshots, "keys-rotating")

    KeyRotation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_rotated_keys() == 1
    assert settle(live_gateway, api_id, first, 403) == 403, "the old key stops after the grace period"
    assert gateway_status(live_gateway, api_id, second) == 200

    # Revoke the new key: the gateway refuses it.
    page.goto(f"{base}/keys/")
    page.get_by_role("link", name="laptop", exact=True).click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_text("Revoked the key laptop")).to_be_visible()
    assert settle(live_gateway, api_id, second, 403) == 403, "a revoked key is refused"

    # The account pages.
    for path, name in [
        ("/accounts/email/", "account-email"),
        ("/accounts/password/change/", "account-password"),
        ("/accounts/2fa/", "account-2fa"),
        ("/account/delete/", "account-delete"),
    ]:
        page.goto(f"{base}{path}")
        check_and_shoot(page, screenshots, name)
    page.goto(f"{base}/accounts/2fa/totp/activate/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    check_and_shoot(page, screenshots, "account-reauthenticate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    check_and_shoot(page, screenshots, "account-totp-activate")
    page.get_by_role("button", name=EMAIL).click()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{base}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    check_and_shoot(page, screenshots, "login")
    page.goto(f"{base}/accounts/password/reset/")
    check_and_shoot(page, screenshots, "password-reset")
