"""The HSDA read API under /hsds/, against a directory whose numbers are counted by hand below."""

from datetime import UTC, datetime

import pytest

from partners.hsds.mapping import CATEGORY_TAXONOMY_ID
from partners.models import Attribute, Service, Taxonomy, TaxonomyTerm
from tests.factories import (
    LocationFactory,
    OrganisationFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    organisation_with_focal_point,
)

OLD = datetime(2024, 1, 1, tzinfo=UTC)
NEW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def directory(db):
    """By hand:

    - Alpha (active): Water point, Water trucking, Legal aid      — 3 services
    - Beta (active): Water filters, Counselling                   — 2 services
    - Gamma (inactive, as an import leaves it): Shelter           — 1 service, hidden from members
    - category "wash": the three water services; category "protection": the other three
    - term "Women" (taxonomy "Audience"): Water point and Counselling; term "Youth" (child of
      "Women", same taxonomy): Legal aid
    - modified: Water point and Water filters on NEW, the others on OLD
    - locations: Water point at 2 sites, Counselling at 1 site  — 3 service_at_locations
    """
    alpha, _ = organisation_with_focal_point(name="Alpha", acronym="ALPHA")
    beta, _ = organisation_with_focal_point(name="Beta", acronym="BETA")
    gamma = OrganisationFactory(name="Gamma", acronym="GAMMA", is_active=False)
    wash = ServiceCategoryFactory(code="wash", name="WASH")
    protection = ServiceCategoryFactory(code="protection", name="Protection")
    services = {
        name: ServiceFactory(organisation=organisation, category=category, name=name)
        for name, organisation, category in [
            ("Water point", alpha, wash),
            ("Water trucking", alpha, wash),
            ("Legal aid", alpha, protection),
            ("Water filters", beta, wash),
            ("Counselling", beta, protection),
            ("Shelter", gamma, protection),
        ]
    }
    audience = Taxonomy.objects.create(name="Audience", description="Who a service is for")
    women = TaxonomyTerm.objects.create(name="Women", code="W", taxonomy_hsds_id=audience.pk)
    youth = TaxonomyTerm.objects.create(
        name="Youth", code="Y", taxonomy_hsds_id=audience.pk, parent_hsds_id=women.pk
    )
    Attribute.objects.create(taxonomy_term=women, service=services["Water point"])
    Attribute.objects.create(taxonomy_term=women, service=services["Counselling"])
    Attribute.objects.create(taxonomy_term=youth, service=services["Legal aid"])
    for name, service in services.items():
        when = NEW if name in ("Water point", "Water filters") else OLD
        Service.objects.filter(pk=service.pk).update(updated_at=when)
    services["Water point"].locations.add(LocationFactory(name="Site A"), LocationFactory(name="Site B"))
    services["Counselling"].locations.add(LocationFactory(name="Site C"))
    return {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "wash": wash,
        "women": women,
        "youth": youth,
        "audience": audience,
        **services,
    }


@pytest.fixture
def reader(api, directory):
    return api(directory["alpha"].memberships.get().user)


def _get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content
    return response.json()


def _names(page) -> list[str]:
    return [item["name"] for item in page["contents"]]


def test_root_names_version_profile_and_openapi(reader):
    body = _get(reader, "/hsds/")
    assert body["version"] == "3.0"
    assert body["profile"].endswith("/hsds/profile")
    assert body["openapi_url"].endswith("/schema/openapi.json")
    profile = _get(reader, "/hsds/profile")
    assert set(profile) == {"service", "organization"}


def test_page_envelope_walks_the_five_visible_services(reader):
    first = _get(reader, "/hsds/services?per_page=2")
    assert {key: value for key, value in first.items() if key != "contents"} == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    assert _names(first) == ["Counselling", "Legal aid"]
    middle = _get(reader, "/hsds/services?per_page=2&page=2")
    assert (middle["first_page"], middle["last_page"], _names(middle)) == (
        False,
        False,
        ["Water filters", "Water point"],
    )
    last = _get(reader, "/hsds/services?per_page=2&page=3")
    assert (last["size"], last["last_page"], last["empty"], _names(last)) == (
        1,
        True,
        False,
        ["Water trucking"],
    )
    beyond = _get(reader, "/hsds/services?per_page=2&page=4")
    assert (beyond["size"], beyond["empty"], beyond["contents"]) == (0, True, [])


def test_empty_result_envelope(reader):
    page = _get(reader, "/hsds/services?search=nothing-like-this")
    assert {key: value for key, value in page.items() if key != "contents"} == {
        "total_items": 0,
        "total_pages": 0,
        "page_number": 1,
        "size": 0,
        "first_page": True,
        "last_page": True,
        "empty": True,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=water", ["Water filters", "Water point", "Water trucking"]),
        ("search=WATER&organization_id={alpha}", ["Water point", "Water trucking"]),
        ("organization_id={beta}", ["Counselling", "Water filters"]),
        ("taxonomy_term_id={women}", ["Counselling", "Water point"]),
        ("taxonomy_term_id={wash}", ["Water filters", "Water point", "Water trucking"]),
        ("taxonomy_term_id={women}&organization_id={alpha}", ["Water point"]),
        ("taxonomy_id={audience}", ["Counselling", "Legal aid", "Water point"]),
        (
            "taxonomy_id={categories}",
            ["Counselling", "Legal aid", "Water filters", "Water point", "Water trucking"],
        ),
        ("modified_after=2025-01-01", ["Water filters", "Water point"]),
        ("modified_after=2025-01-01T00:00:00Z&taxonomy_term_id={wash}&search=point", ["Water point"]),
        ("modified_after=2026-01-01", []),
    ],
)
def test_service_filters_are_anded(reader, directory, query, expected):
    ids = {key: value.pk for key, value in directory.items()}
    url = "/hsds/services?" + query.format(categories=CATEGORY_TAXONOMY_ID, **ids)
    page = _get(reader, url)
    assert _names(page) == expected
    assert page["total_items"] == len(expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("per_page=abc", "per_page"),
        ("per_page=1000", "per_page"),
        ("organization_id=not-a-uuid", "organization_id"),
        ("taxonomy_term_id=42", "taxonomy_term_id"),
        ("modified_after=yesterday", "modified_after"),
        ("full=perhaps", "full"),
    ],
)
def test_bad_parameters_answer_400_naming_them(reader, query, field):
    body = _get(reader, f"/hsds/services?{query}", status=400)
    assert body["error"]["code"] == "invalid_parameter"
    assert field in body["error"]["fields"]


def test_inactive_organisations_services_are_hidden_from_members_and_shown_to_platform_admins(
    api, reader, directory, platform_admin
):
    assert "Shelter" not in _names(_get(reader, "/hsds/services"))
    _get(reader, f"/hsds/services/{directory['Shelter'].pk}", status=404)
    _get(reader, f"/hsds/organizations/{directory['gamma'].pk}", status=404)

    admin = api(platform_admin)
    assert _get(admin, "/hsds/services")["total_items"] == 6
    assert _get(admin, f"/hsds/services/{directory['Shelter'].pk}")["name"] == "Shelter"


def test_anonymous_callers_need_a_token_unless_the_directory_is_public(api, directory, settings):
    anonymous = api(None)
    for url in (
        "/hsds/",
        "/hsds/services",
        f"/hsds/services/{directory['Water point'].pk}",
        "/hsds/taxonomies",
    ):
        assert anonymous.get(url).status_code == 401

    settings.HSDS_PUBLIC = True
    page = _get(anonymous, "/hsds/services")
    assert page["total_items"] == 5  # still only active organisations
    _get(anonymous, f"/hsds/services/{directory['Shelter'].pk}", status=404)


def test_session_login_works_too(client, directory):
    client.force_login(directory["beta"].memberships.get().user)
    assert client.get("/hsds/services").status_code == 200


def test_service_detail_is_a_full_document(reader, directory):
    document = _get(reader, f"/hsds/services/{directory['Water point'].pk}")
    assert document["organization"]["name"] == "Alpha"
    assert sorted(sal["location"]["name"] for sal in document["service_at_locations"]) == ["Site A", "Site B"]
    assert {a["taxonomy_term"]["name"] for a in document["attributes"]} == {"WASH", "Women"}
    _get(reader, "/hsds/services/not-a-uuid", status=404)


def test_service_list_runs_a_fixed_number_of_queries(reader, directory, django_assert_num_queries):
    # token (knox reads it twice), count, page; then one query per nested relation
    with django_assert_num_queries(4):
        assert _get(reader, "/hsds/services")["size"] == 5
    with django_assert_num_queries(23):
        assert _get(reader, "/hsds/services?full=true")["size"] == 5
    for number in range(4):
        service = ServiceFactory(organisation=OrganisationFactory(), name=f"More {number}")
        service.locations.add(LocationFactory())
        Attribute.objects.create(taxonomy_term=directory["women"], service=service)

    with django_assert_num_queries(23):
        assert _get(reader, "/hsds/services?full=true")["size"] == 9


def test_organizations_list_and_detail(reader, directory):
    page = _get(reader, "/hsds/organizations")
    assert _names(page) == ["Alpha", "Beta"]
    assert _names(_get(reader, "/hsds/organizations?search=bet")) == ["Beta"]
    detail = _get(reader, f"/hsds/organizations/{directory['beta'].pk}")
    assert [service["name"] for service in detail["services"]] == ["Counselling", "Water filters"]
    full = _get(reader, f"/hsds/organizations/{directory['beta'].pk}?full_service=true")
    assert full["services"][0]["service_at_locations"][0]["location"]["name"] == "Site C"


def test_service_at_locations_list_and_filters(reader, directory):
    page = _get(reader, "/hsds/service_at_locations")
    pairs = [(item["service"]["name"], item["location"]["name"]) for item in page["contents"]]
    assert pairs == [("Counselling", "Site C"), ("Water point", "Site A"), ("Water point", "Site B")]
    assert page["total_items"] == 3
    assert (
        _get(reader, f"/hsds/service_at_locations?organization_id={directory['alpha'].pk}")["total_items"]
        == 2
    )
    assert _get(reader, "/hsds/service_at_locations?search=site c")["total_items"] == 1
    assert _get(reader, "/hsds/service_at_locations?per_page=2&page=2")["size"] == 1


def test_taxonomies_list_ours_and_imported_ones(reader, directory):
    page = _get(reader, "/hsds/taxonomies")
    assert page["total_items"] == 2
    assert [item["id"] for item in page["contents"]] == [
        str(CATEGORY_TAXONOMY_ID),
        str(directory["audience"].pk),
    ]
    second = _get(reader, "/hsds/taxonomies?per_page=1&page=2")
    assert _names(second) == ["Audience"]
    assert (
        _get(reader, f"/hsds/taxonomies/{CATEGORY_TAXONOMY_ID}")["name"] == "Referral Hub service categories"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Protection", "WASH", "Women", "Youth"]),
        ("taxonomy_id={categories}", ["Protection", "WASH"]),
        ("taxonomy_id={audience}", ["Women", "Youth"]),
        ("parent_id={women}", ["Youth"]),
        ("top_only=true&taxonomy_id={audience}", ["Women"]),
        ("search=wa", ["WASH"]),
        ("per_page=3&page=1", ["Protection", "WASH", "Women"]),
        ("per_page=3&page=2", ["Youth"]),
    ],
)
def test_taxonomy_terms_list_categories_then_imported_terms(reader, directory, query, expected):
    ids = {key: value.pk for key, value in directory.items()}
    page = _get(reader, "/hsds/taxonomy_terms?" + query.format(categories=CATEGORY_TAXONOMY_ID, **ids))
    assert _names(page) == expected


def test_taxonomy_term_detail(reader, directory):
    assert _get(reader, f"/hsds/taxonomy_terms/{directory['wash'].pk}")["code"] == "wash"
    assert _get(reader, f"/hsds/taxonomy_terms/{directory['youth'].pk}")["parent_id"] == str(
        directory["women"].pk
    )
    _get(reader, "/hsds/taxonomy_terms/00000000-0000-4000-8000-000000000000", status=404)
