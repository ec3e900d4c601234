"""Pathway services on the database: versions, immutability, publishing, import/export."""

import copy
import json
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from common.errors import Conflict, PermissionDenied, ServiceError
from partners.models import Membership
from pathways import services
from pathways.models import Pathway, PathwayLink, PathwayStep
from pathways.selectors import (
    graph_cache_clear,
    link_admits,
    pathway_data,
    pathway_export,
    pathway_graph,
    pathway_next_steps,
    pathway_problems,
    published_link_get,
)
from tests.factories import (
    OperationFactory,
    PathwayStepFactory,
    ServiceFactory,
    organisation_with_focal_point,
)

pytestmark = pytest.mark.django_db


def service(**fields):
    return ServiceFactory(organisation=organisation_with_focal_point()[0], **fields)


@pytest.fixture
def small(platform_admin):
    """A valid draft: desk (entry) → case management → health (children only)."""
    pathway = services.pathway_create(
        actor=platform_admin, operation=OperationFactory(), name="Small", theme=Pathway.Theme.GBV
    )
    desk = services.step_add(
        actor=platform_admin, pathway=pathway, service=service(), is_entry=True, key="desk"
    )
    cm = services.step_add(actor=platform_admin, pathway=pathway, service=service(), key="cm")
    health = services.step_add(actor=platform_admin, pathway=pathway, service=service(), key="health")
    services.link_add(actor=platform_admin, pathway=pathway, from_step=desk, to_step=cm)
    services.link_add(
        actor=platform_admin,
        pathway=pathway,
        from_step=cm,
        to_step=health,
        condition={"age": {"max": 17}},
        note="children",
    )
    pathway.desk, pathway.cm, pathway.health = desk, cm, health
    return pathway


def published(pathway, actor):
    return services.pathway_publish(actor=actor, pathway=pathway)


# Permissions -------------------------------------------------------------------------------


def test_only_platform_admins_write_pathways(org_a):
    for actor in (org_a.focal_point, org_a.caseworker):
        with pytest.raises(PermissionDenied):
            services.pathway_create(actor=actor, operation=OperationFactory(), name="X", theme="gbv")


def test_a_focal_point_cannot_add_steps_or_publish(small, org_a):
    with pytest.raises(PermissionDenied):
        services.step_add(actor=org_a.focal_point, pathway=small, service=service())
    with pytest.raises(PermissionDenied):
        services.pathway_publish(actor=org_a.focal_point, pathway=small)


# Drafting ----------------------------------------------------------------------------------


def test_step_keys_default_to_a_readable_slug(platform_admin, small):
    offered = service(name="Legal aid & counselling")
    step = services.step_add(actor=platform_admin, pathway=small, service=offered)
    assert step.key == f"{offered.organisation.acronym.lower()}-legal-aid-counselling"


def test_a_service_appears_once_per_pathway(platform_admin, small):
    with pytest.raises(Conflict) as caught:
        services.step_add(actor=platform_admin, pathway=small, service=small.cm.service)
    assert caught.value.code == "duplicate_step"


def test_a_service_of_another_operation_cannot_be_a_step(platform_admin, small):
    elsewhere = service()
    elsewhere.organisation.operation = OperationFactory(name="Elsewhere")
    elsewhere.organisation.save()
    with pytest.raises(ServiceError) as caught:
        services.step_add(actor=platform_admin, pathway=small, service=elsewhere)
    assert caught.value.code == "service_outside_operation"


def test_a_link_cannot_join_steps_of_two_pathways(platform_admin, small):
    other = PathwayStepFactory()
    with pytest.raises(ServiceError) as caught:
        services.link_add(actor=platform_admin, pathway=small, from_step=small.desk, to_step=other)
    assert caught.value.code == "step_outside_pathway"


def test_a_malformed_condition_is_refused_naming_the_key(platform_admin, small):
    with pytest.raises(ServiceError) as caught:
        services.link_add(
            actor=platform_admin,
            pathway=small,
            from_step=small.desk,
            to_step=small.health,
            condition={"age": {"min": 5}, "religion": {"in": ["x"]}},
        )
    assert caught.value.code == "unknown_condition_key"
    assert "religion" in caught.value.message
    assert caught.value.field == "condition"


def test_removing_a_step_removes_its_links(platform_admin, small):
    services.step_remove(actor=platform_admin, step=small.cm)
    assert not PathwayLink.objects.filter(pathway=small).exists()


# Publishing and versions ------------------------------------------------------------------


def test_publish_refuses_with_every_problem_at_once(platform_admin, small):
    services.step_update(actor=platform_admin, step=small.desk, is_entry=False)
    services.link_add(actor=platform_admin, pathway=small, from_step=small.cm, to_step=small.cm)
    services.link_add(
        actor=platform_admin,
        pathway=small,
        from_step=small.desk,
        to_step=small.cm,
        condition={"sex": {"in": []}},
    )
    with pytest.raises(ServiceError) as caught:
        services.pathway_publish(actor=platform_admin, pathway=small)
    assert caught.value.code == "pathway_invalid"
    codes = {p["code"] for p in caught.value.extra["problems"]}
    assert {"no_entry_step", "self_loop", "duplicate_link", "condition_never_matches"} <= codes
    small.refresh_from_db()
    assert small.status == Pathway.Status.DRAFT


def test_validation_reads_organisations_that_cannot_receive_from_the_database(platform_admin, small):
    organisation = small.health.service.organisation
    Membership.objects.filter(organisation=organisation).update(is_active=False)
    problems = pathway_problems(small)
    assert [(p.code, p.link_ids) for p in problems if p.severity == "error"] == [
        ("organisation_without_focal_point", (str(small.links.get(to_step=small.health).id),))
    ]
    organisation.dsa_expires_on = date.today() - timedelta(days=1)
    organisation.dsa_signed_on = date.today() - timedelta(days=10)
    organisation.save()
    assert [p.code for p in pathway_problems(small)] == ["organisation_without_valid_dsa"]


def test_validation_takes_a_fixed_number_of_queries_whatever_the_size(
    platform_admin, small, django_assert_num_queries
):
    for _ in range(5):
        step = services.step_add(actor=platform_admin, pathway=small, service=service())
        services.link_add(actor=platform_admin, pathway=small, from_step=small.cm, to_step=step)
    pathway = Pathway.objects.select_related("operation").get(pk=small.pk)
    with django_assert_num_queries(3):  # steps, links, services with their organisations' state
        assert not [p for p in pathway_problems(pathway) if p.severity == "error"]


def test_published_versions_are_immutable(platform_admin, small):
    pathway = published(small, platform_admin)
    attempts = [
        lambda: services.pathway_update(actor=platform_admin, pathway=pathway, name="Renamed"),
        lambda: services.step_add(actor=platform_admin, pathway=pathway, service=service()),
        lambda: services.step_update(actor=platform_admin, step=small.desk, is_entry=False),
        lambda: services.step_remove(actor=platform_admin, step=small.health),
        lambda: services.link_add(
            actor=platform_admin, pathway=pathway, from_step=small.desk, to_step=small.health
        ),
        lambda: services.link_update(
            actor=platform_admin, link=PathwayLink.objects.filter(pathway=pathway).first(), condition={}
        ),
        lambda: services.link_remove(
            actor=platform_admin, link=PathwayLink.objects.filter(pathway=pathway).first()
        ),
        lambda: services.pathway_delete(actor=platform_admin, pathway=pathway),
        lambda: services.pathway_publish(actor=platform_admin, pathway=pathway),
    ]
    before = json.dumps(pathway_export(pathway=pathway, export_format="json"), sort_keys=True)
    for attempt in attempts:
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code == "pathway_not_editable"
    assert json.dumps(pathway_export(pathway=pathway, export_format="json"), sort_keys=True) == before


def test_new_version_copies_the_graph_into_a_draft(platform_admin, small):
    v1 = published(small, platform_admin)
    v2 = services.pathway_new_version(actor=platform_admin, pathway=v1)
    assert (v2.status, v2.version, v2.family) == (Pathway.Status.DRAFT, 2, v1.family)
    first, second = (
        pathway_export(pathway=v1, export_format="json"),
        pathway_export(pathway=v2, export_format="json"),
    )
    for document in (first, second):
        del document["pathway"]["version"], document["pathway"]["status"]
    assert first == second
    assert not set(PathwayStep.objects.filter(pathway=v2).values_list("id", flat=True)) & set(
        PathwayStep.objects.filter(pathway=v1).values_list("id", flat=True)
    )


def test_one_draft_at_a_time(platform_admin, small):
    v1 = published(small, platform_admin)
    services.pathway_new_version(actor=platform_admin, pathway=v1)
    with pytest.raises(Conflict) as caught:
        services.pathway_new_version(actor=platform_admin, pathway=v1)
    assert caught.value.code == "draft_exists"


def test_publishing_a_new_version_archives_the_old_one(platform_admin, small):
    v1 = published(small, platform_admin)
    v2 = services.pathway_new_version(actor=platform_admin, pathway=v1)
    v2 = published(v2, platform_admin)
    v1.refresh_from_db()
    assert (v1.status, v2.status) == (Pathway.Status.ARCHIVED, Pathway.Status.PUBLISHED)


def test_the_database_allows_one_published_version_per_pathway(platform_admin, small):
    v1 = published(small, platform_admin)
    v2 = services.pathway_new_version(actor=platform_admin, pathway=v1)
    v2.status, v2.published_at = Pathway.Status.PUBLISHED, v1.published_at
    with pytest.raises(IntegrityError), transaction.atomic():
        v2.save()


def test_the_cached_graph_of_a_published_version_is_reused_and_dropped_on_publish(
    platform_admin, small, django_assert_num_queries
):
    v1 = published(small, platform_admin)
    graph_cache_clear()
    first = pathway_graph(v1)
    with django_assert_num_queries(0):
        assert pathway_graph(v1) is first
    v2 = services.pathway_new_version(actor=platform_admin, pathway=v1)
    assert pathway_graph(v2) is not pathway_graph(v2)  # drafts are never cached
    published(v2, platform_admin)
    v1.refresh_from_db()
    assert pathway_graph(v1) is not first  # archived: rebuilt once with its new status
    assert pathway_graph(v1).data.status == Pathway.Status.ARCHIVED


def test_next_steps_on_a_cached_graph_take_one_query(platform_admin, small, django_assert_num_queries):
    v1 = published(small, platform_admin)
    pathway_graph(v1)
    with django_assert_num_queries(1):  # the services that may come next, with their current state
        offers = pathway_next_steps(pathway=v1, service_id=small.cm.service_id, profile={"age": 12})
    assert [o.service.id for o in offers] == [small.health.service_id]
    assert pathway_next_steps(pathway=v1, service_id=small.cm.service_id, profile={"age": 18}) == []


def test_an_unknown_profile_field_is_a_400_naming_it(platform_admin, small):
    with pytest.raises(ServiceError) as caught:
        pathway_next_steps(pathway=small, service_id=small.cm.service_id, profile={"agee": 12})
    assert caught.value.code == "unknown_profile_field" and "agee" in caught.value.message


# Links for referrals ----------------------------------------------------------------------


def test_a_referral_can_check_a_published_link(platform_admin, small):
    link = small.links.get(to_step=small.health)
    with pytest.raises(ServiceError):
        published_link_get(link_id=link.id)  # still a draft
    published(small, platform_admin)
    link = published_link_get(link_id=link.id)
    assert link_admits(link=link, from_service_id=small.cm.service_id, profile={"age": 9}) is None
    assert link_admits(link=link, from_service_id=small.cm.service_id, profile={}) == "link_condition_not_met"
    assert (
        link_admits(link=link, from_service_id=small.desk.service_id, profile={"age": 9})
        == "link_not_from_service"
    )
    assert (
        link_admits(
            link=link,
            from_service_id=small.cm.service_id,
            to_service_id=small.cm.service_id,
            profile={"age": 9},
        )
        == "link_not_to_service"
    )


# Import / export --------------------------------------------------------------------------


def test_export_import_round_trip_is_exact(platform_admin, small):
    v1 = published(small, platform_admin)
    document = pathway_export(pathway=v1, export_format="json")
    imported = services.pathway_import(actor=platform_admin, document=copy.deepcopy(document))
    assert (imported.family, imported.version, imported.status) == (v1.family, 2, Pathway.Status.DRAFT)
    again = pathway_export(pathway=imported, export_format="json")
    assert again["pathway"].pop("version") == 2 and again["pathway"].pop("status") == "draft"
    del document["pathway"]["version"], document["pathway"]["status"]
    assert again == document


def test_import_of_a_new_name_starts_a_new_pathway_and_finds_services_by_name(platform_admin, small):
    document = pathway_export(pathway=small, export_format="json")
    document["pathway"]["name"] = "Copied"
    for step in document["steps"]:
        del step["service"]["id"]
    imported = services.pathway_import(actor=platform_admin, document=document)
    assert (imported.version, imported.name) == (1, "Copied") and imported.family != small.family
    assert pathway_data(imported).steps[0].service_id == str(small.cm.service_id)


def test_import_reports_every_problem_of_the_document(platform_admin, small):
    document = pathway_export(pathway=small, export_format="json")
    document["extra"] = 1
    document["steps"][0]["service"] = {"organisation": "NOPE", "name": "Nothing"}
    document["links"][0]["condition"] = {"age": {"over": 3}}
    document["links"][1]["to"] = "missing"
    document["links"][1]["colour"] = "red"
    with pytest.raises(ServiceError) as caught:
        services.pathway_import(actor=platform_admin, document=document)
    paths = [(p["path"], p["code"]) for p in caught.value.extra["problems"]]
    assert ("", "unknown_field") in paths
    assert ("steps[0].service", "unknown_service") in paths
    assert ("links[0].condition.age", "unknown_condition_operator") in paths
    assert ("links[1].to", "unknown_step") in paths
    assert ("links[1]", "unknown_field") in paths
    assert Pathway.objects.count() == 1


@pytest.mark.parametrize("note", ["x" * 501, 42, ["a"]])
def test_link_note_that_is_too_long_or_not_text_is_refused_not_cut(note):
    from common.errors import ServiceError
    from pathways.models import PathwayLink
    from pathways.services import link_add, pathway_create, step_add
    from tests.factories import OperationFactory, PlatformAdminFactory, ServiceFactory

    admin = PlatformAdminFactory()
    pathway = pathway_create(actor=admin, operation=OperationFactory(), name="Notes", theme="general")
    first = step_add(actor=admin, pathway=pathway, service=ServiceFactory(), is_entry=True)
    second = step_add(actor=admin, pathway=pathway, service=ServiceFactory())
    with pytest.raises(ServiceError) as exc:
        link_add(actor=admin, pathway=pathway, from_step=first, to_step=second, note=note)
    assert (exc.value.code, exc.value.field) == ("invalid_note", "note")
    assert not PathwayLink.objects.exists()


# One rule for an edit and an import -------------------------------------------------------
# pathway_import collects the problems the step, link and pathway services raise (their twins):
# the same value is refused with the same code and the same words, prefixed by its path.


def _import_problems(actor, document) -> list[dict]:
    with pytest.raises(ServiceError) as caught:
        services.pathway_import(actor=actor, document=document)
    return caught.value.extra["problems"]


def _same_words(error: ServiceError, path: str) -> dict:
    return {"path": path, "code": error.code, "message": f"{path}: {error.message}"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "no spaces"),
        ("key", "k" * 65),
        ("preference", 0),
        ("preference", services.MAX_PREFERENCE + 1),
        ("preference", True),
        ("note", "x" * (services.MAX_NOTE + 1)),
        ("note", 42),
    ],
)
def test_import_refuses_a_link_value_the_link_services_refuse_in_the_same_words(
    platform_admin, small, field, value
):
    with pytest.raises(ServiceError) as by_add:
        services.link_add(
            actor=platform_admin, pathway=small, from_step=small.desk, to_step=small.health, **{field: value}
        )
    with pytest.raises(ServiceError) as by_update:
        services.link_update(actor=platform_admin, link=small.links.first(), **{field: value})
    assert (by_update.value.code, by_update.value.message) == (by_add.value.code, by_add.value.message)
    document = pathway_export(pathway=small, export_format="json")
    document["links"][0][field] = value

    assert _import_problems(platform_admin, document) == [_same_words(by_add.value, f"links[0].{field}")]


def test_import_refuses_a_malformed_condition_in_the_words_of_link_add(platform_admin, small):
    condition = {"age": {"over": 3}, "sex": {"in": ["robot"]}}
    with pytest.raises(ServiceError) as by_service:
        services.link_add(
            actor=platform_admin,
            pathway=small,
            from_step=small.desk,
            to_step=small.health,
            condition=condition,
        )
    document = pathway_export(pathway=small, export_format="json")
    document["links"][0]["condition"] = condition

    assert _import_problems(platform_admin, document) == [
        {
            "path": f"links[0].condition.{problem['path']}",
            "code": problem["code"],
            "message": f"links[0].condition.{problem['path']}: {problem['message']}",
        }
        for problem in by_service.value.extra["problems"]
    ]


@pytest.mark.parametrize("key", ["no spaces", "k" * 65, 7])
def test_import_refuses_a_step_key_step_add_refuses_in_the_same_words(platform_admin, small, key):
    with pytest.raises(ServiceError) as by_service:
        services.step_add(actor=platform_admin, pathway=small, service=service(), key=key)
    document = pathway_export(pathway=small, export_format="json")
    document["steps"][0]["key"] = key

    assert _same_words(by_service.value, "steps[0].key") in _import_problems(platform_admin, document)


@pytest.mark.parametrize("part", ["steps", "links"])
def test_import_refuses_a_key_used_twice_as_the_services_refuse_a_taken_key(platform_admin, small, part):
    document = pathway_export(pathway=small, export_format="json")
    taken = document[part][0]["key"]
    with pytest.raises(Conflict) as by_service:
        if part == "steps":
            services.step_add(actor=platform_admin, pathway=small, service=service(), key=taken)
        else:
            services.link_add(
                actor=platform_admin, pathway=small, from_step=small.desk, to_step=small.health, key=taken
            )
    document[part][1]["key"] = taken

    assert _same_words(by_service.value, f"{part}[1].key") in _import_problems(platform_admin, document)


@pytest.mark.parametrize(("field", "value"), [("name", "   "), ("name", "n" * 201), ("theme", "cooking")])
def test_import_refuses_a_pathway_name_or_theme_pathway_create_refuses_in_the_same_words(
    platform_admin, small, field, value
):
    given = {"name": "Another", "theme": Pathway.Theme.GBV, field: value}
    with pytest.raises(ServiceError) as by_service:
        services.pathway_create(actor=platform_admin, operation=small.operation, **given)
    document = pathway_export(pathway=small, export_format="json")
    document["pathway"][field] = value

    assert _import_problems(platform_admin, document) == [_same_words(by_service.value, f"pathway.{field}")]


def test_import_takes_a_null_note_as_no_note_like_link_add(platform_admin, small):
    document = pathway_export(pathway=small, export_format="json")
    document["pathway"]["name"] = "Copied"
    document["links"][0]["note"] = None

    imported = services.pathway_import(actor=platform_admin, document=document)

    assert imported.links.get(key=document["links"][0]["key"]).note == ""
