"""The pathway admin: drawing page, immutability of published versions, actions through services."""

import json

import pytest
from django.urls import reverse

from pathways import services
from pathways.models import Pathway, PathwayLink
from tests.conftest import admin_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, demo):
    demo.admin.is_superuser = False
    return admin_login(client, demo.admin)


def test_the_drawing_page_shows_the_svg_and_information_problems(admin_client_for, demo):
    pathway = demo.pathways["child_protection"]
    response = admin_client_for.get(reverse("admin:pathways_pathway_drawing", args=[pathway.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "Best interests procedure" in html
    assert "No problem blocks publishing." in html
    assert "<code>cycle</code>" in html


def test_the_drawing_page_lists_the_problems_of_a_draft(admin_client_for, demo):
    draft = services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["psea"])
    services.link_remove(actor=demo.admin, link=draft.links.get(key="l1"))
    html = admin_client_for.get(reverse("admin:pathways_pathway_drawing", args=[draft.pk])).content.decode()
    assert "problems to fix before publishing" in html
    assert html.count("<code>unreachable_step</code>") == 5


def test_a_published_pathway_cannot_be_changed_in_the_admin(admin_client_for, demo):
    pathway = demo.pathways["gbv"]
    url = reverse("admin:pathways_pathway_change", args=[pathway.pk])
    assert admin_client_for.get(url).status_code == 200  # view only
    response = admin_client_for.post(url, {"name": "Renamed", "theme": "gbv"})
    assert response.status_code == 403
    pathway.refresh_from_db()
    assert pathway.name == "GBV response — Kakuma"


def test_publish_action_goes_through_validation(admin_client_for, demo):
    draft = services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["psea"])
    services.step_update(actor=demo.admin, step=draft.steps.get(key="unhcr-desk"), is_entry=False)
    changelist = reverse("admin:pathways_pathway_changelist")
    response = admin_client_for.post(
        changelist, {"action": "publish", "_selected_action": [draft.pk]}, follow=True
    )
    assert "no entry step" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Pathway.Status.DRAFT
    services.step_update(actor=demo.admin, step=draft.steps.get(key="unhcr-desk"), is_entry=True)
    admin_client_for.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Pathway.Status.PUBLISHED


def test_a_link_with_an_unknown_condition_key_is_refused_by_the_admin_form(admin_client_for, demo):
    draft = services.pathway_new_version(actor=demo.admin, pathway=demo.pathways["resettlement"])
    steps = list(draft.steps.order_by("key"))
    links = list(draft.links.order_by("key"))
    data = {
        "name": draft.name,
        "theme": draft.theme,
        "description": draft.description,
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": len(steps),
        "links-TOTAL_FORMS": len(links) + 1,
        "links-INITIAL_FORMS": len(links),
    }
    for index, step in enumerate(steps):
        data |= {
            f"steps-{index}-id": step.pk,
            f"steps-{index}-pathway": draft.pk,
            f"steps-{index}-key": step.key,
            f"steps-{index}-service": step.service_id,
            f"steps-{index}-is_entry": "on" if step.is_entry else "",
        }
    for index, link in enumerate(links):
        data |= {
            f"links-{index}-id": link.pk,
            f"links-{index}-pathway": draft.pk,
            f"links-{index}-key": link.key,
            f"links-{index}-from_step": link.from_step_id,
            f"links-{index}-to_step": link.to_step_id,
            f"links-{index}-condition": json.dumps(link.condition or {}),
            f"links-{index}-preference": link.preference,
            f"links-{index}-note": link.note,
        }
    new = len(links)
    data |= {
        f"links-{new}-pathway": draft.pk,
        f"links-{new}-key": "l9",
        f"links-{new}-from_step": steps[0].pk,
        f"links-{new}-to_step": steps[1].pk,
        f"links-{new}-condition": '{"religion": {"in": ["x"]}}',
        f"links-{new}-preference": 1,
        f"links-{new}-note": "",
    }
    url = reverse("admin:pathways_pathway_change", args=[draft.pk])
    response = admin_client_for.post(url, data)
    assert response.status_code == 200
    assert "religion" in response.content.decode()
    assert not PathwayLink.objects.filter(pathway=draft, key="l9").exists()

    data[f"links-{new}-condition"] = '{"age": {"min": 18}}'
    response = admin_client_for.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert PathwayLink.objects.get(pathway=draft, key="l9").condition == {"age": {"min": 18}}
