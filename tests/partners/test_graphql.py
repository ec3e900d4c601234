import pytest
from graphql_relay import to_global_id

from tests.conftest import token_for
from tests.factories import LocationFactory, ServiceCategoryFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_viewer_tells_user_organisation_and_role(gql, org_a):
    status, body = gql(
        org_a.focal_point, "{ viewer { username role isPlatformAdmin organisation { acronym } } }"
    )
    assert status == 200
    assert body["data"]["viewer"] == {
        "username": org_a.focal_point.username,
        "role": "FOCAL_POINT".lower(),
        "isPlatformAdmin": False,
        "organisation": {"acronym": "ORGA"},
    }


def test_user_without_organisation_has_null_role(gql):
    body = gql(UserFactory(), "{ viewer { role organisation { acronym } } }")[1]
    assert body["data"]["viewer"] == {"role": None, "organisation": None}


SERVICES = """
query ($category: String, $location: ID, $accepting: Boolean) {
  services(first: 20, category: $category, location: $location, acceptingOnly: $accepting) {
    edges { node { id name requiredFields organisation { acronym } category { code } } }
  }
}
"""


def test_services_directory_filters(gql, org_a, org_b):
    health = ServiceCategoryFactory(code="health")
    camp = LocationFactory()
    clinic = ServiceFactory(organisation=org_a, category=health, name="Clinic A")
    clinic.locations.add(camp)
    ServiceFactory(organisation=org_b, category=health, name="Clinic B", is_accepting_referrals=False)
    ServiceFactory(organisation=org_b, name="Other")

    def names(**variables):
        body = gql(org_a.caseworker, SERVICES, variables)[1]
        assert "errors" not in body, body
        return sorted(edge["node"]["name"] for edge in body["data"]["services"]["edges"])

    assert names(category="health") == ["Clinic A", "Clinic B"]
    assert names(category="health", accepting=True) == ["Clinic A"]
    assert names(location=str(camp.id)) == ["Clinic A"]
    body = gql(org_a.caseworker, SERVICES, {"category": "health", "accepting": True})[1]
    node = body["data"]["services"]["edges"][0]["node"]
    assert node["id"] == to_global_id("Service", str(clinic.id))
    assert node["requiredFields"] == ["given_name", "phone"]


def test_services_by_a_location_id_read_from_the_api(gql, org_a, org_b):
    camp, town = LocationFactory(name="Camp K"), LocationFactory(name="Town L")
    ServiceFactory(organisation=org_a, name="Clinic A").locations.add(camp)
    ServiceFactory(organisation=org_b, name="Clinic B").locations.add(town)
    user = org_a.caseworker
    listing = gql(user, "{ services(first: 20) { edges { node { name locations { id name } } } } }")[1]
    ids = {
        location["name"]: location["id"]
        for edge in listing["data"]["services"]["edges"]
        for location in edge["node"]["locations"]
    }
    assert ids["Camp K"] == to_global_id("Location", str(camp.id))
    for value in (ids["Camp K"], str(camp.id)):  # the global id handed out, or the bare UUID
        body = gql(user, SERVICES, {"location": value})[1]
        assert "errors" not in body, body
        assert [edge["node"]["name"] for edge in body["data"]["services"]["edges"]] == ["Clinic A"]
    unknown = gql(
        user, SERVICES, {"location": to_global_id("Location", "7d0b3c3e-0000-4000-8000-000000000000")}
    )
    assert unknown[1]["data"]["services"]["edges"] == []


@pytest.mark.parametrize(
    "value",
    [
        "camp-k",
        "not base64!",
        to_global_id("Service", "7d0b3c3e-0000-4000-8000-000000000000"),
        to_global_id("Location", "12"),
    ],
)
def test_a_malformed_location_is_a_clear_error(gql, org_a, value):
    status, body = gql(org_a.caseworker, SERVICES, {"location": value})
    assert status == 200 and body["data"] is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("invalid", "location")
    ]
    assert repr(value) in body["errors"][0]["message"] and "Location id" in body["errors"][0]["message"]


@pytest.mark.parametrize("first", [1, 15])
def test_services_query_count_does_not_grow_with_results(gql, org_a, django_assert_num_queries, first):
    for _ in range(15):
        ServiceFactory(organisation=org_a).locations.add(LocationFactory())
    query = """query ($first: Int!) { services(first: $first) {
      edges { node { name organisation { acronym } category { code } locations { name } } } } }"""
    token = token_for(org_a.caseworker)
    # token + user, knox's sweep of the user's expired tokens, one page with organisation and
    # category joined, locations prefetched: four, whatever the page size (no COUNT unless asked)
    with django_assert_num_queries(4):
        body = gql(None, query, {"first": first}, token=token)[1]
    assert "errors" not in body, body
    assert len(body["data"]["services"]["edges"]) == first
    assert body["data"]["services"]["edges"][0]["node"]["locations"][0]["name"].startswith("Camp")


def test_services_first_is_required_and_capped(gql, org_a):
    body = gql(org_a.caseworker, "{ services { edges { node { name } } } }")[1]
    assert body["errors"]
    body = gql(org_a.caseworker, "{ services(first: 1000) { edges { node { name } } } }")[1]
    assert body["errors"]


def test_total_count_is_counted_only_when_asked(gql, org_a, django_assert_num_queries):
    for _ in range(3):
        ServiceFactory(organisation=org_a)
    token = token_for(org_a.caseworker)
    with django_assert_num_queries(5):
        body = gql(None, "{ services(first: 2) { totalCount edges { node { name } } } }", token=token)[1]
    assert body["data"]["services"]["totalCount"] == 3


def test_forward_pagination_walks_every_service_once(gql, org_a):
    for index in range(5):
        ServiceFactory(organisation=org_a, name=f"S{index}")
    query = """query ($after: String) { services(first: 2, after: $after) {
      edges { node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    seen, after, pages = [], None, 0
    while True:
        page = gql(org_a.caseworker, query, {"after": after})[1]["data"]["services"]
        seen += [edge["node"]["name"] for edge in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is (pages > 1)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert (seen, pages) == (["S0", "S1", "S2", "S3", "S4"], 3)


def test_bad_cursor_is_a_clear_error(gql, org_a):
    body = gql(org_a.caseworker, '{ services(first: 2, after: "bogus") { edges { node { name } } } }')[1]
    assert body["errors"][0]["extensions"]["code"] == "invalid_cursor"
