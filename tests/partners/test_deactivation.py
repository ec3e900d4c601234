"""Deactivation is immediate: the member's tokens and sessions end in the same transaction, so their
old token reads nothing on REST, GraphQL or the directory."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from knox.models import AuthToken

from partners import services
from partners.models import Membership
from tests.conftest import token_for
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

VIEWER = "{ viewer { username } }"
SERVICES = "{ services(first: 5) { edges { node { name } } } }"


def reads(client, gql, token: str) -> dict[str, int]:
    """What the holder of ``token`` gets from each surface: HTTP status codes."""
    header = {"HTTP_AUTHORIZATION": f"Token {token}"}
    return {
        "me": client.get("/api/v1/me", **header).status_code,
        "services": client.get("/api/v1/services", **header).status_code,
        "organisations": client.get("/api/v1/organisations", **header).status_code,
        "hsds": client.get("/hsds/services", **header).status_code,
        "graphql viewer": gql(None, VIEWER, token=token)[0],
        "graphql services": gql(None, SERVICES, token=token)[0],
    }


def test_deactivated_members_old_token_reads_nothing_anywhere(api, client, gql, org_a, org_b):
    ServiceFactory(organisation=org_b)
    member = org_a.caseworker
    token = token_for(member)
    assert set(reads(client, gql, token).values()) == {200}
    membership = Membership.objects.get(user=member)

    response = api(org_a.focal_point).post(f"/api/v1/memberships/{membership.id}/deactivate")

    assert response.status_code == 200 and response.json()["is_active"] is False
    assert reads(client, gql, token) == dict.fromkeys(reads(client, gql, token), 401)
    assert not AuthToken.objects.filter(user=member).exists()


def test_deactivation_ends_the_members_browser_sessions(api, org_a):
    member = org_a.caseworker
    browser = Client()
    browser.force_login(member)
    assert browser.get("/api/v1/me").status_code == 200
    other = Client()
    other.force_login(org_a.focal_point)  # someone else's session is left alone

    membership = Membership.objects.get(user=member)
    api(org_a.focal_point).post(f"/api/v1/memberships/{membership.id}/deactivate")

    assert not Session.objects.filter(session_key=browser.session.session_key).exists()
    assert browser.get("/api/v1/me").status_code == 401
    assert Session.objects.filter(session_key=other.session.session_key).exists()
    assert other.get("/api/v1/me").status_code == 200


def test_every_token_of_the_member_is_revoked_and_nobody_elses(org_a):
    member = org_a.caseworker
    for _ in range(3):
        token_for(member)
    token_for(org_a.focal_point)
    services.membership_deactivate(actor=org_a.focal_point, membership=Membership.objects.get(user=member))
    assert AuthToken.objects.filter(user=member).count() == 0
    assert AuthToken.objects.filter(user=org_a.focal_point).count() == 1


def test_revocation_rolls_back_with_a_refused_deactivation(org_a):
    focal_point = org_a.focal_point
    token_for(focal_point)
    with pytest.raises(services.ServiceError):
        services.membership_deactivate(
            actor=org_a.focal_point, membership=Membership.objects.get(user=focal_point)
        )
    assert AuthToken.objects.filter(user=focal_point).count() == 1


def test_user_deactivation_signs_the_user_out_everywhere(client, gql, platform_admin, org_a):
    member = org_a.caseworker
    token = token_for(member)
    browser = Client()
    browser.force_login(member)
    services.user_deactivate(actor=platform_admin, user=member)
    assert not AuthToken.objects.filter(user=member).exists()
    assert not Session.objects.filter(session_key=browser.session.session_key).exists()
    assert set(reads(client, gql, token).values()) == {401}


def test_demoted_focal_points_old_token_loses_focal_point_powers_at_once(api, platform_admin, org_a):
    """No revocation on a role change: the role is read from the database on every request."""
    old_focal_point = api(org_a.focal_point)  # a token issued while focal point
    add = {"username": "after.demotion", "role": "viewer", "email": "a@example.org"}
    services.focal_point_appoint(actor=platform_admin, organisation=org_a, user=org_a.caseworker)

    refused = old_focal_point.post("/api/v1/memberships", add, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "focal_point_required"
    assert old_focal_point.get("/api/v1/me").json()["role"] == "caseworker"
