"""REST API for pathways through real HTTP: permissions, errors, questions, exports."""

import io
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from pathways import services
from pathways.models import Pathway

pytestmark = pytest.mark.django_db

URL = "/api/v1/pathways"


@pytest.fixture
def draft(demo):
    """A draft new version of the demo GBV pathway."""
    return services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["gbv"])


def who(demo, role):
    return {
        "admin": demo.admin,
        "focal_point": demo.user("sara.wpa"),
        "caseworker": demo.user("peter.unhcr"),
        "anonymous": None,
    }[role]


# Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "count"), [("admin", 5), ("focal_point", 4), ("caseworker", 4)])
def test_partners_list_published_pathways_only(api, demo, draft, role, count):
    response = api(who(demo, role)).get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == count
    statuses = {item["status"] for item in response.json()["results"]}
    assert statuses == ({"published", "draft"} if role == "admin" else {"published"})


def test_anonymous_callers_are_refused(api, demo):
    assert api(None).get(URL).status_code == 401


@pytest.mark.parametrize(
    ("role", "expected"), [("admin", 200), ("focal_point", 404), ("caseworker", 404), ("anonymous", 401)]
)
def test_drafts_are_invisible_to_partners(api, demo, draft, role, expected):
    client = api(who(demo, role))
    assert client.get(f"{URL}/{draft.id}").status_code == expected
    assert client.get(f"{URL}/{draft.id}/export?format=svg").status_code == expected
    if role != "admin":
        assert client.post(f"{URL}/{draft.id}/publish").status_code == expected


@pytest.mark.parametrize(("role", "expected"), [("admin", 201), ("focal_point", 403), ("caseworker", 403)])
def test_only_platform_admins_create_pathways(api, demo, role, expected):
    response = api(who(demo, role)).post(
        URL, {"operation": str(demo.operation.id), "name": "Cash", "theme": "general"}, format="json"
    )
    assert response.status_code == expected, response.json()


@pytest.mark.parametrize(("role", "expected"), [("admin", 201), ("focal_point", 403), ("caseworker", 403)])
def test_only_platform_admins_make_new_versions(api, demo, role, expected):
    response = api(who(demo, role)).post(f"{URL}/{demo.pathways['psea'].id}/new-version")
    assert response.status_code == expected


def test_partners_read_a_published_pathway_with_its_steps_and_links(api, demo):
    response = api(demo.user("sara.wpa")).get(f"{URL}/{demo.pathways['psea'].id}")
    assert response.status_code == 200
    body = response.json()
    assert [s["key"] for s in body["steps"]] == sorted(s["key"] for s in body["steps"])
    assert {s["service"]["organisation"] for s in body["steps"]} == {"UNHCR", "WPA", "CFK", "LPAN"}
    assert body["links"][0]["eligibility"] == "anyone"


def test_editing_a_published_pathway_is_a_409(api, demo):
    client = api(demo.admin)
    pathway = demo.pathways["gbv"]
    response = client.patch(f"{URL}/{pathway.id}", {"name": "Renamed"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pathway_not_editable"
    shelter = demo.service("WPA", "Safe shelter")
    response = client.post(f"{URL}/{pathway.id}/steps", {"service": str(shelter.id)}, format="json")
    assert response.status_code == 409
    a_link = pathway.links.first()
    assert client.delete(f"{URL}/{pathway.id}/links/{a_link.id}").status_code == 409


def test_partners_cannot_edit_a_published_pathway_either(api, demo):
    response = api(demo.user("sara.wpa")).patch(
        f"{URL}/{demo.pathways['gbv'].id}", {"name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "platform_admin_required"


# Drafting over HTTP ------------------------------------------------------------------------


def test_an_admin_drafts_validates_and_publishes_a_pathway(api, demo):
    client = api(demo.admin)
    created = client.post(
        URL, {"operation": str(demo.operation.id), "name": "Legal", "theme": "legal"}, format="json"
    ).json()
    pathway_url = f"{URL}/{created['id']}"
    desk = client.post(
        f"{pathway_url}/steps",
        {"service": str(demo.service("UNHCR", "Protection desk Kakuma").id), "is_entry": True},
        format="json",
    ).json()
    legal = client.post(
        f"{pathway_url}/steps",
        {"service": str(demo.service("LPAN", "Legal counselling and representation").id)},
        format="json",
    ).json()
    assert desk["key"] == "unhcr-protection-desk-kakuma"

    result = client.post(f"{pathway_url}/validate").json()
    assert result["valid"] is False
    assert [(p["code"], p["step_ids"]) for p in result["problems"]] == [("unreachable_step", [legal["id"]])]
    refused = client.post(f"{pathway_url}/publish")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "pathway_invalid"
    assert refused.json()["error"]["problems"][0]["code"] == "unreachable_step"

    link = client.post(
        f"{pathway_url}/links",
        {
            "from_step": desk["id"],
            "to_step": legal["id"],
            "condition": {"age": {"min": 18}},
            "note": "adults",
        },
        format="json",
    )
    assert link.status_code == 201, link.json()
    assert link.json()["eligibility"] == "age ≥ 18"
    published = client.post(f"{pathway_url}/publish")
    assert published.status_code == 200
    assert published.json()["status"] == "published"


def test_an_unknown_condition_key_or_operator_is_a_400_naming_it(api, demo, draft):
    client = api(demo.admin)
    steps = {s.key: s for s in draft.steps.all()}
    body = {"from_step": str(steps["unhcr-desk"].id), "to_step": str(steps["lpan-pss"].id)}
    response = client.post(
        f"{URL}/{draft.id}/links", {**body, "condition": {"nationality": {"in": ["X"]}}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_condition_key"
    assert "nationality" in response.json()["error"]["message"]
    assert response.json()["error"]["fields"] == {"condition": [response.json()["error"]["message"]]}
    response = client.post(
        f"{URL}/{draft.id}/links", {**body, "condition": {"age": {"gt": 3}}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_condition_operator"
    assert "gt" in response.json()["error"]["message"]


def test_unknown_fields_in_a_step_are_refused(api, demo, draft):
    response = api(demo.admin).post(
        f"{URL}/{draft.id}/steps",
        {"service": str(demo.service("WPA", "Safe shelter").id), "colour": 1},
        format="json",
    )
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["fields"]


# Questions ---------------------------------------------------------------------------------


def test_next_steps_from_query_parameters(api, demo):
    gbv = demo.pathways["gbv"]
    case_management = demo.service("WPA", "GBV case management")
    response = api(demo.user("peter.unhcr")).get(
        f"{URL}/{gbv.id}/next-steps",
        {"service": str(case_management.id), "age": 30, "sex": "male", "urgency": "normal"},
    )
    assert response.status_code == 200, response.json()
    assert [o["service"]["name"] for o in response.json()] == [
        "Psychosocial support",
        "Legal counselling and representation",
    ]
    first = response.json()[0]
    assert first["pathway"] == {"id": str(gbv.id), "name": gbv.name, "version": 1}
    assert first["preference"] == 2


def test_next_steps_from_a_json_body(api, demo):
    response = api(demo.user("peter.unhcr")).post(
        f"{URL}/{demo.pathways['child_protection'].id}/next-steps",
        {
            "service": str(demo.service("UNHCR", "Best interests procedure").id),
            "profile": {"age": 14, "is_minor": True, "specific_needs": ["separated_child"]},
        },
        format="json",
    )
    assert [o["service"]["name"] for o in response.json()] == [
        "Family tracing and reunification",
        "Foster and kinship care",
    ]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"religion": "x"}, "unknown_parameter"),
        ({"age": "old"}, "invalid_profile_value"),
        ({"sex": "woman"}, "invalid_profile_value"),
        ({"is_minor": "maybe"}, "invalid_profile_value"),
    ],
)
def test_bad_question_parameters_are_400s(api, demo, params, code):
    service = demo.service("WPA", "GBV case management")
    response = api(demo.user("peter.unhcr")).get(
        f"{URL}/{demo.pathways['gbv'].id}/next-steps", {"service": str(service.id), **params}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_next_steps_from_a_service_off_the_pathway_is_a_400(api, demo):
    response = api(demo.admin).get(
        f"{URL}/{demo.pathways['psea'].id}/next-steps",
        {"service": str(demo.service("IOM", "Departure and transport").id)},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "service_not_on_pathway"


def test_alternatives_and_route_over_http(api, demo):
    client = api(demo.user("peter.unhcr"))
    desk = demo.service("UNHCR", "Protection desk Kakuma")
    response = client.get(f"{URL}/alternatives", {"service": str(desk.id), "sex": "female", "age": 30})
    assert [o["service"]["name"] for o in response.json()] == ["Women and girls safe space"]
    response = client.get(
        f"{URL}/{demo.pathways['resettlement'].id}/route",
        {
            "service": str(demo.service("UNHCR", "Resettlement identification").id),
            "category": "cultural_orientation",
        },
    )
    assert [(o["service"]["name"], o["distance"]) for o in response.json()] == [
        ("Health assessment for resettlement", 1),
        ("Cultural orientation course", 2),
    ]
    response = client.get(
        f"{URL}/{demo.pathways['resettlement'].id}/route",
        {"service": str(demo.service("UNHCR", "Resettlement identification").id), "category": "psea"},
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_route"


# Export and import -------------------------------------------------------------------------


def test_exports_in_every_format(api, demo):
    client = api(demo.user("sara.wpa"))
    pathway_url = f"{URL}/{demo.pathways['gbv'].id}/export"
    document = client.get(pathway_url).json()
    assert document["format"] == "referral-hub/pathway" and len(document["steps"]) == 8

    svg = client.get(pathway_url, {"format": "svg"})
    assert svg["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.content)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Clinical management of rape" in texts and any(t and t.startswith("TCHD") for t in texts)
    assert texts.count("ENTRY") == 2

    graphml = client.get(pathway_url, {"format": "graphml"})
    parsed = nx.read_graphml(io.BytesIO(graphml.content), force_multigraph=True)
    assert parsed.number_of_nodes() == 8 and parsed.number_of_edges() == 8

    dot = client.get(pathway_url, {"format": "dot"}).content.decode()
    assert dot.startswith('digraph "GBV response — Kakuma" {') and dot.count(" -> ") == 8

    bad = client.get(pathway_url, {"format": "pdf"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_export_format"


def test_import_round_trips_exactly_over_http(api, demo):
    client = api(demo.admin)
    exported = client.get(f"{URL}/{demo.pathways['child_protection'].id}/export").json()
    response = client.post(f"{URL}/import", exported, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["version"], response.json()["status"]) == (2, "draft")
    again = client.get(f"{URL}/{response.json()['id']}/export").json()
    for document in (exported, again):
        del document["pathway"]["version"], document["pathway"]["status"]
    assert again == exported


def test_import_is_for_platform_admins(api, demo):
    exported = api(demo.admin).get(f"{URL}/{demo.pathways['psea'].id}/export").json()
    response = api(demo.user("amina.unhcr")).post(f"{URL}/import", exported, format="json")
    assert response.status_code == 403
    assert Pathway.objects.filter(theme="psea").count() == 1


@pytest.mark.parametrize(
    ("where", "value"),
    [("step_service_organisation", ["UNHCR"]), ("link_from", {"key": "x"}), ("link_to", [1, 2])],
)
def test_import_of_wrongly_typed_references_is_a_400_naming_them(api, demo, where, value):
    client = api(demo.admin)
    document = client.get(f"{URL}/{demo.pathways['psea'].id}/export").json()
    if where == "step_service_organisation":
        document["steps"][0]["service"] = {"organisation": value, "name": value}
    else:
        document["links"][0]["from" if where == "link_from" else "to"] = value
    response = client.post(f"{URL}/import", document, format="json")
    assert response.status_code == 400, response.content[:500]
    assert "unknown_" in response.content.decode()
