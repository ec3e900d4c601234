"""Authorization bugs found by the matrix (tests/test_authorization_matrix.py), one test each.

These tests state what the API must do and fail until the code does it; the matrix skips the
same cells (its ``KNOWN_BUGS``) and insists they still fail there, so the fix shows in both places.

**A member deactivated by the focal point keeps a working API token.**
``partners.services.membership_deactivate`` ends the membership (and the group, and the grants
held in person) but neither deactivates the user nor revokes their tokens, and
``knox.auth.TokenAuthentication`` checks only ``user.is_active``. So a token issued before the
deactivation still authenticates, on REST and on GraphQL, where docs/api.md promises ``401`` for
"a deactivated user". With it the former member reads ``/api/v1/me``, the whole service directory
(``/api/v1/services``, ``/hsds/…``, GraphQL ``services``), every published pathway with its
steps, links, exports and next-step answers, and can log the token out; selectors scoped to an
active membership keep case data (persons, consents, referrals) out of reach, so writes and case
reads answer 403/404 instead of 401.
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
