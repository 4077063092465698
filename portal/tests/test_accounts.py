"""Accounts with allauth: verified signup, signup modes, rate limits, password reset, TOTP, account deletion."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from apis import models as am
from portal import services
from portal.models import Consumer, ConsumerStatus, Invitation, PortalSettings, SignupMode, Subscription
from portal.tests.factories import PASSWORD, OwnerFactory, Published, UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Fresh-pw-13579!"


def sign_up(client: Client, email: str) -> Any:
    return client.post("/accounts/signup/", {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def link_in(message: Any, path: str) -> str:
    return re.search(rf"https?://[^/\s]+({re.escape(path)}[^\s]+)", message.body)[1]


def signed_in_email(client: Client) -> str | None:
    page = client.get("/").content.decode()
    found = re.search(r"portal-account-toggle[^>]*>([^<]+)</a>", page)
    return found[1] if found else None


def set_mode(mode: str) -> None:
    PortalSettings.objects.update_or_create(id=1, defaults={"signup_mode": mode})


def test_signup_needs_the_emailed_verification_before_the_account_is_used(client: Client) -> None:
    response = sign_up(client, "dana@example.com")
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert signed_in_email(client) is None
    assert Consumer.objects.get(user__email="dana@example.com").status == ConsumerStatus.ACTIVE
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]

    other = Client()
    response = other.post("/accounts/login/", {"login": "dana@example.com", "password": NEW_PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/", "an unverified address cannot sign in"
    assert signed_in_email(other) is None

    confirm = link_in(message, "/accounts/confirm-email/")
    assert client.get(confirm).status_code == 200
    response = client.post(confirm)
    assert response.status_code == 302
    assert signed_in_email(client) == "dana@example.com"


def test_invite_only_signup_needs_the_invitation_link_and_its_address(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    set_mode(SignupMode.INVITE)
    assert "invite-only" in client.get("/accounts/signup/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(email="erin@example.com")
    accept = link_in(mail.outbox[0], "/invitations/")
    assert client.get(accept)["Location"] == "/accounts/signup/"

    refused = sign_up(client, "mallory@example.com")
    assert "Sign up with the address your invitation was sent to" in refused.content.decode()
    assert not get_user_model().objects.filter(email="mallory@example.com").exists()

    response = sign_up(client, "erin@example.com")
    assert response.status_code == 302
    # The invitation came to this address, so it counts as verified and the new account is signed in.
    assert signed_in_email(client) == "erin@example.com"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert Client().get(accept).status_code == 404, "an invitation is used once"


def test_signup_with_approval_is_approved_from_the_admin(client: Client) -> None:
    set_mode(SignupMode.APPROVAL)
    sign_up(client, "finn@example.com")
    consumer = Consumer.objects.get(user__email="finn@example.com")
    assert consumer.status == ConsumerStatus.PENDING
    admin = Client()
    admin.force_login(OwnerFactory(is_superuser=True))
    response = admin.post(
        "/admin/portal/consumer/", {"action": "approve", "_selected_action": [consumer.pk]}, follow=True
    )
    assert response.status_code == 200
    consumer.refresh_from_db()
    assert consumer.status == ConsumerStatus.ACTIVE


def test_pending_subscriptions_are_approved_from_the_admin(published: Published, consumer: Any) -> None:
    subscription = services.subscription_create(consumer=consumer, listing=published.listing, plan=published.gold)
    admin = Client()
    admin.force_login(OwnerFactory(is_superuser=True))
    admin.post("/admin/portal/subscription/", {"action": "approve", "_selected_action": [subscription.pk]})
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_the_owner_publishes_from_the_admin(published: Published) -> None:
    admin = Client()
    admin.force_login(OwnerFactory(is_superuser=True))
    response = admin.post(
        f"/admin/portal/listing/{published.listing.pk}/change/",
        {
            "stage": published.stage.pk,
            "slug": "weather",
            "title": "Weather",
            "summary": "Now with radar",
            "description": "",
            "visibility": "public",
            "published": "on",
            "tag_names": "radar, weather",
            "offered_plans": [published.free.id],
            "approval_plans": [],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    listing = published.listing.__class__.objects.get(pk=published.listing.pk)
    assert (listing.slug, listing.summary) == ("weather", "Now with radar")
    assert sorted(t.name for t in listing.tags.all()) == ["radar", "weather"]
    assert list(listing.plans.all()) == [published.free]


def test_signups_are_rate_limited(client: Client, settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    assert sign_up(client, "a1@example.com").status_code == 302
    assert sign_up(Client(), "a2@example.com").status_code == 302
    assert sign_up(Client(), "a3@example.com").status_code == 429
    assert not get_user_model().objects.filter(email="a3@example.com").exists()


def test_logins_are_rate_limited(consumer: Any, settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    for _ in range(3):
        Client().post("/accounts/login/", {"login": consumer.email, "password": "wrong"})
    response = Client().post("/accounts/login/", {"login": consumer.email, "password": PASSWORD})
    assert response.status_code == 429


def test_failed_logins_lock_the_address_for_a_while(consumer: Any) -> None:
    for _ in range(5):
        Client().post("/accounts/login/", {"login": consumer.email, "password": "wrong"})
    client = Client()
    response = client.post("/accounts/login/", {"login": consumer.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert signed_in_email(client) is None


def test_password_reset_by_email(client: Client, consumer: Any) -> None:
    client.post("/accounts/password/reset/", {"email": consumer.email})
    (message,) = mail.outbox
    reset = link_in(message, "/accounts/password/reset/key/")
    form_url = client.get(reset)["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    consumer.refresh_from_db()
    assert consumer.check_password(NEW_PASSWORD)


def test_password_change_and_sign_out(client: Client, consumer: Any) -> None:
    client.post("/accounts/login/", {"login": consumer.email, "password": PASSWORD})
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    consumer.refresh_from_db()
    assert consumer.check_password(NEW_PASSWORD)
    client.post("/accounts/logout/")
    assert signed_in_email(client) is None


def test_totp_can_be_turned_on_and_is_then_asked_at_sign_in(client: Client, consumer: Any) -> None:
    client.post("/accounts/login/", {"login": consumer.email, "password": PASSWORD})
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=consumer, type=Authenticator.Type.TOTP).exists()

    fresh = Client()
    response = fresh.post("/accounts/login/", {"login": consumer.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_email(fresh) is None


def test_deleting_the_account_revokes_its_keys(published: Published, consumer: Any, alice: Client) -> None:
    services.subscription_create(consumer=consumer, listing=published.listing, plan=published.free)
    key, _ = services.consumer_key_create(consumer=consumer, name="laptop")
    assert alice.post("/account/delete/", {"password": "wrong", "confirm": "on"}).status_code == 200
    assert am.ApiKey.objects.filter(id=key.id).exists()
    response = alice.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert not am.ApiKey.objects.filter(id=key.id).exists()
    assert not get_user_model().objects.filter(pk=consumer.pk).exists()
    assert signed_in_email(alice) is None


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/confirm-email/"],
)
def test_account_pages_use_the_portal_layout(client: Client, path: str) -> None:
    page = client.get(path).content.decode()
    assert '<meta charset="utf-8">' in page
    assert "Portico <span" in page, "the portal's navigation bar"
    assert "vendor/bootstrap/css/bootstrap.min.css" in page


@pytest.mark.parametrize("path", ["/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"])
def test_account_management_pages_render(alice: Client, path: str) -> None:
    response = alice.get(path)
    assert response.status_code == 200
    assert "portal-manage" in response.content.decode()


def test_unused_invitations_only(client: Client) -> None:
    invitation = Invitation.objects.create(email="x@example.com")
    invitation.accepted_at = invitation.created_at
    invitation.save()
    assert client.get(f"/invitations/{invitation.token}/").status_code == 404
    assert client.get("/invitations/nope/").status_code == 404


def test_a_consumer_made_elsewhere_counts_as_active(db: None) -> None:
    from portal.selectors import consumer_status

    assert consumer_status(user=UserFactory()) == ConsumerStatus.ACTIVE
