"""API tokens: the same token for REST and GraphQL; bad credentials of any kind are a 401.

Failed logins lock the account and, separately, the client address (django-axes), on the token login
and the admin login alike, until the cool-off ends or the focal point unlocks the account.
"""

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.throttling import BaseThrottle

from hub.auth import client_address
from tests.conftest import admin_login, token_for
from tests.factories import (
    PlatformAdminFactory,
    UserFactory,
    confirmed_totp_device,
    member,
    totp_code,
    wrong_totp_code,
)

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


# Brute force: failed logins lock the account and the address ---------------------------------

PASSWORD = "correct-horse-battery-staple"


def login(client, username: str, password: str = "wrong-password", address: str = "10.0.0.1", **headers):
    return client.post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
        **headers,
    )


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


@pytest.fixture
def proxies(settings):
    """``proxies(n)``: run with ``n`` trusted reverse proxies in front (NUM_PROXIES)."""

    def set_to(count: int) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return set_to


def lock_account(client, username: str, limit: int) -> None:
    """``limit`` failures for ``username``, each from its own address: only the account is locked."""
    for attempt in range(limit):
        login(client, username, address=f"10.1.0.{attempt + 1}")


def test_an_account_is_locked_after_too_many_failures_from_different_addresses(client, limit):
    UserFactory(username="target")
    statuses = [login(client, "target", address=f"10.1.0.{n + 1}").status_code for n in range(limit)]
    assert statuses == [401] * (limit - 1) + [429]  # the failure that reaches the limit locks
    response = login(client, "target", PASSWORD, address="10.9.9.9")  # a fresh address does not help
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "login_locked"


def test_a_correct_password_during_lockout_is_still_refused(client, limit):
    UserFactory(username="target")
    lock_account(client, "target", limit)
    response = login(client, "target", PASSWORD, address="10.1.0.1")
    assert response.status_code == 429
    assert not AuthToken.objects.filter(user__username="target").exists()


def test_an_address_is_locked_after_too_many_failures_on_different_accounts(client, limit):
    UserFactory(username="bystander")
    for n in range(limit):
        login(client, f"guess{n}", address="10.2.0.1")
    locked = login(client, "bystander", PASSWORD, address="10.2.0.1")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked"
    # the account itself is not locked: from another address its owner logs in
    assert login(client, "bystander", PASSWORD, address="10.2.0.2").status_code == 200


def test_a_spoofed_forwarded_for_does_not_rotate_the_address(client, limit, proxies):
    proxies(0)
    UserFactory(username="bystander")
    for n in range(limit):
        login(client, f"guess{n}", address="10.3.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n + 1}")
    response = login(client, "bystander", PASSWORD, address="10.3.0.1", HTTP_X_FORWARDED_FOR="1.2.3.99")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.3.0.1"}


def test_behind_one_trusted_proxy_the_address_is_the_last_hop(client, limit, proxies):
    proxies(1)
    UserFactory(username="bystander")
    proxy = "10.4.0.254"
    for n in range(limit):  # the client rotates what it writes; the proxy appends what it saw
        login(client, f"guess{n}", address=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{n + 1}, 203.0.113.7")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    locked = login(client, "bystander", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert locked.status_code == 429
    # another client behind the same proxy is not locked
    other = login(client, "bystander", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("num_proxies", "forwarded_for", "expected"),
    [
        (0, None, "10.5.0.1"),
        (0, "1.2.3.4", "10.5.0.1"),
        (1, None, "10.5.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        (2, "1.2.3.4, 203.0.113.7, 10.5.0.9", "203.0.113.7"),
    ],
)
def test_login_limits_and_drf_throttles_take_the_same_address(proxies, num_proxies, forwarded_for, expected):
    proxies(num_proxies)
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    request = RequestFactory().post("/api/v1/auth/login", REMOTE_ADDR="10.5.0.1", **headers)
    assert client_address(request) == expected
    assert BaseThrottle().get_ident(request) == expected


def test_lockout_answer_says_it_is_locked_and_when_to_retry(client, limit, settings):
    UserFactory(username="target")
    lock_account(client, "target", limit)
    response = login(client, "target", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == "login_locked"
    assert error["fields"] == {}
    assert "locked until" in error["message"] and "try again" in error["message"]
    cool_off = settings.AXES_COOLOFF_TIME.total_seconds()
    assert 0 < error["retry_after"] <= cool_off
    assert response["Retry-After"] == str(error["retry_after"])


def age_failures(by: timedelta) -> None:
    """The failures happened ``by`` earlier than recorded: the clock as the lockout sees it."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


def test_the_lock_lifts_after_the_cool_off_and_not_before(client, limit, settings):
    UserFactory(username="target")
    lock_account(client, "target", limit)
    cool_off = settings.AXES_COOLOFF_TIME
    age_failures(cool_off - timedelta(minutes=1))
    assert login(client, "target", PASSWORD).status_code == 429
    age_failures(timedelta(minutes=2))
    assert login(client, "target", PASSWORD).status_code == 200


def test_the_admin_login_is_locked_too(client, limit):
    admin = PlatformAdminFactory(username="ops")
    for _ in range(limit - 1):
        refused = client.post("/admin/login/", {"username": "ops", "password": "wrong", "next": "/admin/"})
        assert refused.status_code == 200  # the login form again, with its error
    assert client.post("/admin/login/", {"username": "ops", "password": "wrong"}).status_code == 429
    page = client.post("/admin/login/", {"username": "ops", "password": PASSWORD, "next": "/admin/"})
    assert page.status_code == 429
    text = page.content.decode()
    assert "Login locked" in text and "try again" in text
    assert int(page["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # one count for both doors: the API login of the same account is locked as well
    assert login(client, admin.username, PASSWORD, address="10.6.0.1").status_code == 429


def membership_of(user):
    return user.memberships.get(is_active=True)


@pytest.mark.parametrize(
    ("actor", "target", "status"),
    [
        ("focal point", "member", 200),
        ("platform admin", "member", 200),
        ("other organisation's focal point", "member", 404),
        ("caseworker", "member", 403),
        ("focal point", "focal point", 403),  # a focal point's account: platform admins only
        ("platform admin", "focal point", 200),
    ],
)
def test_who_may_unlock_a_locked_login(api, client, org_a, org_b, limit, actor, target, status):
    membership = membership_of(member(org_a) if target == "member" else org_a.focal_point)
    username = membership.user.username
    lock_account(client, username, limit)
    caller = {
        "focal point": org_a.focal_point,
        "platform admin": PlatformAdminFactory(),
        "other organisation's focal point": org_b.focal_point,
        "caseworker": org_a.caseworker,
    }[actor]
    response = api(caller).post(f"/api/v1/memberships/{membership.id}/unlock")
    assert response.status_code == status, response.json()
    after = login(client, username, PASSWORD, address="10.7.0.1")
    assert after.status_code == (200 if status == 200 else 429)


def test_unlock_clears_the_account_but_not_a_locked_address(api, client, org_a, limit):
    membership = membership_of(member(org_a))
    username = membership.user.username
    for n in range(limit):  # the address is locked by guesses on other accounts
        login(client, f"guess{n}", address="10.8.0.1")
    api(org_a.focal_point).post(f"/api/v1/memberships/{membership.id}/unlock")
    assert login(client, username, PASSWORD, address="10.8.0.1").status_code == 429
    assert login(client, username, PASSWORD, address="10.8.0.2").status_code == 200


# Passwords follow the validators wherever they are set -----------------------------------------


def _new_member_token(api, org_a, settings, mailoutbox, capture) -> str:
    import re

    settings.ACCOUNT_ACTIVATION_URL = "https://hub.example.org/activate#token={token}"
    with capture(execute=True):
        response = api(org_a.focal_point).post(
            "/api/v1/memberships",
            {"username": "amina.wekesa", "role": "caseworker", "email": "amina@example.org"},
            format="json",
        )
    assert response.status_code == 201
    [token] = re.findall(r"activate#token=([\w-]+)", mailoutbox[-1].body)
    return token


@pytest.mark.parametrize(
    "password",
    [
        "Short-pass1",  # 11 characters: the minimum is 12
        "password1234",  # a common password
        "739104628351",  # only digits
        "amina.wekesa!",  # too close to the username
    ],
)
def test_a_weak_password_chosen_at_activation_is_refused(
    api, client, org_a, settings, mailoutbox, django_capture_on_commit_callbacks, password
):
    token = _new_member_token(api, org_a, settings, mailoutbox, django_capture_on_commit_callbacks)
    response = client.post(
        "/api/v1/auth/activate", {"token": token, "password": password}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "weak_password"
    assert list(response.json()["error"]["fields"]) == ["password"]


def test_a_strong_password_chosen_at_activation_works_for_login(
    api, client, org_a, settings, mailoutbox, django_capture_on_commit_callbacks
):
    token = _new_member_token(api, org_a, settings, mailoutbox, django_capture_on_commit_callbacks)
    response = client.post(
        "/api/v1/auth/activate",
        {"token": token, "password": "violet-harbour-lantern-42"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert login(client, "amina.wekesa", "violet-harbour-lantern-42").status_code == 200


# Second factor (TOTP) --------------------------------------------------------------------------
# Codes are computed from the device's key as an authenticator app would (tests.factories.totp_code);
# django-otp's verification runs for real.


def otp_login(client, username: str, **extra):
    body = {"username": username, "password": "correct-horse-battery-staple", **extra}
    return client.post("/api/v1/auth/login", body, content_type="application/json")


def test_platform_admin_login_without_a_code_is_refused(client, platform_admin):
    confirmed_totp_device(platform_admin)
    response = otp_login(client, platform_admin.username)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "otp_required"
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(user=platform_admin).exists()


def test_platform_admin_without_an_enrolled_app_cannot_get_a_token(client, platform_admin):
    response = otp_login(client, platform_admin.username)
    assert response.status_code == 401 and response.json()["error"]["code"] == "otp_required"
    response = otp_login(client, platform_admin.username, otp="123456")
    assert response.status_code == 401 and response.json()["error"]["code"] == "otp_invalid"


def test_platform_admin_login_with_a_wrong_code_is_refused(client, platform_admin):
    device = confirmed_totp_device(platform_admin)
    response = otp_login(client, platform_admin.username, otp=wrong_totp_code(device))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "otp_invalid"
    assert not AuthToken.objects.filter(user=platform_admin).exists()


def test_a_wrong_code_slows_down_the_next_try(client, platform_admin):
    """django-otp's throttling: after a wrong code even the right one waits (1 s, then 2, 4, …)."""
    device = confirmed_totp_device(platform_admin)
    otp_login(client, platform_admin.username, otp=wrong_totp_code(device))
    response = otp_login(client, platform_admin.username, otp=totp_code(device))
    assert response.status_code == 401 and response.json()["error"]["code"] == "otp_invalid"


def test_platform_admin_login_with_the_current_code_gets_a_token_once(client, platform_admin):
    device = confirmed_totp_device(platform_admin)
    code = totp_code(device)
    response = otp_login(client, platform_admin.username, otp=code)
    assert response.status_code == 200, response.json()
    token = response.json()["token"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}").json()["is_platform_admin"]
    replay = otp_login(client, platform_admin.username, otp=code)  # a code signs in once
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
    assert otp_login(client, user.username).status_code == 200  # no second factor yet
    member = api(user)
    setup = member.post("/api/v1/auth/totp/setup")
    assert setup.status_code == 201
    uri = setup.json()["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and "secret=" in uri
    assert otp_login(client, user.username).status_code == 200  # an unconfirmed app changes nothing

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

    refused = otp_login(client, user.username)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "otp_required"
    assert otp_login(client, user.username, otp=totp_code(device, steps_ahead=1)).status_code == 200
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
    response = otp_login(client, platform_admin.username, otp=totp_code(device, steps_ahead=1))
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
    assert otp_login(client, platform_admin.username, otp=totp_code(old)).status_code == 401
