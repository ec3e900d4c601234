"""Alternatives on the database: the cached graph of a published version, the live facts of its
services, and the queries an answer costs (the same for any size of pathway)."""

from datetime import date, timedelta

import pytest
from rest_framework import serializers

from partners.models import Membership, Organisation, Service
from pathways import services
from pathways.api import OfferSerializer
from pathways.models import Pathway, PathwayStep
from pathways.selectors import _candidates, graph_cache_clear, pathway_alternatives, pathway_graph
from tests.factories import (
    OperationFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    member,
    organisation_with_focal_point,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/pathways"


def fan(actor, size: int, *, operation=None, name="Fan") -> Pathway:
    """A published pathway: a legal aid desk (entry) linked to ``size`` clinics, clinic n → n + 1."""
    health, legal = ServiceCategoryFactory(code="health"), ServiceCategoryFactory(code="legal")
    pathway = services.pathway_create(
        actor=actor, operation=operation or OperationFactory(), name=name, theme=Pathway.Theme.HEALTH
    )

    def step(key, category, **fields):
        service = ServiceFactory(organisation=organisation_with_focal_point()[0], category=category)
        return services.step_add(actor=actor, pathway=pathway, service=service, key=key, **fields)

    desk = step("desk", legal, is_entry=True)
    clinics = [step(f"clinic-{n}", health) for n in range(size)]
    for n, clinic in enumerate(clinics):
        services.link_add(actor=actor, pathway=pathway, from_step=desk, to_step=clinic)
        if n:
            services.link_add(actor=actor, pathway=pathway, from_step=clinics[n - 1], to_step=clinic)
    pathway = services.pathway_publish(actor=actor, pathway=pathway)
    pathway.desk, pathway.clinics = desk, clinics
    return pathway


def loaded(service_id) -> Service:
    """A service as the REST and GraphQL views hand it to the selector."""
    return Service.objects.select_related("organisation", "category").get(pk=service_id)


def offered(pathway, *, profile=None, on=True) -> list[str]:
    """Keys of the steps offered instead of the first clinic (on ``pathway``, or anywhere)."""
    offers = pathway_alternatives(
        service=loaded(pathway.clinics[0].service_id), profile=profile or {}, pathway=pathway if on else None
    )
    return [PathwayStep.objects.get(pk=offer.step_id).key for offer in offers]


@pytest.fixture
def pathway(platform_admin):
    pathway = fan(platform_admin, 3)
    pathway_graph(pathway)  # cached, as after the first question a worker answers
    return pathway


# Live facts of the services on a cached graph ---------------------------------------------


def test_a_service_that_changed_category_since_publishing_is_offered_as_it_is_now(pathway):
    """Another writer (the directory, an HSDS import, another worker) changes the category: the
    cached graph still has the old one, the answer does not."""
    assert offered(pathway) == ["clinic-1", "clinic-2"]
    Service.objects.filter(pk=pathway.clinics[1].service_id).update(category=pathway.desk.service.category)
    Service.objects.filter(pk=pathway.desk.service_id).update(category=pathway.clinics[0].service.category)
    assert offered(pathway) == ["desk", "clinic-2"]
    assert offered(pathway, on=False) == ["desk", "clinic-2"]


@pytest.mark.parametrize(
    ("change", "back"),
    [
        ({"is_accepting_referrals": False}, {"is_accepting_referrals": True}),
        ({"is_active": False}, {"is_active": True}),
        ({"max_age": 17}, {"max_age": None}),
        ({"sexes": ["male"]}, {"sexes": []}),
    ],
)
def test_a_service_that_closed_or_changed_its_eligibility_is_seen_as_it_is_now(pathway, change, back):
    clinic = Service.objects.filter(pk=pathway.clinics[1].service_id)
    adult_woman = {"age": 30, "sex": "female"}
    clinic.update(**change)
    assert offered(pathway, profile=adult_woman) == ["clinic-2"]
    clinic.update(**back)
    assert offered(pathway, profile=adult_woman) == ["clinic-1", "clinic-2"]


def test_a_service_whose_organisation_cannot_receive_is_not_offered(pathway):
    organisation = Organisation.objects.filter(pk=pathway.clinics[1].service.organisation_id)
    organisation.update(is_active=False)
    assert offered(pathway) == ["clinic-2"]
    organisation.update(is_active=True, dsa_signed_on=date.today() - timedelta(days=9))
    organisation.update(dsa_expires_on=date.today() - timedelta(days=1))
    assert offered(pathway) == ["clinic-2"]
    organisation.update(dsa_expires_on=None)
    Membership.objects.filter(organisation__in=organisation).update(is_active=False)
    assert offered(pathway) == ["clinic-2"]


def test_a_version_archived_by_another_worker_is_not_served_from_this_workers_cache(pathway):
    """The archive ran elsewhere, so this process's cache was not told: the status read with the
    question decides, and the cached graph of the published version is not used for it."""
    cached = pathway_graph(pathway)
    Pathway.objects.filter(pk=pathway.pk).update(status=Pathway.Status.ARCHIVED)
    assert offered(pathway, on=False) == []
    archived = Pathway.objects.select_related("operation").get(pk=pathway.pk)
    assert pathway_graph(archived) is not cached
    assert pathway_graph(archived).data.status == Pathway.Status.ARCHIVED


def test_a_new_published_version_answers_instead_of_the_cached_old_one(platform_admin, pathway):
    draft = services.pathway_new_version(actor=platform_admin, pathway=pathway)
    services.step_remove(actor=platform_admin, step=draft.steps.get(key="clinic-2"))
    new = services.pathway_publish(actor=platform_admin, pathway=draft)
    offers = pathway_alternatives(service=loaded(pathway.clinics[0].service_id), profile={})
    assert [(offer.pathway.id, offer.service.id) for offer in offers] == [
        (new.id, pathway.clinics[1].service_id)
    ]


def test_the_candidates_query_reads_services_and_organisations_as_the_orm_does(pathway):
    """The question's one query is written as SQL (compiling a queryset per question cost most of
    it): every column of both rows must arrive as the ORM would give it."""
    Service.objects.filter(pk=pathway.clinics[1].service_id).update(
        sexes=["female"], languages=["ar", "fr"], min_age=3, description="Line\nbreak"
    )
    Organisation.objects.filter(pk=pathway.clinics[2].service.organisation_id).update(
        dsa_expires_on=date.today() + timedelta(days=30)
    )

    def columns(obj):
        return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}

    found = _candidates(loaded(pathway.clinics[0].service_id), [pathway])
    assert len(found) == 2
    for candidate, _state in found.values():
        expected = Service.objects.select_related("organisation").get(pk=candidate.pk)
        assert columns(candidate) == columns(expected)
        assert columns(candidate.organisation) == columns(expected.organisation)


# Queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 30])
def test_alternatives_on_a_cached_graph_take_one_query_whatever_its_size(
    platform_admin, django_assert_num_queries, size
):
    pathway = fan(platform_admin, size)
    closed = loaded(pathway.clinics[0].service_id)
    pathway_graph(pathway)
    with django_assert_num_queries(1):  # the category's services on the pathway, with their state
        offers = pathway_alternatives(service=closed, profile={}, pathway=pathway)
    assert len(offers) == size - 1


@pytest.mark.parametrize("size", [3, 30])
def test_alternatives_elsewhere_take_a_fixed_number_of_queries_whatever_the_size(
    platform_admin, django_assert_num_queries, size
):
    """Nothing on the pathway asked about: the operation's published pathways, then their services."""
    pathway = fan(platform_admin, size)
    other = fan(platform_admin, size, operation=pathway.operation, name="Other")
    lonely = services.pathway_create(
        actor=platform_admin, operation=pathway.operation, name="Lonely", theme=Pathway.Theme.HEALTH
    )
    services.step_add(
        actor=platform_admin, pathway=lonely, service=pathway.clinics[0].service, is_entry=True, key="only"
    )
    lonely = services.pathway_publish(actor=platform_admin, pathway=lonely)
    closed = loaded(pathway.clinics[0].service_id)
    for each in (pathway, other, lonely):
        pathway_graph(each)
    with django_assert_num_queries(1 + 1 + 1):  # on the lonely pathway; the published ones; their services
        offers = pathway_alternatives(service=closed, profile={}, pathway=lonely)
    assert {offer.pathway.id for offer in offers} == {pathway.id, other.id}
    with django_assert_num_queries(1 + 1):  # the published pathways; their services
        offers = pathway_alternatives(service=closed, profile={})
    assert {offer.pathway.id for offer in offers} == {pathway.id}  # the pathways it is on come first


@pytest.mark.parametrize("size", [3, 30])
def test_alternatives_over_rest_take_a_fixed_number_of_queries_whatever_the_size(
    api, platform_admin, django_assert_num_queries, size
):
    pathway = fan(platform_admin, size)
    client = api(member(organisation_with_focal_point()[0]))
    question = {"service": str(pathway.clinics[0].service_id), "age": 30}
    client.get(f"{URL}/{pathway.id}/alternatives", question)  # the first question builds the graph
    # the token and its user, the user's other tokens (knox), the pathway, the service, the offers
    with django_assert_num_queries(2 + 1 + 1 + 1):
        response = client.get(f"{URL}/{pathway.id}/alternatives", question)
    assert response.status_code == 200 and len(response.json()) == size - 1
    with django_assert_num_queries(2 + 1 + 1 + 1):  # no pathway to read; the published ones instead
        response = client.get(f"{URL}/alternatives", question)
    assert response.status_code == 200 and len(response.json()) == size - 1


def test_offers_render_exactly_as_their_declared_fields_would(pathway):
    """``OfferSerializer`` renders by hand for speed; DRF's field-by-field rendering is the judge."""
    graph_cache_clear()
    # the desk, an entry step, becomes a clinic too: offered without a link to follow
    Service.objects.filter(pk=pathway.desk.service_id).update(category=pathway.clinics[0].service.category)
    offers = pathway_alternatives(service=loaded(pathway.clinics[0].service_id), profile={}, pathway=pathway)
    assert [offer.link_id is None for offer in offers] == [True, False, False]
    fast = OfferSerializer(offers, many=True).data
    declared = [serializers.Serializer.to_representation(OfferSerializer(), offer) for offer in offers]
    assert fast == declared
