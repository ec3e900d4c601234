"""GraphQL reads of pathways: visibility, answers and query counts."""

import pytest
from graphql_relay import to_global_id

from pathways import services
from tests.conftest import token_for

pytestmark = pytest.mark.django_db

PATHWAYS = """
query {
  pathways(first: 20) {
    edges { node {
      id name theme status version operationName
      steps { key isEntry service { name organisation { acronym } category { code } } }
      links { key preference eligibility condition fromStep { key } toStep { service { name } } }
    } }
  }
}
"""

NEXT_STEPS = """
query($pathway: ID!, $service: ID!, $profile: EligibilityProfileInput) {
  nextSteps(pathway: $pathway, service: $service, profile: $profile) {
    service { name organisation { acronym } } pathway { name version } linkId preference note
  }
}
"""

ALTERNATIVES = """
query($service: ID!, $profile: EligibilityProfileInput, $pathway: ID) {
  alternatives(service: $service, profile: $profile, pathway: $pathway) {
    service { name } pathway { name } distance
  }
}
"""


def gid(kind, obj):
    return to_global_id(kind, str(obj.pk))


def test_partners_see_published_pathways_with_steps_and_links(gql, demo):
    services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["gbv"])  # a draft
    _status, body = gql(demo.user("sara.wpa"), PATHWAYS)
    assert _status == 200 and "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["pathways"]["edges"]]
    assert {(n["theme"], n["status"]) for n in nodes} == {
        ("GBV", "PUBLISHED"),
        ("CHILD_PROTECTION", "PUBLISHED"),
        ("RESETTLEMENT", "PUBLISHED"),
        ("PSEA", "PUBLISHED"),
    }
    psea = next(n for n in nodes if n["theme"] == "PSEA")
    assert psea["operationName"] == "Kenya operation"
    assert [s["key"] for s in psea["steps"] if s["isEntry"]] == ["unhcr-desk"]
    first = next(link for link in psea["links"] if link["key"] == "l1")
    assert (
        first["fromStep"]["key"] == "unhcr-desk" and first["toStep"]["service"]["name"] == "PSEA focal point"
    )
    assert first["condition"] == "{}" and first["eligibility"] == "anyone"


def test_platform_admins_also_see_drafts(gql, demo):
    services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["gbv"])
    _status, body = gql(demo.admin, PATHWAYS)
    assert len(body["data"]["pathways"]["edges"]) == 5


def test_the_pathway_list_does_not_grow_queries_with_pathways_steps_or_links(
    gql, demo, django_assert_num_queries
):
    """4 pathways, 25 steps, 25 links: pathways, steps, links, plus the token lookup (two); no COUNT
    unless totalCount is asked for."""
    token = token_for(demo.user("sara.wpa"))
    for first in (1, 20):
        with django_assert_num_queries(2 + 3):
            _status, body = gql(None, PATHWAYS.replace("first: 20", f"first: {first}"), token=token)
        assert len(body["data"]["pathways"]["edges"]) == min(first, 4)
    with django_assert_num_queries(2 + 3 + 1):
        _status, body = gql(
            None, PATHWAYS.replace("pathways(first: 20) {", "pathways(first: 20) { totalCount"), token=token
        )
    assert body["data"]["pathways"]["totalCount"] == 4


def test_pathways_page_forward_with_after(gql, demo):
    user = demo.user("sara.wpa")
    query = """query ($after: String) { pathways(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { name } } } }"""
    first = gql(user, query)[1]["data"]["pathways"]
    assert first["totalCount"] == 4 and len(first["edges"]) == 3
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    rest = gql(user, query, {"after": first["pageInfo"]["endCursor"]})[1]["data"]["pathways"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasNextPage"] is False
    names = [edge["node"]["name"] for edge in first["edges"] + rest["edges"]]
    assert names == sorted(names) and len(set(names)) == 4


@pytest.mark.parametrize(
    "arguments, code",
    [
        ("first: 101", "invalid_page_size"),
        ("first: 0", "invalid_page_size"),
        ('first: 5, after: "not-a-cursor"', "invalid_cursor"),
    ],
)
def test_pathways_page_limits_have_their_codes(gql, demo, arguments, code):
    body = gql(demo.user("sara.wpa"), f"{{ pathways({arguments}) {{ edges {{ node {{ name }} }} }} }}")[1]
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize(
    "arguments", ["", "last: 2", 'first: 2, before: "YXJyYXljb25uZWN0aW9uOjE="', "first: 2, offset: 1"]
)
def test_pathways_is_forward_only_and_needs_first(gql, demo, arguments):
    query = "{ pathways%s { edges { node { name } } } }" % (f"({arguments})" if arguments else "")
    body = gql(demo.user("sara.wpa"), query)[1]
    assert body.get("data") is None and body["errors"], body


def test_a_draft_id_resolves_to_null_for_partners(gql, demo):
    draft = services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["gbv"])
    query = "query($id: ID!) { pathway(id: $id) { name status } }"
    assert gql(demo.user("sara.wpa"), query, {"id": gid("Pathway", draft)})[1]["data"] == {"pathway": None}
    assert gql(demo.admin, query, {"id": gid("Pathway", draft)})[1]["data"]["pathway"]["status"] == "DRAFT"
    node = "query($id: ID!) { node(id: $id) { ... on Pathway { name } } }"
    _status, body = gql(demo.user("sara.wpa"), node, {"id": gid("Pathway", draft)})
    assert body.get("data", {}).get("node") is None


def test_a_draft_cannot_be_asked_for_next_steps_by_a_partner(gql, demo):
    draft = services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["gbv"])
    _status, body = gql(
        demo.user("sara.wpa"),
        NEXT_STEPS,
        {
            "pathway": gid("Pathway", draft),
            "service": gid("Service", demo.service("WPA", "GBV case management")),
        },
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "pathway_not_found"


def test_next_steps_in_graphql(gql, demo):
    _status, body = gql(
        demo.user("peter.unhcr"),
        NEXT_STEPS,
        {
            "pathway": gid("Pathway", demo.pathways["gbv"]),
            "service": gid("Service", demo.service("WPA", "GBV case management")),
            "profile": {"age": 24, "sex": "female", "urgency": "emergency"},
        },
    )
    assert "errors" not in body, body
    offers = body["data"]["nextSteps"]
    assert [(o["service"]["organisation"]["acronym"], o["service"]["name"]) for o in offers] == [
        ("TCHD", "Clinical management of rape"),
        ("LPAN", "Psychosocial support"),
        ("WPA", "Safe shelter"),
        ("LPAN", "Legal counselling and representation"),
    ]
    link = demo.pathways["gbv"].links.get(key="l3")
    assert offers[0]["linkId"] == gid("PathwayLink", link)
    assert offers[0]["note"].startswith("Within 72 hours")


def test_a_bad_profile_is_an_error_naming_the_field(gql, demo):
    _status, body = gql(
        demo.user("peter.unhcr"),
        NEXT_STEPS,
        {
            "pathway": gid("Pathway", demo.pathways["gbv"]),
            "service": gid("Service", demo.service("WPA", "GBV case management")),
            "profile": {"sex": "woman"},
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "invalid_profile_value"
    assert "sex" in body["errors"][0]["message"]


def test_alternatives_in_graphql_fall_back_to_other_pathways(gql, demo):
    _status, body = gql(
        demo.user("peter.unhcr"),
        ALTERNATIVES,
        {
            "service": gid("Service", demo.service("UNHCR", "Protection desk Kakuma")),
            "pathway": gid("Pathway", demo.pathways["child_protection"]),
            "profile": {"sex": "female", "age": 30},
        },
    )
    assert body["data"]["alternatives"] == [
        {
            "service": {"name": "Women and girls safe space"},
            "pathway": {"name": "GBV response — Kakuma"},
            "distance": 2,
        }
    ]


def test_anonymous_graphql_is_refused(gql, demo):
    assert gql(None, PATHWAYS)[0] == 401


def test_step_service_locations_load_once_for_the_whole_page(gql, demo, django_assert_num_queries):
    query = """query ($first: Int!) { pathways(first: $first) { edges { node {
        name steps { key service { name locations { name } } } } } } }"""
    token = token_for(demo.user("sara.wpa"))
    for first in (1, 4):
        # token (two), pathways, steps, links, and one query for the locations of every step's
        # service on the page
        with django_assert_num_queries(2 + 4):
            _status, body = gql(None, query, {"first": first}, token=token)
        assert "errors" not in body, body
        steps = [step for edge in body["data"]["pathways"]["edges"] for step in edge["node"]["steps"]]
        assert steps and all(step["service"]["locations"] for step in steps)
