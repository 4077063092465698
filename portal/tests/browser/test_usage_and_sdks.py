"""Chromium on the usage page (both charts drawn from the rollups) and the SDK page (htmx polls a build)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apis.tests.conftest import ServerThread as WebServer
from portal import sdks, services, tasks
from portal.tests.browser.test_portal_walkthrough import check_and_shoot
from portal.tests.factories import PASSWORD, OwnerFactory, UserFactory, publish
from usage import services as usage_services
from usage.events import parse
from usage.tests.conftest import make_event

pytestmark = pytest.mark.browser


def sign_in(page: Page, server: WebServer, email: str) -> None:
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("link", name="Usage")).to_be_visible()


def test_usage_charts_and_an_sdk_build_seen_in_a_browser(
    page: Page,
    portal_server: WebServer,
    screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.VAR_DIR = tmp_path
    usage_services.caches_reset()
    published = publish(OwnerFactory())
    developer = UserFactory(username="hopper")
    services.subscription_create(consumer=developer, listing=published.listing, plan=published.free)
    key, _ = services.consumer_key_create(consumer=developer, name="laptop")
    now_ms = int(time.time() * 1000)
    common = {"api_id": published.api.id, "key_id": key.id, "plan_id": published.free.id}
    lines = [make_event(time_ms=now_ms - hour * 3_600_000, **common) for hour in range(0, 60, 3)]
    lines += [
        make_event(time_ms=now_ms, status=429, flags="T", **common),
        make_event(time_ms=now_ms, status=502, **common),
    ]
    usage_services.events_ingest(source="browser", position="1", batch=parse(["\n".join(lines)]))

    sign_in(page, portal_server, developer.email)
    page.get_by_role("link", name="Usage").click()
    page.get_by_role("link", name=published.free.name).click()
    midnight_ms = now_ms - now_ms % 86_400_000
    counted_today = sum(1 for hour in range(0, 60, 3) if now_ms - hour * 3_600_000 >= midnight_ms) + 1  # the 502
    expect(page.get_by_test_id("remaining")).to_have_text(str(1000 - counted_today))
    for chart in ("usage-daily", "usage-hourly"):
        # Chart.js is a deferred script: the page's text can be there before the charts are drawn.
        page.wait_for_function(f"window.Chart !== undefined && Chart.getChart('{chart}') !== undefined")
        drawn = page.evaluate(f"Chart.getChart('{chart}').data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))")
        assert drawn[0] > 0, (chart, drawn)
    check_and_shoot(page, screenshots, "usage")

    def slow_generator(document: dict, names: sdks.SdkNames, workdir: Path, timeout: float) -> Path:
        time.sleep(2.5)  # long enough for the page to show the build running
        (workdir / "sdk").mkdir()
        (workdir / "sdk" / "README.md").write_text(names.base_url)
        return workdir / "sdk"

    monkeypatch.setattr(sdks, "_generators", lambda: {t: slow_generator for t in sdks.SDK_TYPES})
    worker = []  # the "Celery worker": a thread that runs the task
    monkeypatch.setattr(
        services,
        "_enqueue_sdk_build",
        lambda build_id: (
            worker.append(threading.Thread(target=tasks.build_sdk, args=(build_id,))) or worker[-1].start()
        ),
    )
    page.goto(f"{portal_server.url}/apis/{published.listing.slug}/sdks/")
    card = page.get_by_test_id("sdk-python")
    expect(card).to_have_attribute("data-status", "none")
    card.get_by_role("button", name="Generate").click()
    expect(page.get_by_test_id("sdk-python")).to_have_attribute("data-status", "building", timeout=5000)
    check_and_shoot(page, screenshots, "sdks-building")
    download_link = page.get_by_test_id("sdk-python").get_by_role("link", name="Download .zip")
    expect(download_link).to_be_visible(timeout=10_000)
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename == "weather-api-prod-python-sdk.zip"
    check_and_shoot(page, screenshots, "sdks-ready")
    for thread in worker:
        thread.join(timeout=10)
