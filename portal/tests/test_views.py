"""Portal pages through the test client: catalog, docs, subscribing, keys shown once, forms that cannot escalate."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from apis import models as am
from portal import services
from portal.models import ConsumerGroup, KeyRotation, Subscription, SubscriptionStatus, Visibility
from portal.tests.conftest import signed_in
from portal.tests.factories import Published, publish

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return response.content.decode()


# --- Catalog -------------------------------------------------------------------------------------------


def test_the_catalog_lists_public_apis_to_anyone(client: Client, published: Published) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Weather API" in text(response)
    assert 'href="/apis/weather-api/"' in text(response)


def test_the_catalog_searches_and_filters_by_tag(client: Client, api_owner: Any, published: Published) -> None:
    publish(api_owner, name="Payments", tags=("money",))
    assert "Payments API" not in text(client.get("/?q=forecast"))
    assert "Weather API" in text(client.get("/?q=forecast"))
    by_tag = text(client.get("/?tag=money"))
    assert "Payments API" in by_tag and "Weather API" not in by_tag
    assert "#money" in text(client.get("/"))


def test_signed_in_and_group_apis_are_hidden_from_who_may_not_see_them(
    client: Client, api_owner: Any, consumer: Any, alice: Client
) -> None:
    members = ConsumerGroup.objects.create(name="partners")
    publish(api_owner, name="Internal", visibility=Visibility.SIGNED_IN)
    publish(api_owner, name="Partner", visibility=Visibility.GROUPS, groups=(members,))
    assert "Internal API" not in text(client.get("/"))
    assert client.get("/apis/internal-api/").status_code == 404
    assert "Internal API" in text(alice.get("/"))
    assert alice.get("/apis/partner-api/").status_code == 404
    assert alice.get("/apis/partner-api/openapi.json").status_code == 404
    members.members.add(consumer)
    assert alice.get("/apis/partner-api/").status_code == 200


def test_the_api_page_offers_its_plans(client: Client, alice: Client, published: Published) -> None:
    anonymous = text(client.get("/apis/weather-api/"))
    assert "Weather Free" in anonymous and "Sign in to subscribe" in anonymous
    signed = text(alice.get("/apis/weather-api/"))
    assert "Request access" in signed and ">Subscribe<" in signed
    assert f"{published.api.id}.execute-api.localhost" in signed


def test_the_reference_loads_redoc_with_the_stage_export(client: Client, published: Published) -> None:
    page = text(client.get("/apis/weather-api/reference/"))
    assert "vendor/redoc/redoc.standalone.js" in page
    assert 'data-spec-url="/apis/weather-api/openapi.json"' in page
    spec = client.get("/apis/weather-api/openapi.json").json()
    assert spec["info"]["title"] == "Weather API"
    assert "/hello" in spec["paths"]
    assert "x-amazon-apigateway-integration" not in json.dumps(spec), "integration details are the owner's"


def test_the_try_page_points_swagger_ui_at_the_proxy(alice: Client, published: Published, consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    page = text(alice.get("/apis/weather-api/try/"))
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page
    spec = json.loads(re.search(r'<script id="try-it-spec" type="application/json">(.*?)</script>', page, re.S)[1])
    assert spec["servers"] == [{"url": "/apis/weather-api/proxy"}]
    assert "security" not in spec["paths"]["/hello"]["get"]
    assert f'<option value="{key.id}">' in page


def test_the_try_page_needs_a_sign_in(client: Client, published: Published) -> None:
    response = client.get("/apis/weather-api/try/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- Subscribing ---------------------------------------------------------------------------------------


def test_subscribing_from_the_api_page(alice: Client, consumer: Any, published: Published) -> None:
    response = alice.post("/apis/weather-api/subscribe/", {"plan": published.free.id}, follow=True)
    assert "You are subscribed to the Weather Free plan" in text(response)
    assert Subscription.objects.get(consumer=consumer).status == SubscriptionStatus.ACTIVE
    response = alice.post("/apis/weather-api/subscribe/", {"plan": published.gold.id}, follow=True)
    assert "already covers this API" in text(response)


def test_a_subscription_status_cannot_be_posted(alice: Client, consumer: Any, published: Published) -> None:
    alice.post("/apis/weather-api/subscribe/", {"plan": published.gold.id, "status": "active", "consumer": 999})
    subscription = Subscription.objects.get()
    assert subscription.consumer == consumer
    assert subscription.status == SubscriptionStatus.PENDING


def test_a_plan_not_on_offer_cannot_be_posted(alice: Client, api_owner: Any, published: Published) -> None:
    other = publish(api_owner, name="Other")
    response = alice.post("/apis/weather-api/subscribe/", {"plan": other.free.id}, follow=True)
    assert "Choose one of the plans on offer" in text(response)
    assert not Subscription.objects.exists()


def test_unsubscribing(alice: Client, consumer: Any, published: Published) -> None:
    subscription = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    page = text(alice.get("/subscriptions/"))
    assert "Weather Free" in page and f"/subscriptions/{subscription.id}/cancel/" in page
    alice.post(f"/subscriptions/{subscription.id}/cancel/")
    assert Subscription.objects.get(id=subscription.id).status == SubscriptionStatus.CANCELLED


# --- Keys ----------------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once(alice: Client, consumer: Any) -> None:
    response = alice.post("/keys/new/", {"name": "laptop"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    value = re.search(r'id="copy-key-value" value="([^"]+)"', text(response))[1]
    key = am.ApiKey.objects.get(owner=consumer)
    from apis.secrets import api_key_digest

    assert key.value_digest == api_key_digest(value)
    for url in ("/keys/", f"/keys/{key.id}/"):
        assert value not in text(alice.get(url))


def test_key_forms_ignore_privileged_fields(alice: Client, consumer: Any, other_consumer: Any) -> None:
    alice.post(
        "/keys/new/",
        {"name": "laptop", "enabled": "false", "owner": other_consumer.pk, "value": "A" * 40, "customer_id": "x"},
    )
    key = am.ApiKey.objects.get()
    assert key.owner == consumer and key.enabled and key.customer_id == ""
    from apis.secrets import api_key_digest

    assert key.value_digest != api_key_digest("A" * 40)


def test_rotating_from_the_key_page(alice: Client, consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    assert "Rotate key" in text(alice.get(f"/keys/{key.id}/"))
    response = alice.post(f"/keys/{key.id}/rotate/", {"grace_hours": "72"})
    assert "Your rotated API key" in text(response)
    rotation = KeyRotation.objects.get(old_key=key)
    assert 71.9 < (rotation.expires_at - rotation.rotated_at).total_seconds() / 3600 <= 72
    assert "rotated, until" in text(alice.get("/keys/"))


def test_a_grace_period_over_seven_days_is_refused(alice: Client, consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    response = alice.post(f"/keys/{key.id}/rotate/", {"grace_hours": "169"}, follow=True)
    assert "at most 7 days" in text(response)
    assert not KeyRotation.objects.exists()


def test_revoking_from_the_key_page(alice: Client, consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    response = alice.post(f"/keys/{key.id}/revoke/", follow=True)
    assert "Revoked the key laptop" in text(response)
    assert not am.ApiKey.objects.filter(id=key.id).exists()


def test_a_pending_consumer_may_browse_but_not_take_keys(db: None, published: Published) -> None:
    from portal.models import PortalSettings, SignupMode
    from portal.tests.factories import UserFactory

    PortalSettings.objects.update_or_create(id=1, defaults={"signup_mode": SignupMode.APPROVAL})
    user = UserFactory()
    services.consumer_register(user=user)
    client = signed_in(user)
    assert "waiting for an owner" in text(client.get("/"))
    response = client.post("/keys/new/", {"name": "laptop"}, follow=True)
    assert "waiting for an owner" in text(response)
    assert not am.ApiKey.objects.exists()
    assert client.post("/apis/weather-api/subscribe/", {"plan": published.free.id}).status_code == 302
    assert not Subscription.objects.exists()


def test_state_changing_views_refuse_get(alice: Client, consumer: Any) -> None:
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    for url in ("/keys/new/", f"/keys/{key.id}/rotate/", f"/keys/{key.id}/revoke/"):
        assert alice.get(url).status_code == 405
    assert am.ApiKey.objects.filter(id=key.id).exists()


def test_csrf_protects_the_key_forms(consumer: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(consumer)
    assert client.post("/keys/new/", {"name": "laptop"}).status_code == 403
    assert not am.ApiKey.objects.exists()
