"""Authorization bugs the matrix (tests/test_authorization_matrix.py) found, kept as regressions.

**A member deactivated by the focal point kept a working API token.** Deactivation ended the
membership, the group and the grants held in person, but the token still authenticated on REST
and GraphQL (the directory, pathways, ``/api/v1/me``). Deactivation now revokes the member's
tokens and sessions in the same transaction (``partners.services.membership_deactivate``); these
tests prove every path answers 401 for the old token. A bug the matrix finds is written here as a
test and listed in the matrix's ``KNOWN_BUGS`` until it is fixed.
"""

import pytest

from partners.models import Membership
from partners.services import membership_deactivate
from tests.conftest import token_for
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deactivated_token(org_a, org_b):
    """A caseworker's token, issued while a member; then the focal point deactivates them."""
    ServiceFactory(organisation=org_b, name="B's service")  # something in the directory to read
    user = org_a.caseworker
    token = token_for(user)
    membership_deactivate(actor=org_a.focal_point, membership=Membership.objects.get(user=user))
    return token


PATHS = ["/api/v1/me", "/api/v1/services", "/api/v1/pathways", "/hsds/services", "/api/v1/information-given"]


@pytest.mark.parametrize("path", PATHS)
def test_a_deactivated_members_token_is_refused(api, deactivated_token, path):
    response = api(token=deactivated_token).get(path)
    assert response.status_code == 401, f"{path}: {response.status_code} {response.content[:200]!r}"
    assert response["WWW-Authenticate"] == "Token"


def test_a_deactivated_members_token_is_refused_on_graphql(gql, deactivated_token):
    query = "{ viewer { username } services(first: 10) { edges { node { name } } } }"
    status, body = gql(None, query, token=deactivated_token)
    assert status == 401, body
    assert body["errors"][0]["extensions"]["code"] == "unauthenticated"
