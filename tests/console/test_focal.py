"""The focal point's pages through the Django test client: the organisation, its members, services
and webhooks, each drawn from the partners and notifications services and selectors."""

import uuid
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.utils import timezone

from common.errors import Problem
from notifications.models import WebhookDelivery, WebhookEndpoint
from partners import services as partner_services
from partners.models import Membership, Service
from tests.factories import LocationFactory, ServiceCategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db
URL = "https://hooks.partner.example.org/referral-hub"


def page(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    """The page's content without its header (whose forms carry the request's path and token)."""
    return page(response).split('<main id="main"', 1)[1]


def membership_of(user) -> Membership:
    return Membership.objects.get(user=user, is_active=True)


def endpoint_of(organisation, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        organisation=organisation, url=URL, events=["new_referral"], secret="whsec_dGVzdA==", **fields
    )


def dead_delivery(endpoint) -> WebhookDelivery:
    now = timezone.now()
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_key=uuid.uuid4(),
        kind="new_referral",
        body="{}",
        status=WebhookDelivery.Status.DEAD,
        attempts=9,
        last_status_code=503,
        last_error="http_503",
        retry_until=now,
        created_at=now - timedelta(hours=30),
        dead_at=now,
    )


def service_post(service=None, **changes) -> dict:
    """A complete service form, as the browser sends it (unticked boxes are simply absent)."""
    data = {
        "name": service.name if service else "Legal aid B",
        "description": "",
        "category": service.category.code if service else ServiceCategoryFactory(code="legal_aid").code,
        "is_accepting_referrals": "on",
        "is_active": "on",
        "required_fields": ["given_name", "phone"],
        "optional_fields": ["best_time_to_call"],
        "response_hours_emergency": "24",
        "response_hours_urgent": "72",
        "response_hours_normal": "336",
        "outcome_due_days": "",
        "min_age": "",
        "max_age": "",
        "languages": "en, sw",
        "specific_needs": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# who may come in ---------------------------------------------------------------------------------

FOCAL_PAGES = [
    "/console/organisation",
    "/console/organisation/members",
    "/console/organisation/members/invite",
    "/console/organisation/services",
    "/console/organisation/services/new",
    "/console/organisation/webhooks",
    "/console/organisation/webhooks/new",
]


@pytest.mark.parametrize("url", FOCAL_PAGES)
def test_a_signed_out_visitor_goes_to_sign_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == f"/console/sign-in?next={url}"


@pytest.mark.parametrize("url", FOCAL_PAGES)
@pytest.mark.parametrize("who", ["caseworker", "viewer"])
def test_a_member_who_is_not_the_focal_point_is_refused_clearly(sign_in, world, url, who):
    response = sign_in(getattr(world.b, who)).get(url)
    assert response.status_code == 403
    assert "Only the organisation&#x27;s focal point may do this." in page(response)
    assert "These pages are for your organisation's focal point" in page(response)


def test_a_caseworker_cannot_post_to_the_focal_point_actions(sign_in, world):
    client = sign_in(world.b.caseworker)
    target = membership_of(world.b.viewer)
    response = client.post(f"/console/organisation/members/{target.pk}", {"role": "caseworker"})
    assert response.status_code == 403
    response = client.post(f"/console/organisation/members/{target.pk}/deactivate")
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.role == "viewer" and target.is_active


def test_the_refusal_follows_the_selector(sign_in, world, monkeypatch):
    """Who manages the organisation is the selector's answer: change it, and the page follows."""
    import console.focal

    client = sign_in(world.b.caseworker)
    monkeypatch.setattr(console.focal, "organisation_managed", lambda *, user: world.b)
    assert client.get("/console/organisation").status_code == 200


# the organisation --------------------------------------------------------------------------------


def test_overview_shows_the_organisation_and_its_agreement(sign_in, world):
    response = sign_in(world.b.focal_point).get("/console/organisation")
    assert response.status_code == 200
    body = main_of(response)
    assert "Organisation B (B)" in body and "Valid today." in body
    assert "Yes: other organisations can send referrals to your services." in body
    for url in (
        "/console/organisation/members",
        "/console/organisation/services",
        "/console/organisation/webhooks",
    ):
        assert f'href="{url}"' in body


def test_overview_says_why_referrals_cannot_come_in(sign_in, world):
    world.b.dsa_signed_on, world.b.dsa_expires_on = None, None
    world.b.save()
    body = main_of(sign_in(world.b.focal_point).get("/console/organisation"))
    assert "None recorded." in body
    assert "no valid data-sharing agreement" in body


def test_the_header_links_the_focal_point_to_the_organisation(sign_in, world):
    assert 'href="/console/organisation"' in page(sign_in(world.b.focal_point).get("/console/organisation"))


# members ----------------------------------------------------------------------------------------


def test_members_lists_the_own_organisation_with_roles_in_words(sign_in, world):
    body = main_of(sign_in(world.b.focal_point).get("/console/organisation/members"))
    for user in (world.b.focal_point, world.b.caseworker, world.b.viewer):
        assert user.username in body
    assert world.a.caseworker.username not in body
    assert "Focal point" in body and "Caseworker" in body and "Viewer" in body
    assert "focal_point" not in body.replace("console:focal", "")


def test_members_list_follows_the_selector(sign_in, world, monkeypatch):
    import console.focal

    client = sign_in(world.b.focal_point)
    only_viewer = Membership.objects.filter(user=world.b.viewer)
    monkeypatch.setattr(console.focal, "membership_list_visible", lambda *, user: only_viewer)
    body = main_of(client.get("/console/organisation/members"))
    assert world.b.viewer.username in body and world.b.caseworker.username not in body


def test_invite_creates_the_account_and_mails_the_link(sign_in, world, django_capture_on_commit_callbacks):
    client = sign_in(world.b.focal_point)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/console/organisation/members/invite",
            {"username": "new.member", "email": "new@b.example", "first_name": "New", "role": "viewer"},
        )
    membership = Membership.objects.get(user__username="new.member")
    assert response.status_code == 302
    assert response["Location"] == f"/console/organisation/members/{membership.pk}"
    assert membership.organisation == world.b and membership.role == "viewer"
    assert not membership.user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@b.example"]
    body = main_of(client.get(response["Location"]))
    assert "is invited" in body and "Invited: has not chosen a password yet" in body


def test_invite_shows_the_services_refusal_next_to_its_field(sign_in, world):
    client = sign_in(world.b.focal_point)
    response = client.post(
        "/console/organisation/members/invite",
        {"username": world.a.caseworker.username, "email": "x@b.example", "role": "caseworker"},
    )
    assert response.status_code == 409
    body = main_of(response)
    assert 'id="id_username-error"' in body and "This username is taken" in body
    assert 'aria-describedby="id_username-error"' in body


def test_invite_refuses_bad_input_next_to_the_field(sign_in, world):
    response = sign_in(world.b.focal_point).post(
        "/console/organisation/members/invite",
        {"username": "x", "email": "not-an-address", "role": "focal_point"},
    )
    assert response.status_code == 400
    body = main_of(response)
    assert 'id="id_email-error"' in body and 'id="id_role-error"' in body
    assert not Membership.objects.filter(user__username="x").exists()


def test_the_roles_offered_are_the_services_own(sign_in, world, monkeypatch):
    import console.focal_forms

    monkeypatch.setattr(console.focal_forms, "ROLES_A_FOCAL_POINT_MAY_GIVE", ("viewer",))
    body = main_of(sign_in(world.b.focal_point).get("/console/organisation/members/invite"))
    assert 'value="viewer"' in body and 'value="caseworker"' not in body


def test_change_role(sign_in, world):
    client = sign_in(world.b.focal_point)
    target = membership_of(world.b.caseworker)
    response = client.post(f"/console/organisation/members/{target.pk}", {"role": "viewer"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == "viewer"
    assert "is now: Viewer." in main_of(client.get(response["Location"]))


def test_the_focal_points_own_role_is_refused_next_to_the_field(sign_in, world):
    own = membership_of(world.b.focal_point)
    response = sign_in(world.b.focal_point).post(
        f"/console/organisation/members/{own.pk}", {"role": "viewer"}
    )
    assert response.status_code == 400
    assert 'id="id_role-error"' in main_of(response)
    assert "appoints another focal point" in main_of(response)
    own.refresh_from_db()
    assert own.role == "focal_point"


def test_a_role_rule_changed_in_the_service_shows_without_touching_the_view(sign_in, world, monkeypatch):
    from common.errors import Conflict

    def refuse(**_arguments):
        raise Conflict("Changed in the service.", code="not_a_console_code", field="role")

    monkeypatch.setattr(partner_services, "membership_set_role", refuse)
    target = membership_of(world.b.caseworker)
    response = sign_in(world.b.focal_point).post(
        f"/console/organisation/members/{target.pk}", {"role": "viewer"}
    )
    assert response.status_code == 409
    assert "Changed in the service." in main_of(response)


def test_deactivate_asks_first_then_signs_the_member_out(sign_in, world, client):
    target = membership_of(world.b.caseworker)
    other = type(client)()
    other.force_login(world.b.caseworker)
    fp = sign_in(world.b.focal_point)
    confirm = fp.get(f"/console/organisation/members/{target.pk}/deactivate")
    assert confirm.status_code == 200 and "Yes, deactivate" in main_of(confirm)
    target.refresh_from_db()
    assert target.is_active
    response = fp.post(f"/console/organisation/members/{target.pk}/deactivate")
    assert response.status_code == 302 and response["Location"] == "/console/organisation/members"
    target.refresh_from_db()
    assert not target.is_active
    assert other.get("/console/").status_code == 302  # the member's own session ended


def test_deactivating_the_focal_point_is_refused_with_the_services_words(sign_in, world):
    own = membership_of(world.b.focal_point)
    response = sign_in(world.b.focal_point).post(f"/console/organisation/members/{own.pk}/deactivate")
    assert response.status_code == 400
    assert "The focal point cannot be deactivated" in main_of(response)


def test_unlock_clears_a_lockout(sign_in, world, settings):
    target = membership_of(world.b.caseworker)
    AccessAttempt.objects.create(
        username=world.b.caseworker.username, ip_address="10.0.0.1", failures_since_start=9, user_agent="x"
    )
    client = sign_in(world.b.focal_point)
    response = client.post(f"/console/organisation/members/{target.pk}/unlock")
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=world.b.caseworker.username).exists()
    assert "can sign in again" in main_of(client.get(response["Location"]))
    response = client.post(f"/console/organisation/members/{target.pk}/unlock")
    assert "was not locked out" in main_of(client.get(response["Location"]))


def test_resend_activation_link(sign_in, world, django_capture_on_commit_callbacks):
    fp = world.b.focal_point
    membership = partner_services.member_add(
        actor=fp, organisation=world.b, username="late", email="late@b.example", role="caseworker"
    )
    client = sign_in(fp)
    assert "Send a new activation link" in main_of(
        client.get(f"/console/organisation/members/{membership.pk}")
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/organisation/members/{membership.pk}/activation-link")
    assert response.status_code == 302 and len(mail.outbox) == 1


def test_resend_to_an_activated_member_is_a_conflict_in_words(sign_in, world):
    target = membership_of(world.b.caseworker)
    response = sign_in(world.b.focal_point).post(f"/console/organisation/members/{target.pk}/activation-link")
    assert response.status_code == 409
    assert "has already chosen a password" in main_of(response)


@pytest.mark.parametrize("suffix", ["", "/deactivate"])
def test_another_organisations_member_is_the_same_404_as_a_missing_one(sign_in, world, suffix):
    client = sign_in(world.b.focal_point)
    foreign = membership_of(world.a.caseworker)
    theirs = client.get(f"/console/organisation/members/{foreign.pk}{suffix}")
    missing = client.get(f"/console/organisation/members/{uuid.uuid4()}{suffix}")
    garbage = client.get(f"/console/organisation/members/not-an-id{suffix}")
    assert theirs.status_code == missing.status_code == garbage.status_code == 404
    assert main_of(theirs) == main_of(missing) == main_of(garbage)


@pytest.mark.parametrize("suffix", ["", "/deactivate", "/unlock", "/activation-link"])
def test_posting_to_another_organisations_member_is_the_same_404(sign_in, world, suffix):
    client = sign_in(world.b.focal_point)
    foreign = membership_of(world.a.caseworker)
    theirs = client.post(f"/console/organisation/members/{foreign.pk}{suffix}", {"role": "viewer"})
    missing = client.post(f"/console/organisation/members/{uuid.uuid4()}{suffix}", {"role": "viewer"})
    assert theirs.status_code == missing.status_code == 404
    assert main_of(theirs) == main_of(missing)
    foreign.refresh_from_db()
    assert foreign.is_active and foreign.role == "caseworker"


# services ---------------------------------------------------------------------------------------


def test_services_lists_the_own_organisations_services(sign_in, world):
    ServiceFactory(organisation=world.a, name="Service of A")
    body = main_of(sign_in(world.b.focal_point).get("/console/organisation/services"))
    assert world.service_b.name in body and "Service of A" not in body
    assert "Given name, Phone number" in body


def test_create_a_service(sign_in, world):
    location = LocationFactory(operation=world.b.operation)
    client = sign_in(world.b.focal_point)
    form = client.get("/console/organisation/services/new")
    assert form.status_code == 200
    assert 'name="response_hours_emergency" value="24"' in page(form)  # the model's default target
    response = client.post(
        "/console/organisation/services/new",
        service_post(locations=[str(location.pk)], outcome_due_days="30", sexes=["female"], min_age="18"),
    )
    assert response.status_code == 302, main_of(response)
    service = Service.objects.get(organisation=world.b, name="Legal aid B")
    assert response["Location"] == f"/console/organisation/services/{service.pk}"
    assert service.languages == ["en", "sw"] and service.outcome_due_days == 30
    assert service.sexes == ["female"] and service.min_age == 18
    assert list(service.locations.all()) == [location]


def test_turn_accepting_referrals_off(sign_in, world):
    service = world.service_b
    client = sign_in(world.b.focal_point)
    edit = main_of(client.get(f"/console/organisation/services/{service.pk}"))
    assert 'name="is_accepting_referrals"' in edit and "Protection concerns" in edit
    response = client.post(
        f"/console/organisation/services/{service.pk}",
        service_post(
            service,
            is_accepting_referrals=None,
            optional_fields=service.optional_fields,
            outcome_due_days="",
        ),
    )
    assert response.status_code == 302, main_of(response)
    service.refresh_from_db()
    assert not service.is_accepting_referrals
    assert service.outcome_due_days is None


def test_every_service_problem_shows_next_to_its_field(sign_in, world):
    service = world.service_b
    response = sign_in(world.b.focal_point).post(
        f"/console/organisation/services/{service.pk}",
        service_post(
            service,
            response_hours_urgent="0",
            optional_fields=["given_name"],
            min_age="30",
            max_age="10",
            languages="english!",
        ),
    )
    assert response.status_code == 400
    body = main_of(response)
    for field in ("response_hours_urgent", "optional_fields", "max_age", "languages"):
        assert f'id="id_{field}-error"' in body, field
    assert "A response target is a whole number of hours from 1 to 8760." in body
    assert "cannot be both required and optional" in body
    service.refresh_from_db()
    assert service.response_hours_urgent == 72


def test_bad_input_is_named_next_to_the_field(sign_in, world):
    service = world.service_b
    response = sign_in(world.b.focal_point).post(
        f"/console/organisation/services/{service.pk}", service_post(service, response_hours_normal="soon")
    )
    assert response.status_code == 400
    assert 'id="id_response_hours_normal-error"' in main_of(response)


def test_a_service_rule_changed_in_the_service_layer_shows_without_touching_the_view(
    sign_in, world, monkeypatch
):
    real = partner_services.service_data_problems

    def stricter(data, *, current=None):
        extra = [Problem(field="languages", code="new_rule", message="A new rule about languages.")]
        return real(data, current=current) + (extra if "fr" not in data.get("languages", []) else [])

    monkeypatch.setattr(partner_services, "service_data_problems", stricter)
    service = world.service_b
    client = sign_in(world.b.focal_point)
    response = client.post(f"/console/organisation/services/{service.pk}", service_post(service))
    assert response.status_code == 400
    assert "A new rule about languages." in main_of(response)
    response = client.post(
        f"/console/organisation/services/{service.pk}", service_post(service, languages="fr")
    )
    assert response.status_code == 302


def test_a_duplicate_name_is_refused_next_to_the_name(sign_in, world):
    response = sign_in(world.b.focal_point).post(
        "/console/organisation/services/new", service_post(name=world.service_b.name)
    )
    assert response.status_code == 409
    assert 'id="id_name-error"' in main_of(response)


def test_another_organisations_service_is_the_same_404_as_a_missing_one(sign_in, world):
    theirs_service = ServiceFactory(organisation=world.a, name="Service of A")
    client = sign_in(world.b.focal_point)
    theirs = client.get(f"/console/organisation/services/{theirs_service.pk}")
    missing = client.get(f"/console/organisation/services/{uuid.uuid4()}")
    assert theirs.status_code == missing.status_code == 404
    assert main_of(theirs) == main_of(missing)
    posted = client.post(f"/console/organisation/services/{theirs_service.pk}", service_post(theirs_service))
    assert posted.status_code == 404 and main_of(posted) == main_of(missing)
    theirs_service.refresh_from_db()
    assert theirs_service.is_accepting_referrals


# webhooks ---------------------------------------------------------------------------------------


def test_register_a_webhook_shows_its_secret_once(sign_in, world):
    client = sign_in(world.b.focal_point)
    response = client.post(
        "/console/organisation/webhooks/new", {"url": URL, "events": ["new_referral", "consent_withdrawn"]}
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get(organisation=world.b)
    assert endpoint.events == ["new_referral", "consent_withdrawn"]
    assert endpoint.secret in page(response) and "shown only this once" in page(response)
    for later in ("/console/organisation/webhooks", f"/console/organisation/webhooks/{endpoint.pk}"):
        shown = client.get(later)
        assert shown.status_code == 200 and endpoint.secret not in page(shown)
    assert "New referral" in main_of(client.get("/console/organisation/webhooks"))


def test_a_private_address_is_refused_next_to_the_url(sign_in, world):
    response = sign_in(world.b.focal_point).post(
        "/console/organisation/webhooks/new", {"url": "https://10.0.0.1/hook", "events": ["new_referral"]}
    )
    assert response.status_code == 400
    body = main_of(response)
    assert 'id="id_url-error"' in body and "private, link-local or reserved" in body
    assert not WebhookEndpoint.objects.exists()


def test_webhook_list_and_page_show_the_delivery_state(sign_in, world):
    endpoint = endpoint_of(world.b, last_status="dead", last_error="http_503")
    delivery = dead_delivery(endpoint)
    client = sign_in(world.b.focal_point)
    listing = main_of(client.get("/console/organisation/webhooks"))
    assert "Failed; in the dead letters" in listing and "http_503" in listing
    detail = main_of(client.get(f"/console/organisation/webhooks/{endpoint.pk}"))
    assert delivery.message_id in detail and "Dead letter: no more retries" in detail and "HTTP 503" in detail
    assert f"/console/organisation/webhook-deliveries/{delivery.pk}/replay" in detail


def test_update_events_and_pause(sign_in, world):
    endpoint = endpoint_of(world.b)
    client = sign_in(world.b.focal_point)
    response = client.post(
        f"/console/organisation/webhooks/{endpoint.pk}", {"url": URL, "events": ["referral_escalated"]}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["referral_escalated"] and not endpoint.is_active


def test_update_without_events_is_refused_next_to_the_field(sign_in, world):
    endpoint = endpoint_of(world.b)
    response = sign_in(world.b.focal_point).post(
        f"/console/organisation/webhooks/{endpoint.pk}", {"url": URL, "is_active": "on"}
    )
    assert response.status_code == 400 and 'id="id_events-error"' in main_of(response)


def test_rotate_the_secret_shows_the_new_one_once(sign_in, world):
    endpoint = endpoint_of(world.b)
    response = sign_in(world.b.focal_point).post(
        f"/console/organisation/webhooks/{endpoint.pk}/rotate-secret"
    )
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == "whsec_dGVzdA==" and endpoint.secret in page(response)
    assert "Previous secret signs until" in page(response)


def test_delete_asks_first(sign_in, world):
    endpoint = endpoint_of(world.b)
    client = sign_in(world.b.focal_point)
    assert "Yes, delete" in main_of(client.get(f"/console/organisation/webhooks/{endpoint.pk}/delete"))
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    response = client.post(f"/console/organisation/webhooks/{endpoint.pk}/delete")
    assert response.status_code == 302 and not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_replay_a_dead_letter(sign_in, world):
    delivery = dead_delivery(endpoint_of(world.b))
    client = sign_in(world.b.focal_point)
    response = client.post(f"/console/organisation/webhook-deliveries/{delivery.pk}/replay")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    # a second replay: no longer a dead letter, said in words
    response = client.post(f"/console/organisation/webhook-deliveries/{delivery.pk}/replay")
    assert "Only a dead letter can be sent again." in main_of(client.get(response["Location"]))


def test_a_caseworker_is_refused_the_webhook_pages(sign_in, world):
    endpoint = endpoint_of(world.b)
    client = sign_in(world.b.caseworker)
    for url in (
        f"/console/organisation/webhooks/{endpoint.pk}",
        f"/console/organisation/webhooks/{endpoint.pk}/delete",
    ):
        assert client.get(url).status_code == 403
    assert client.post(f"/console/organisation/webhooks/{endpoint.pk}/rotate-secret").status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.secret == "whsec_dGVzdA=="


@pytest.mark.parametrize("suffix", ["", "/delete"])
def test_another_organisations_webhook_is_the_same_404_as_a_missing_one(sign_in, world, suffix):
    theirs_endpoint = endpoint_of(world.a)
    client = sign_in(world.b.focal_point)
    theirs = client.get(f"/console/organisation/webhooks/{theirs_endpoint.pk}{suffix}")
    missing = client.get(f"/console/organisation/webhooks/{uuid.uuid4()}{suffix}")
    assert theirs.status_code == missing.status_code == 404
    assert main_of(theirs) == main_of(missing)


@pytest.mark.parametrize("suffix", ["/rotate-secret", "/delete"])
def test_posting_to_another_organisations_webhook_is_the_same_404(sign_in, world, suffix):
    theirs_endpoint = endpoint_of(world.a)
    client = sign_in(world.b.focal_point)
    theirs = client.post(f"/console/organisation/webhooks/{theirs_endpoint.pk}{suffix}")
    missing = client.post(f"/console/organisation/webhooks/{uuid.uuid4()}{suffix}")
    assert theirs.status_code == missing.status_code == 404 and main_of(theirs) == main_of(missing)
    theirs_endpoint.refresh_from_db()
    assert theirs_endpoint.secret == "whsec_dGVzdA=="


def test_replaying_another_organisations_delivery_is_the_same_404(sign_in, world):
    delivery = dead_delivery(endpoint_of(world.a))
    client = sign_in(world.b.focal_point)
    theirs = client.post(f"/console/organisation/webhook-deliveries/{delivery.pk}/replay")
    missing = client.post(f"/console/organisation/webhook-deliveries/{uuid.uuid4()}/replay")
    assert theirs.status_code == missing.status_code == 404 and main_of(theirs) == main_of(missing)
    delivery.refresh_from_db()
    assert delivery.status == "dead"


def test_webhook_list_follows_the_selector(sign_in, world, monkeypatch):
    import console.focal
    from common.errors import PermissionDenied

    def refuse(*, user):
        raise PermissionDenied("Webhooks are closed for now.", code="new_webhook_rule")

    monkeypatch.setattr(console.focal, "webhook_endpoint_list_visible", refuse)
    response = sign_in(world.b.focal_point).get("/console/organisation/webhooks")
    assert response.status_code == 403 and "Webhooks are closed for now." in page(response)


# page cost --------------------------------------------------------------------------------------


def test_members_page_costs_the_same_whatever_the_number_of_members(
    sign_in, world, django_assert_num_queries
):
    client = sign_in(world.b.focal_point)
    client.get("/console/organisation/members")
    # session, user, membership, the list, the unread badge
    with django_assert_num_queries(5):
        client.get("/console/organisation/members")
    for n in range(3):
        partner_services.member_add(
            actor=world.b.focal_point,
            organisation=world.b,
            username=f"more{n}",
            email=f"m{n}@b.example",
            role="viewer",
        )
    with django_assert_num_queries(5):
        client.get("/console/organisation/members")
