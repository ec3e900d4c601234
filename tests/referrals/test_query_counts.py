"""Exact query counts of the referral lists and of sending, the same for any page size and any
number of referrals in the database (the inbox and each transition: test_referral_graphql.py; the
cascades: test_referral_cascade.py)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import token_for
from tests.factories import ConsentRecordFactory, PersonFactory
from tests.referrals.api_helpers import ok
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

AUTH = 2  # the token lookup and knox's expired-token sweep
SENT_LIST = """query ($first: Int!, $after: String) { sentReferrals(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node {
    id reference status service { name } lastEvent { kind } viewerCan { withdraw close }
  } } } }"""


def _more_referrals(world, count: int) -> None:
    """Referrals that are not the caller's business and some that are: the data size grows."""
    for index in range(count):
        world.send(idempotency_key=f"more-{index}")
        person = PersonFactory(organisation=world.c, given_name="Other", phone="+254700000001")
        consent = ConsentRecordFactory(
            person=person,
            obtained_by=world.c.caseworker,
            recipient_scope="named",
            recipients=[world.b.id],
            purposes=["gbv_case_management"],
            data_categories=["given_name", "phone"],
        )
        world.send(actor=world.c.caseworker, person=person, consent=consent, idempotency_key=f"c-{index}")


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


@pytest.fixture
def world():
    world = build_world()
    for index in range(6):
        world.send(idempotency_key=f"k{index}")
    return world


# membership; the page; the count (counters and what is held in person, one statement); the data
# keys of the page's persons; the access-log insert for the payloads shown. Both sides together
# first merge the two sides' newest ids, then read those rows (+1).
REST_LIST = {None: 6, "received": 5, "sent": 5}


@pytest.mark.parametrize("direction", list(REST_LIST))
def test_the_rest_list_costs_the_same_for_any_page_and_any_table(world, api, direction):
    client = api(world.b.caseworker if direction != "sent" else world.a.caseworker)
    params = {"direction": direction} if direction else {}
    seen = set()

    def page(**more_params):
        response = client.get("/api/v1/referrals", {**params, **more_params})
        assert response.status_code == 200, response.content
        return response.json()

    for more in (0, 5):
        _more_referrals(world, more)
        for limit in (1, 3, 6):
            assert len(page(limit=limit)["results"]) == limit
            seen.add(_queries(lambda limit=limit: page(limit=limit)))
        after = parse_qs(urlsplit(page(limit=2)["next"]).query)["after"][0]
        assert len(page(after=after, limit=2)["results"]) == 2
        seen.add(_queries(lambda after=after: page(after=after)))
    assert seen == {AUTH + REST_LIST[direction]}


def test_the_sent_list_costs_the_same_for_any_page_and_any_table(world, gql):
    token = token_for(world.a.caseworker)
    seen = set()
    for more in (0, 5):
        _more_referrals(world, more)
        for first in (1, 4):
            body = gql(None, SENT_LIST, {"first": first}, token=token)[1]
            cursor = ok(body)["sentReferrals"]["pageInfo"]["endCursor"]
            seen.add(_queries(lambda first=first: gql(None, SENT_LIST, {"first": first}, token=token)))
            seen.add(
                _queries(
                    lambda first=first, cursor=cursor: gql(
                        None, SENT_LIST, {"first": first, "after": cursor}, token=token
                    )
                )
            )
    # membership, the page, the count, the data keys, the page's last events
    assert seen == {AUTH + 5}


def test_sending_costs_the_same_however_many_referrals_exist(world, api):
    client = api(world.a.caseworker)
    body = {
        "person": str(world.person.id),
        "consent": str(world.consent.id),
        "to_service": str(world.service_b.id),
    }
    seen = set()
    for more in (0, 5):
        _more_referrals(world, more)
        for index in range(2):
            key = f"send-{more}-{index}"
            count = _queries(
                lambda key=key: client.post("/api/v1/referrals", {**body, "idempotency_key": key})
            )
            seen.add(count)
    assert len(seen) == 1, seen


INBOX_BY_FRAGMENTS = """
fragment Row on Referral {
  reference service { name category { code } } ... on Referral { assignedTo { username } }
}
query ($first: Int!) { referralInbox(first: $first) { edges { node {
  ...Row senderOrganisation { name } receiverOrganisation { acronym } senderService { name }
  pathwayStep { key }
} } } }"""


def test_the_inbox_joins_what_its_fragments_ask_for_and_no_more_queries(world, gql):
    # a list joins only the relations its query selects, fragments included: one that was left
    # out would be loaded row by row, and the count would grow with the page
    token = token_for(world.b.caseworker)
    seen = set()
    for first in (1, 6):
        body = gql(None, INBOX_BY_FRAGMENTS, {"first": first}, token=token)[1]
        nodes = [edge["node"] for edge in ok(body)["referralInbox"]["edges"]]
        assert len(nodes) == first
        assert {(node["service"]["name"], node["senderOrganisation"]["name"]) for node in nodes} == {
            (world.service_b.name, world.a.name)
        }
        seen.add(_queries(lambda first=first: gql(None, INBOX_BY_FRAGMENTS, {"first": first}, token=token)))
    assert seen == {AUTH + 3}  # membership, the page, the assignees' memberships for the page
