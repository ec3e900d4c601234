"""The pathway editor through the real URLs: lists, drafts, steps and links, inline condition checks,
validation, publishing, versions, comparison, the map and its route — and every refusal."""

import json
import re

import pytest

from partners.models import Operation
from pathways import selectors, services
from pathways.graph import Problem
from pathways.models import Pathway, PathwayLink, PathwayStep
from tests.conftest import PASSWORD
from tests.factories import (
    PlatformAdminFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    confirmed_totp_device,
    totp_code,
)


@pytest.fixture
def admin(db):
    return PlatformAdminFactory()


@pytest.fixture
def as_admin(client, admin):
    device = confirmed_totp_device(admin)
    response = client.post(
        "/console/sign-in", {"username": admin.username, "password": PASSWORD, "otp": totp_code(device)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def draft(world, admin):
    """A draft with an entry step (A's desk) and a step of B's GBV service, not yet linked."""
    desk_category = ServiceCategoryFactory(code="protection_desk", name="Protection desk")
    desk = ServiceFactory(organisation=world.a, category=desk_category, name="Protection desk A")
    pathway = services.pathway_create(actor=admin, operation=world.a.operation, name="GBV test", theme="gbv")
    services.step_add(actor=admin, pathway=pathway, service=desk, is_entry=True, key="desk")
    services.step_add(actor=admin, pathway=pathway, service=world.service_b, key="gbv")
    return pathway


def body(response) -> str:
    return response.content.decode()


def main(response) -> str:
    text = body(response)
    return text[text.index("<main") :]


def test_a_signed_out_visitor_goes_to_sign_in(client, draft):
    for url in (
        "/console/pathways",
        f"/console/pathways/{draft.pk}",
        f"/console/pathways/{draft.pk}/problems",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/console/sign-in")


def test_the_list_shows_every_version_with_theme_version_and_state(as_admin, draft):
    response = as_admin.get("/console/pathways")
    assert response.status_code == 200
    text = main(response)
    assert "GBV test" in text and "Gender-based violence" in text and "Draft" in text
    assert 'action="/console/pathways/create"' in text


def test_an_admin_creates_a_draft(as_admin, world):
    response = as_admin.post(
        "/console/pathways/create",
        {"operation": world.a.operation.pk, "name": "Legal aid", "theme": "legal", "description": ""},
    )
    pathway = Pathway.objects.get(name="Legal aid")
    assert response.status_code == 302 and response["Location"] == f"/console/pathways/{pathway.pk}"
    assert pathway.status == "draft" and pathway.version == 1


def test_a_taken_name_is_refused_next_to_the_name(as_admin, draft):
    response = as_admin.post(
        "/console/pathways/create", {"operation": draft.operation.pk, "name": "gbv TEST", "theme": "gbv"}
    )
    assert response.status_code == 409
    assert re.search(
        r'id="id_name-error" class="error">The operation already has a pathway of that name', body(response)
    )
    assert 'aria-describedby="id_name-error"' in body(response)


def test_partners_cannot_create_and_never_see_a_draft(sign_in, world, draft):
    client = sign_in(world.b.caseworker)
    response = client.post(
        "/console/pathways/create", {"operation": world.a.operation.pk, "name": "Mine", "theme": "gbv"}
    )
    assert response.status_code == 403 and "Only platform admins may change pathways." in body(response)
    assert "GBV test" not in main(client.get("/console/pathways"))
    missing = client.get("/console/pathways/00000000-0000-0000-0000-000000000000")
    hidden = client.get(f"/console/pathways/{draft.pk}")
    assert hidden.status_code == missing.status_code == 404
    assert main(hidden) == main(missing)
    for url in (f"/console/pathways/{draft.pk}/steps", f"/console/pathways/{draft.pk}/do/publish"):
        assert main(client.post(url)) == main(missing)


def test_steps_are_added_updated_and_removed(as_admin, draft, world):
    other = ServiceFactory(organisation=world.c, name="Legal aid C")
    response = as_admin.post(f"/console/pathways/{draft.pk}/steps", {"service": other.pk, "key": "legal"})
    assert response.status_code == 302 and response["Location"].endswith("#about-legal")
    step = PathwayStep.objects.get(pathway=draft, key="legal")
    response = as_admin.post(
        f"/console/pathways/{draft.pk}/steps/{step.pk}", {"key": "legal-c", "is_entry": "on"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.key == "legal-c" and step.is_entry
    response = as_admin.post(f"/console/pathways/{draft.pk}/steps/{step.pk}/remove")
    assert response.status_code == 302 and not PathwayStep.objects.filter(pk=step.pk).exists()


def test_a_bad_step_key_is_shown_next_to_the_key(as_admin, draft, world):
    other = ServiceFactory(organisation=world.c, name="Legal aid C")
    response = as_admin.post(f"/console/pathways/{draft.pk}/steps", {"service": other.pk, "key": "no spaces"})
    assert response.status_code == 400
    assert re.search(r'id="step-add-key-error" class="error">A key is 1 to 64 letters', body(response))


def test_links_are_added_with_a_condition_updated_and_removed(as_admin, draft):
    desk, gbv = (PathwayStep.objects.get(pathway=draft, key=key) for key in ("desk", "gbv"))
    data = {
        "from_step": desk.pk,
        "to_step": gbv.pk,
        "condition": '{"sex": {"in": ["female"]}}',
        "preference": 1,
    }
    response = as_admin.post(f"/console/pathways/{draft.pk}/links", data)
    assert response.status_code == 302
    link = PathwayLink.objects.get(pathway=draft)
    assert link.condition == {"sex": {"in": ["female"]}} and link.key == "l1"
    response = as_admin.post(
        f"/console/pathways/{draft.pk}/links/{link.pk}",
        {**data, "preference": 2, "note": "by phone", "key": "l1"},
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.preference == 2 and link.note == "by phone"
    assert as_admin.post(f"/console/pathways/{draft.pk}/links/{link.pk}/remove").status_code == 302
    assert not PathwayLink.objects.filter(pk=link.pk).exists()


def test_a_condition_the_rule_language_refuses_is_shown_next_to_the_condition(as_admin, draft):
    desk, gbv = (PathwayStep.objects.get(pathway=draft, key=key) for key in ("desk", "gbv"))
    data = {"from_step": desk.pk, "to_step": gbv.pk, "condition": '{"age": {"over": 17}}', "preference": 1}
    response = as_admin.post(f"/console/pathways/{draft.pk}/links", data)
    assert response.status_code == 400
    help_text = re.search(
        r'<span id="link-add-condition-error" class="condition-help error"[^>]*>(.*?)</span>', body(response)
    )
    assert help_text and "age: Unknown operator" in help_text.group(1)
    assert not PathwayLink.objects.exists()
    response = as_admin.post(f"/console/pathways/{draft.pk}/links", {**data, "condition": "{age"})
    assert response.status_code == 400 and "This is not valid JSON (line 1, column 2)" in body(response)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('{"age": {"max": 17}}', "Valid: it reads “age ≤ 17”."),
        ('{"age": {"mxa": 17}}', "age: Unknown operator"),
        ('{"colour": {"in": ["red"]}}', "Unknown test."),
        ('{"all": [{"sex": {"in": ["robot"]}}]}', "all[0].sex.in: A value of the wrong kind"),
        ('{"age": {"min": 20, "max": 10}}', "No person can ever meet this condition"),
        ('{"age": ', "This is not valid JSON"),
    ],
)
def test_the_inline_check_parses_the_condition_with_the_rule_language(as_admin, condition, expected):
    response = as_admin.post(
        "/console/pathways/condition-check", {"condition": condition, "slot": "link-add-condition-error"}
    )
    assert response.status_code == 200
    text = body(response)
    assert text.startswith('<span id="link-add-condition-error"') and expected in text
    assert ('class="condition-help error"' in text) == (not expected.startswith("Valid"))


def test_the_inline_check_refuses_a_bad_slot(as_admin):
    response = as_admin.post("/console/pathways/condition-check", {"condition": "{}", "slot": '"><script>'})
    assert response.status_code == 400 and "<script>" not in body(response)


def test_the_condition_field_is_wired_to_the_inline_check(as_admin, draft):
    text = body(as_admin.get(f"/console/pathways/{draft.pk}"))
    field = re.search(r'<textarea name="condition"[^>]*id="link-add-condition"[^>]*>', text).group(0)
    assert 'hx-post="/console/pathways/condition-check"' in field
    assert 'hx-target="#link-add-condition-error"' in field
    assert 'aria-describedby="link-add-condition-error link-add-condition_helptext"' in field


def test_validation_lists_every_problem_with_a_link_to_its_step(as_admin, draft):
    response = as_admin.get(f"/console/pathways/{draft.pk}/problems")
    assert response.status_code == 200
    text = main(response)
    assert "No entry step leads to this step." in text
    assert f'href="/console/pathways/{draft.pk}#about-gbv"' in text


def test_publishing_is_refused_with_the_problems_shown(as_admin, draft):
    response = as_admin.post(f"/console/pathways/{draft.pk}/do/publish")
    assert response.status_code == 400
    text = main(response)
    assert "Not published: fix the problems below first." in text
    assert "No entry step leads to this step." in text and "#about-gbv" in text
    draft.refresh_from_db()
    assert draft.status == "draft"


def _link_and_publish(client, draft):
    desk, gbv = (PathwayStep.objects.get(pathway=draft, key=key) for key in ("desk", "gbv"))
    client.post(
        f"/console/pathways/{draft.pk}/links",
        {
            "from_step": desk.pk,
            "to_step": gbv.pk,
            "condition": '{"sex": {"in": ["female"]}}',
            "preference": 1,
        },
    )
    return client.post(f"/console/pathways/{draft.pk}/do/publish")


def test_a_clean_draft_is_published_then_versioned_compared_and_archived(as_admin, draft):
    response = _link_and_publish(as_admin, draft)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    response = as_admin.post(f"/console/pathways/{draft.pk}/do/new-version")
    second = Pathway.objects.get(family=draft.family, version=2)
    assert response.status_code == 302 and response["Location"] == f"/console/pathways/{second.pk}"
    link = PathwayLink.objects.get(pathway=second)
    services.link_update(actor=draft.published_by, link=link, condition={"sex": {"in": ["female", "other"]}})
    response = as_admin.get(f"/console/pathways/{second.pk}/compare")
    text = main(response)
    assert "From version 1 to version 2" in text and "Changed in this version:" in text and "l1" in text
    assert "Condition" in text
    assert "<code>{&quot;sex&quot;: {&quot;in&quot;: [&quot;female&quot;, &quot;other&quot;]}}</code>" in text
    # a second draft is refused with the service's conflict
    response = as_admin.post(f"/console/pathways/{draft.pk}/do/new-version")
    assert response.status_code == 409 and "already has a draft version" in body(response)
    response = as_admin.post(f"/console/pathways/{second.pk}/do/delete")
    assert response.status_code == 302 and not Pathway.objects.filter(pk=second.pk).exists()
    response = as_admin.post(f"/console/pathways/{draft.pk}/do/archive")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "archived"


def test_a_published_version_cannot_be_edited(as_admin, draft):
    _link_and_publish(as_admin, draft)
    step = PathwayStep.objects.get(pathway=draft, key="gbv")
    response = as_admin.post(f"/console/pathways/{draft.pk}/steps/{step.pk}", {"key": "other"})
    assert response.status_code == 409 and "This version is not a draft" in body(response)


def test_the_map_is_drawn_inline_with_steps_that_open_their_entry(as_admin, draft):
    _link_and_publish(as_admin, draft)
    text = body(as_admin.get(f"/console/pathways/{draft.pk}"))
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert '<a class="step-link" href="#about-desk"' in text and 'id="about-desk"' in text
    assert 'src="/static/console/pathway-map.js" defer' in text
    assert "style=" not in text and "<script>" not in text
    assert "Accepting referrals" in text


def test_partners_read_a_published_pathway_without_the_editor(sign_in, as_admin, world, draft):
    _link_and_publish(as_admin, draft)
    as_admin.post("/console/sign-out")
    client = sign_in(world.b.caseworker)
    response = client.get(f"/console/pathways/{draft.pk}")
    assert response.status_code == 200
    assert "<svg" in body(response) and "Add a step" not in body(response) and "/do/" not in main(response)


def test_a_route_is_highlighted_for_a_profile(as_admin, draft, world):
    _link_and_publish(as_admin, draft)
    desk = PathwayStep.objects.get(pathway=draft, key="desk")
    query = {
        "start": desk.service_id,
        "category": world.service_b.category.code,
        "sex": "female",
        "age_band": "18_59",
    }
    response = as_admin.get(f"/console/pathways/{draft.pk}", query)
    text = body(response)
    assert 'class="route"' in text and "GBV case management B" in text
    assert 'class="link on-route"' in text and "ROUTE 2" in text
    response = as_admin.get(f"/console/pathways/{draft.pk}", {**query, "sex": "male"})
    assert "No route: no chain of links this person meets" in body(response)
    assert 'class="link on-route"' not in body(response)


def test_a_rule_changed_in_the_service_shows_without_touching_the_view(as_admin, draft, monkeypatch):
    monkeypatch.setattr(
        "console.pathway_editor.pathway_problems",
        lambda pathway: [Problem(code="self_loop", message="x", step_ids=(), link_ids=())],
    )
    text = main(as_admin.get(f"/console/pathways/{draft.pk}/problems"))
    assert "This link goes from a step to itself." in text and "No entry step leads" not in text

    def refuse(**kwargs):
        from common.errors import Conflict

        raise Conflict("no", code="pathway_not_editable")

    monkeypatch.setattr(services, "step_update", refuse)
    step = PathwayStep.objects.get(pathway=draft, key="gbv")
    response = as_admin.post(f"/console/pathways/{draft.pk}/steps/{step.pk}", {"key": "gbv"})
    assert response.status_code == 409 and "This version is not a draft" in body(response)


def test_another_pathways_step_is_the_same_404(as_admin, draft, admin, world):
    other = services.pathway_create(actor=admin, operation=world.a.operation, name="Other", theme="gbv")
    step = PathwayStep.objects.get(pathway=draft, key="gbv")
    missing = as_admin.post(
        f"/console/pathways/{other.pk}/steps/00000000-0000-0000-0000-000000000000", {"key": "x"}
    )
    foreign = as_admin.post(f"/console/pathways/{other.pk}/steps/{step.pk}", {"key": "x"})
    assert foreign.status_code == missing.status_code == 404 and main(foreign) == main(missing)


def test_comparison_selector_reports_added_removed_and_changed(draft, admin, world):
    desk, gbv = (PathwayStep.objects.get(pathway=draft, key=key) for key in ("desk", "gbv"))
    services.link_add(actor=admin, pathway=draft, from_step=desk, to_step=gbv)
    services.pathway_publish(actor=admin, pathway=draft)
    second = services.pathway_new_version(actor=admin, pathway=draft)
    services.step_remove(actor=admin, step=PathwayStep.objects.get(pathway=second, key="gbv"))
    services.step_add(actor=admin, pathway=second, service=ServiceFactory(organisation=world.c), key="new")
    services.step_update(
        actor=admin, step=PathwayStep.objects.get(pathway=second, key="desk"), is_entry=False
    )
    comparison = selectors.pathway_compare(old=draft, new=second)
    assert [c.key for c in comparison.of(comparison.steps, "added")] == ["new"]
    assert [c.key for c in comparison.of(comparison.steps, "removed")] == ["gbv"]
    assert [(c.key, c.fields) for c in comparison.of(comparison.steps, "changed")] == [("desk", ("entry",))]
    assert [c.key for c in comparison.of(comparison.links, "removed")] == ["l1"]
    assert json.dumps(Operation.objects.count())
