"""The demo pathways (fixtures/pathways.json), and answers on them worked out by hand."""

import pytest

from partners import services as partner_services
from pathways.models import Pathway
from pathways.selectors import (
    pathway_alternatives,
    pathway_next_steps,
    pathway_route,
)

pytestmark = pytest.mark.django_db

ADULT_WOMAN = {"age": 24, "sex": "female", "urgency": "emergency", "is_minor": False}
UASC = {"age": 14, "is_minor": True, "specific_needs": ["unaccompanied_child"], "urgency": "urgent"}


def names(offers):
    return [(offer.service.organisation.acronym, offer.service.name) for offer in offers]


def test_four_demo_pathways_load_published_and_valid(demo):
    assert [(p.theme, problems) for p, problems in demo.results] == [
        ("gbv", []),
        ("child_protection", []),
        ("resettlement", []),
        ("psea", []),
    ]
    assert {p.status for p in demo.pathways.values()} == {Pathway.Status.PUBLISHED}


def test_loading_the_demo_twice_changes_nothing(demo):
    from pathways.demo import load_demo_pathways

    assert load_demo_pathways(operation=demo.operation, actor=demo.admin) == []
    assert Pathway.objects.count() == 4


def test_gbv_next_steps_for_a_woman_in_an_emergency(demo):
    offers = pathway_next_steps(
        pathway=demo.pathways["gbv"],
        service_id=demo.service("WPA", "GBV case management").id,
        profile=ADULT_WOMAN,
    )
    assert names(offers) == [
        ("TCHD", "Clinical management of rape"),
        ("LPAN", "Psychosocial support"),
        ("WPA", "Safe shelter"),
        ("LPAN", "Legal counselling and representation"),
    ]
    assert [o.preference for o in offers] == [1, 2, 3, 4]


def test_gbv_next_steps_for_a_man_leave_out_the_women_only_shelter_and_time_bound_care(demo):
    offers = pathway_next_steps(
        pathway=demo.pathways["gbv"],
        service_id=demo.service("WPA", "GBV case management").id,
        profile={"age": 30, "sex": "male", "urgency": "normal"},
    )
    assert names(offers) == [
        ("LPAN", "Psychosocial support"),
        ("LPAN", "Legal counselling and representation"),
    ]


def test_a_service_that_stops_accepting_disappears_from_next_steps_at_once(demo):
    pathway = demo.pathways["gbv"]
    gbv = demo.service("WPA", "GBV case management").id
    assert ("TCHD", "Clinical management of rape") in names(
        pathway_next_steps(pathway=pathway, service_id=gbv, profile=ADULT_WOMAN)
    )
    cmr = demo.service("TCHD", "Clinical management of rape")
    partner_services.service_update(actor=demo.admin, service=cmr, is_accepting_referrals=False)
    offers = pathway_next_steps(pathway=pathway, service_id=gbv, profile=ADULT_WOMAN)
    assert ("TCHD", "Clinical management of rape") not in names(offers)


def test_child_protection_next_steps(demo):
    pathway = demo.pathways["child_protection"]
    desk = demo.service("UNHCR", "Protection desk Kakuma").id
    assert names(pathway_next_steps(pathway=pathway, service_id=desk, profile=UASC)) == [
        ("CFK", "Child protection case management")
    ]
    assert pathway_next_steps(pathway=pathway, service_id=desk, profile={"age": 30, "is_minor": False}) == []
    case_management = demo.service("CFK", "Child protection case management").id
    assert names(pathway_next_steps(pathway=pathway, service_id=case_management, profile=UASC)) == [
        ("UNHCR", "Best interests procedure"),
        ("LPAN", "Psychosocial support"),
    ]


def test_child_protection_route_to_alternative_care_goes_through_the_best_interests_procedure(demo):
    hops = pathway_route(
        pathway=demo.pathways["child_protection"],
        service_id=demo.service("UNHCR", "Protection desk Kakuma").id,
        target_category="alternative_care",
        profile=UASC,
    )
    assert names(hops) == [
        ("CFK", "Child protection case management"),
        ("UNHCR", "Best interests procedure"),
        ("CFK", "Foster and kinship care"),
    ]
    assert [hop.distance for hop in hops] == [1, 2, 3]


def test_no_route_to_family_tracing_for_a_child_who_is_not_separated(demo):
    assert (
        pathway_route(
            pathway=demo.pathways["child_protection"],
            service_id=demo.service("UNHCR", "Protection desk Kakuma").id,
            target_category="family_tracing",
            profile={"age": 10, "is_minor": True},
        )
        is None
    )


def test_resettlement_route_runs_through_iom(demo):
    hops = pathway_route(
        pathway=demo.pathways["resettlement"],
        service_id=demo.service("UNHCR", "Resettlement identification").id,
        target_category="iom_transport",
        profile={},
    )
    assert names(hops) == [
        ("IOM", "Health assessment for resettlement"),
        ("IOM", "Cultural orientation course"),
        ("IOM", "Departure and transport"),
    ]


def test_gbv_route_to_mhpss_and_none_to_clinical_care_when_not_urgent(demo):
    pathway = demo.pathways["gbv"]
    desk = demo.service("UNHCR", "Protection desk Kakuma").id
    assert names(
        pathway_route(pathway=pathway, service_id=desk, target_category="mhpss", profile=ADULT_WOMAN)
    ) == [
        ("WPA", "GBV case management"),
        ("LPAN", "Psychosocial support"),
    ]
    normal = {**ADULT_WOMAN, "urgency": "normal"}
    assert (
        pathway_route(
            pathway=pathway, service_id=desk, target_category="clinical_management_of_rape", profile=normal
        )
        is None
    )


def test_psea_single_entry_goes_straight_to_the_psea_focal_point(demo):
    pathway = demo.pathways["psea"]
    assert list(pathway.steps.filter(is_entry=True).values_list("service__name", flat=True)) == [
        "Protection desk Kakuma"
    ]
    offers = pathway_next_steps(
        pathway=pathway, service_id=demo.service("UNHCR", "Protection desk Kakuma").id, profile={}
    )
    assert names(offers) == [("UNHCR", "PSEA focal point")]


def test_alternative_to_the_safe_space_is_the_unhcr_desk_on_the_same_pathway(demo):
    offers = pathway_alternatives(
        service=demo.service("WPA", "Women and girls safe space"),
        profile=ADULT_WOMAN,
        pathway=demo.pathways["gbv"],
    )
    assert names(offers) == [("UNHCR", "Protection desk Kakuma")]
    assert offers[0].distance == 2  # safe space → GBV case management ← desk
    assert offers[0].pathway == demo.pathways["gbv"]


def test_alternatives_fall_back_to_other_published_pathways_of_the_operation(demo):
    """The child protection pathway has one desk; the GBV pathway offers the women's safe space."""
    offers = pathway_alternatives(
        service=demo.service("UNHCR", "Protection desk Kakuma"),
        profile=ADULT_WOMAN,
        pathway=demo.pathways["child_protection"],
    )
    assert names(offers) == [("WPA", "Women and girls safe space")]
    assert offers[0].pathway == demo.pathways["gbv"]


def test_no_alternative_when_the_only_peer_does_not_fit_the_person(demo):
    offers = pathway_alternatives(
        service=demo.service("UNHCR", "Protection desk Kakuma"), profile={"age": 40, "sex": "male"}
    )
    assert offers == []  # the safe space is for women and girls
