"""Object-level security: consumer A, signed in, on every consumer-scoped URL with consumer B's ids gets a 404
that carries none of B's data, and B's objects are left as they were."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from apis import models as am
from portal import services, urls
from portal.models import ConsumerGroup, KeyRotation, Subscription, SubscriptionStatus, Visibility
from portal.proxy import KEY_HEADER
from portal.tests.factories import publish

pytestmark = pytest.mark.django_db

# Every URL kwarg that names an object some consumers may not reach.
SCOPED_KWARGS = {"key_id", "subscription_id", "slug"}


@pytest.fixture
def b_world(api_owner: Any, other_consumer: Any) -> dict[str, Any]:
    """Consumer B's objects: a key, an active subscription, and an API listed only for B's group."""
    partners = ConsumerGroup.objects.create(name="b-partners")
    partners.members.add(other_consumer)
    private = publish(api_owner, name="Bobs", visibility=Visibility.GROUPS, groups=(partners,), tags=("secret-tag",))
    subscription = services.subscription_create(consumer=other_consumer, listing=private.listing, plan=private.free)
    key, _ = services.consumer_key_create(consumer=other_consumer, name="bobs-production-key")
    return {
        "key_id": key.id,
        "subscription_id": subscription.id,
        "slug": private.listing.slug,
        "plan_id": private.free.id,
        "sdk_type": "python",
        "secrets": [
            key.id,
            "bobs-production-key",
            subscription.id,
            other_consumer.email,
            "Bobs API",
            "secret-tag",
            private.api.id,
            private.free.name,
        ],
    }


def scoped_patterns() -> list[URLPattern]:
    return [p for p in urls.urlpatterns if SCOPED_KWARGS & set(p.pattern.converters)]


def fill(pattern: URLPattern, world: dict[str, Any]) -> str:
    """Fill a route's <converter:name> parts with B's objects (the proxy's path with a plain resource path)."""
    values = {**world, "path": "hello"}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: values[match[1]], str(pattern.pattern))


def methods_of(pattern: URLPattern) -> list[str]:
    if pattern.name in {"api_proxy", "api_proxy_root"}:
        return ["GET", "POST", "DELETE"]
    if pattern.name in {"key_rotate", "key_revoke", "subscription_cancel", "api_subscribe", "api_sdk_build"}:
        return ["POST"]
    return ["GET"]


def test_every_scoped_url_is_a_404_without_b_data(alice: Client, bob: Client, b_world: dict[str, Any]) -> None:
    covered = []
    for pattern in scoped_patterns():
        url = fill(pattern, b_world)
        assert "<" not in url, f"unfilled {url}"
        for method in methods_of(pattern):
            response = alice.generic(
                method,
                url,
                data="plan=x&grace_hours=1" if method == "POST" else "",
                content_type="application/x-www-form-urlencoded",
                **{f"HTTP_{KEY_HEADER.upper().replace('-', '_')}": b_world["key_id"]},
            )
            body = response.content.decode()
            assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
            for secret in b_world["secrets"]:
                assert secret not in body, f"{method} {url} leaks {secret!r}"
            covered.append(pattern.name)
        # The same URL works for B, so the 404 is about who asks, not a broken URL.
        if pattern.name in {
            "key_detail",
            "api_detail",
            "api_reference",
            "api_openapi",
            "api_try",
            "api_sdks",
            "api_sdk_status",
            "key_usage",
            "key_usage_csv",
        }:
            assert bob.get(url).status_code == 200, url
    assert set(covered) == {p.name for p in scoped_patterns()}

    key = am.ApiKey.objects.get(id=b_world["key_id"])
    assert key.enabled and not KeyRotation.objects.filter(old_key=key).exists()
    assert Subscription.objects.get(id=b_world["subscription_id"]).status == SubscriptionStatus.ACTIVE


def test_a_public_api_cannot_be_called_with_another_consumers_key(
    alice: Client, published: Any, b_world: dict[str, Any]
) -> None:
    response = alice.get("/apis/weather-api/proxy/hello", **{"HTTP_X_PORTICO_KEY": b_world["key_id"]})
    assert response.status_code == 404
    assert b_world["key_id"] not in response.content.decode()


def test_lists_show_only_the_consumers_own_objects(alice: Client, b_world: dict[str, Any]) -> None:
    for url in ("/", "/keys/", "/subscriptions/"):
        body = alice.get(url).content.decode()
        for secret in b_world["secrets"]:
            assert secret not in body, f"{url} leaks {secret!r}"
    for url in ("/?tag=secret-tag", "/?q=Bobs"):
        body = alice.get(url).content.decode()
        assert "No API matches your search" in body and "Bobs API" not in body


def test_anonymous_visitors_get_the_login_page_not_data(client: Client, b_world: dict[str, Any]) -> None:
    for url in (f"/keys/{b_world['key_id']}/", "/keys/", "/subscriptions/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
