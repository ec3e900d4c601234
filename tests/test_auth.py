"""API tokens: the same token for REST and GraphQL; bad credentials of any kind are a 401."""

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from tests.conftest import admin_login, token_for
from tests.factories import UserFactory, confirmed_totp_device, totp_code, wrong_totp_code

pytestmark = pytest.mark.django_db

VIEWER = "{ viewer { username } }"


def expired_token(user) -> str:
    instance, token = AuthToken.objects.create(user=user, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    return token


def revoked_token(client, user) -> str:
    token = token_for(user)
    response = client.post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 204
    return token


def deactivated_users_token(user) -> str:
    token = token_for(user)
    user.is_active = False
    user.save()
    return token


@pytest.mark.parametrize("case", ["missing", "garbage", "expired", "revoked", "deactivated"])
def test_bad_credentials_are_401_on_rest_and_graphql(client, gql, org_a, case):
    user = org_a.caseworker
    token = {
        "missing": lambda: None,
        "garbage": lambda: "0" * 64,
        "expired": lambda: expired_token(user),
        "revoked": lambda: revoked_token(client, user),
        "deactivated": lambda: deactivated_users_token(user),
    }[case]()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    rest = client.get("/api/v1/me", **headers)
    assert rest.status_code == 401
    assert rest.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    status, body = gql(None, VIEWER, token=token)
    assert status == 401
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "unauthenticated"


def test_login_issues_a_token_that_works_for_rest_and_graphql(client, gql):
    user = UserFactory(username="login.user")
    response = client.post(
        "/api/v1/auth/login",
        {"username": "login.user", "password": "correct-horse-battery-staple"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}").json()["username"] == user.username
    assert gql(None, VIEWER, token=token)[1]["data"]["viewer"]["username"] == "login.user"


def test_token_is_stored_hashed(client):
    UserFactory(username="hash.user")
    token = client.post(
        "/api/v1/auth/login",
        {"username": "hash.user", "password": "correct-horse-battery-staple"},
        content_type="application/json",
    ).json()["token"]
    stored = AuthToken.objects.get(user__username="hash.user")
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # sha512 hex digest


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_wrong_password_is_refused(client, password):
    UserFactory(username="someone")
    response = client.post(
        "/api/v1/auth/login", {"username": "someone", "password": password}, content_type="application/json"
    )
    assert response.status_code in (400, 401)
    assert not AuthToken.objects.filter(user__username="someone").exists()


def test_deactivated_user_cannot_log_in(client):
    UserFactory(username="gone", is_active=False)
    response = client.post(
        "/api/v1/auth/login",
        {"username": "gone", "password": "correct-horse-battery-staple"},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_session_auth_on_graphql_requires_csrf(org_a):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org_a.caseworker)
    response = browser.post("/graphql", {"query": VIEWER}, content_type="application/json")
    assert response.status_code == 403


# Second factor (TOTP) --------------------------------------------------------------------------
# Codes are computed from the device's key as an authenticator app would (tests.factories.totp_code);
# django-otp's verification runs for real.


def login(client, username: str, **extra):
    body = {"username": username, "password": "correct-horse-battery-staple", **extra}
    return client.post("/api/v1/auth/login", body, content_type="application/json")


def test_platform_admin_login_without_a_code_is_refused(client, platform_admin):
    confirmed_totp_device(platform_admin)
    response = login(client, platform_admin.username)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "otp_required"
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(user=platform_admin).exists()


def test_platform_admin_without_an_enrolled_app_cannot_get_a_token(client, platform_admin):
    response = login(client, platform_admin.username)
    assert response.status_code == 401 and response.json()["error"]["code"] == "otp_required"
    response = login(client, platform_admin.username, otp="123456")
    assert response.status_code == 401 and response.json()["error"]["code"] == "otp_invalid"


def test_platform_admin_login_with_a_wrong_code_is_refused(client, platform_admin):
    device = confirmed_totp_device(platform_admin)
    response = login(client, platform_admin.username, otp=wrong_totp_code(device))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "otp_invalid"
    assert not AuthToken.objects.filter(user=platform_admin).exists()


def test_a_wrong_code_slows_down_the_next_try(client, platform_admin):
    """django-otp's throttling: after a wrong code even the right one waits (1 s, then 2, 4, …)."""
    device = confirmed_totp_device(platform_admin)
    login(client, platform_admin.username, otp=wrong_totp_code(device))
    response = login(client, platform_admin.username, otp=totp_code(device))
    assert response.status_code == 401 and response.json()["error"]["code"] == "otp_invalid"


def test_platform_admin_login_with_the_current_code_gets_a_token_once(client, platform_admin):
    device = confirmed_totp_device(platform_admin)
    code = totp_code(device)
    response = login(client, platform_admin.username, otp=code)
    assert response.status_code == 200, response.json()
    token = response.json()["token"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}").json()["is_platform_admin"]
    replay = login(client, platform_admin.username, otp=code)  # a code signs in once
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "otp_invalid"


def test_wrong_password_is_refused_before_the_code_is_asked(client, platform_admin):
    confirmed_totp_device(platform_admin)
    response = client.post(
        "/api/v1/auth/login",
        {"username": platform_admin.username, "password": "wrong-password"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_partner_user_enrols_an_app_and_then_needs_its_code(client, api, org_a):
    user = org_a.caseworker
    assert login(client, user.username).status_code == 200  # no second factor yet
    member = api(user)
    setup = member.post("/api/v1/auth/totp/setup")
    assert setup.status_code == 201
    uri = setup.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and "secret=" in uri
    assert login(client, user.username).status_code == 200  # an unconfirmed app changes nothing

    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert base64.b32decode(secret) == device.bin_key  # the app gets the same key the server keeps
    wrong = member.post("/api/v1/auth/totp/confirm", {"otp": wrong_totp_code(device)}, format="json")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "otp_invalid"
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong try slowed the next ones down; the test need not wait
    device.save()
    confirmed = member.post("/api/v1/auth/totp/confirm", {"otp": totp_code(device)}, format="json")
    assert confirmed.status_code == 204

    refused = login(client, user.username)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "otp_required"
    assert login(client, user.username, otp=totp_code(device, steps_ahead=1)).status_code == 200
    again = member.post("/api/v1/auth/totp/setup")
    assert again.status_code == 409 and again.json()["error"]["code"] == "totp_already_confirmed"


def test_confirm_without_setup_says_so(api, org_a):
    response = api(org_a.caseworker).post("/api/v1/auth/totp/confirm", {"otp": "123456"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "totp_not_set_up"


def test_totp_endpoints_need_a_signed_in_caller(client, db):
    assert client.post("/api/v1/auth/totp/setup").status_code == 401
    assert client.post("/api/v1/auth/totp/confirm", {"otp": "1"}).status_code == 401


def test_the_admin_site_needs_a_verified_session(client, platform_admin):
    client.force_login(platform_admin)  # password only: not enough
    assert client.get("/admin/").status_code == 302
    client.logout()

    device = confirmed_totp_device(platform_admin)
    without_code = client.post(
        "/admin/login/", {"username": platform_admin.username, "password": "correct-horse-battery-staple"}
    )
    assert without_code.status_code == 200  # the form again, with the error
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302

    admin_login(client, platform_admin)
    assert client.get("/admin/").status_code == 200
    assert device.persistent_id == client.session["otp_device_id"]


def test_an_unverified_staff_session_reads_nothing_through_the_apis(client, gql, platform_admin):
    client.force_login(platform_admin)
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/graphql", {"query": VIEWER}, content_type="application/json").status_code == 401
    client.logout()
    admin_login(client, platform_admin)
    assert client.get("/api/v1/me").status_code == 200


def test_an_operator_enrols_a_new_platform_admin_who_then_signs_in(client, platform_admin, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    # the person types the code their app shows for the secret the command printed
    monkeypatch.setattr(
        "builtins.input", lambda prompt: totp_code(TOTPDevice.objects.get(user=platform_admin))
    )
    out = StringIO()
    call_command("totp_enrol", platform_admin.username, stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    device = TOTPDevice.objects.get(user=platform_admin, confirmed=True)
    response = login(client, platform_admin.username, otp=totp_code(device, steps_ahead=1))
    assert response.status_code == 200


def test_a_lost_phone_is_replaced_and_the_old_codes_stop_working(client, platform_admin, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    old = confirmed_totp_device(platform_admin)
    monkeypatch.setattr(
        "builtins.input", lambda prompt: totp_code(TOTPDevice.objects.get(user=platform_admin))
    )
    call_command("totp_enrol", "--replace", platform_admin.username, stdout=StringIO())
    new = TOTPDevice.objects.get(user=platform_admin)
    assert new.pk != old.pk and new.confirmed
    assert login(client, platform_admin.username, otp=totp_code(old)).status_code == 401
