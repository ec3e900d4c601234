"""API tokens: the same token for REST and GraphQL; bad credentials of any kind are a 401."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from tests.conftest import token_for
from tests.factories import UserFactory

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
