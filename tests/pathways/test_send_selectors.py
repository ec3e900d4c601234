"""The selectors of the officer's send flow, on the demo operation's published pathways."""

import pytest

from pathways.selectors import need_list, pathway_link_to, pathway_list_for_need, pathway_start_of

pytestmark = pytest.mark.django_db


def test_needs_are_the_categories_of_the_directory(demo):
    codes = set(need_list(user=demo.user("peter.unhcr")).values_list("code", flat=True))
    assert {"gbv_case_management", "cash", "mhpss"} <= codes
    assert not need_list(
        user=type("Anonymous", (), {"is_authenticated": False, "is_active": False})()
    ).exists()


def test_the_pathways_for_a_need_reach_it_and_start_at_the_organisation(demo):
    unhcr = demo.service("UNHCR", "Protection desk Kakuma").organisation
    lpan = demo.service("LPAN", "Psychosocial support").organisation
    user = demo.user("peter.unhcr")
    gbv = set(pathway_list_for_need(user=user, organisation=unhcr, category_code="gbv_case_management"))
    assert demo.pathways["gbv"] in gbv and demo.pathways["child_protection"] not in gbv
    assert not pathway_list_for_need(user=user, organisation=unhcr, category_code="cash").exists()
    assert demo.pathways["gbv"] in pathway_list_for_need(user=user, organisation=lpan, category_code="mhpss")


def test_the_start_is_the_organisations_own_step_and_the_link_leads_to_the_service(demo):
    pathway = demo.pathways["gbv"]
    desk, gbv = demo.service("UNHCR", "Protection desk Kakuma"), demo.service("WPA", "GBV case management")
    unhcr = desk.organisation
    assert pathway_start_of(pathway=pathway, organisation=unhcr) == desk
    link = pathway_link_to(pathway=pathway, from_service=desk, to_service=gbv, profile={"sex": "female"})
    assert (link.from_step.service, link.to_step.service) == (desk, gbv)
    assert (
        pathway_link_to(
            pathway=pathway,
            from_service=desk,
            to_service=demo.service("LPAN", "Psychosocial support"),
            profile={},
        )
        is None
    )


def test_the_link_whose_condition_is_met_is_preferred_else_the_first(demo):
    pathway = demo.pathways["gbv"]
    gbv, cmr = demo.service("WPA", "GBV case management"), demo.service("TCHD", "Clinical management of rape")
    urgent = pathway_link_to(pathway=pathway, from_service=gbv, to_service=cmr, profile={"urgency": "urgent"})
    normal = pathway_link_to(pathway=pathway, from_service=gbv, to_service=cmr, profile={"urgency": "normal"})
    assert urgent == normal  # one link: offered all the same, the send says why the person does not meet it
