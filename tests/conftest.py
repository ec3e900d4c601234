import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from consent import keys
from tests.factories import (
    PlatformAdminFactory,
    confirmed_totp_device,
    member,
    organisation_with_focal_point,
    totp_code,
)

# The machines the suite runs on are shared and noisy: a property test judges what it finds, not how
# fast its examples were drawn (speed lives in `make bench`).
hypothesis_settings.register_profile("hub", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("hub")

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # production settings redirect http to https; the test client speaks plain http
    settings.SECURE_SSL_REDIRECT = False
    # real hashing costs ~0.5 s a user; tests prove rules, not PBKDF2
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # login throttling counts in the cache; every test starts with none
    keys.clear_cache()  # nor any person data key in memory (query counts do not depend on test order)


def token_for(user) -> str:
    return AuthToken.objects.create(user=user)[1]


def admin_login(client, user):
    """Sign ``user`` into the admin site through its login form: password and a real TOTP code."""
    user.set_password(PASSWORD)
    user.save()
    device = confirmed_totp_device(user)
    response = client.post(
        "/admin/login/",
        {"username": user.username, "password": PASSWORD, "otp_token": totp_code(device), "next": "/admin/"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return client


@pytest.fixture
def api():
    """``api(user)`` → a DRF test client that sends ``user``'s API token (``api(None)``: anonymous)."""

    def make(user=None, token: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None or token is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token or token_for(user)}")
        return client

    return make


@pytest.fixture
def gql(client):
    """``gql(user, query, variables)`` → (status code, JSON body) of a real POST to /graphql."""

    def run(user, query: str, variables: dict | None = None, token: str | None = None):
        headers = {}
        if user is not None or token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Token {token or token_for(user)}"
        response = client.post(
            "/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **headers,
        )
        return response.status_code, response.json()

    return run


@pytest.fixture
def platform_admin(db):
    return PlatformAdminFactory()


@pytest.fixture
def org_a(db):
    """Organisation A with its focal point (``org_a.focal_point``) and a caseworker."""
    organisation, focal_point = organisation_with_focal_point(acronym="ORGA", name="Organisation A")
    organisation.focal_point = focal_point
    organisation.caseworker = member(organisation)
    return organisation


@pytest.fixture
def org_b(db):
    organisation, focal_point = organisation_with_focal_point(acronym="ORGB", name="Organisation B")
    organisation.focal_point = focal_point
    organisation.caseworker = member(organisation)
    return organisation
