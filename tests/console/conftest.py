import pytest

from pathways.selectors import graph_cache_clear
from tests.conftest import PASSWORD
from tests.referrals.referral_setup import build_world


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    graph_cache_clear()
    yield
    graph_cache_clear()


@pytest.fixture
def world(db):
    """A sends B's service a referral; C is not a party (tests/referrals/referral_setup.py)."""
    return build_world()


@pytest.fixture
def sign_in(client):
    """``sign_in(user)`` → the test client, signed in through the console's own form."""

    def run(user, **extra):
        response = client.post("/console/sign-in", {"username": user.username, "password": PASSWORD, **extra})
        assert response.status_code == 302, response.content.decode()[:2000]
        return client

    return run
