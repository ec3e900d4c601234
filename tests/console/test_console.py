"""The console's pages, through the Django test client: sign-in on the shared sequence, the inbox
and a referral page drawn from the selectors and facts, transitions through the services."""

import pytest
from django.test import Client

from referrals import services
from referrals.models import AccessLog, Referral
from tests.conftest import PASSWORD
from tests.factories import confirmed_totp_device, totp_code

pytestmark = pytest.mark.django_db
# the session, the user, the membership, the page, the tab counts (by status, overdue, mine), the badge
INBOX_QUERIES = 8


def page(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    """The page's content without its header (whose forms carry the request's path and token)."""
    return page(response).split('<main id="main"', 1)[1]


# sign-in -----------------------------------------------------------------------------------------


def test_sign_in_opens_a_session_and_goes_where_the_person_was_going(client, world):
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"] == "/console/sign-in?next=/console/"
    response = client.post(
        "/console/sign-in",
        {"username": world.b.caseworker.username, "password": PASSWORD, "next": "/console/"},
    )
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_sign_in_does_not_redirect_to_another_site(client, world):
    response = client.post(
        "/console/sign-in",
        {"username": world.b.caseworker.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/console/"


def test_wrong_password_is_refused_and_counted_by_axes(client, world, settings):
    settings.AXES_FAILURE_LIMIT = 2
    user = world.b.caseworker
    for _attempt in range(2):
        response = client.post("/console/sign-in", {"username": user.username, "password": "wrong"})
        assert response.status_code in (401, 429)
    assert "_auth_user_id" not in client.session
    # the account is locked now: even the right password is refused, as on the token login
    response = client.post("/console/sign-in", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in page(response)
    assert "_auth_user_id" not in client.session


def test_an_enrolled_authenticator_needs_its_code(client, world):
    user = world.b.caseworker
    device = confirmed_totp_device(user)
    response = client.post("/console/sign-in", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 401 and "one-time code" in page(response)
    response = client.post(
        "/console/sign-in", {"username": user.username, "password": PASSWORD, "otp": totp_code(device)}
    )
    assert response.status_code == 302


def test_sign_out_ends_the_session(sign_in, world):
    client = sign_in(world.b.caseworker)
    assert client.post("/console/sign-out").status_code == 302
    assert client.get("/console/").status_code == 302


def test_csrf_is_enforced_on_sign_in_and_on_actions(world):
    referral = world.send()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/console/sign-in", {"username": world.b.caseworker.username, "password": PASSWORD}
    )
    assert response.status_code == 403
    strict.force_login(world.b.caseworker)
    response = strict.post(f"/console/referrals/{referral.pk}/accept")
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT
    # with the token of the page's form the same post goes through
    strict.get(f"/console/referrals/{referral.pk}")
    token = strict.cookies["csrftoken"].value
    response = strict.post(f"/console/referrals/{referral.pk}/accept", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED


# the inbox -------------------------------------------------------------------------------------------


def test_inbox_lists_what_the_organisation_received_and_nothing_of_others(sign_in, world):
    referral = world.send()
    inbox = page(sign_in(world.b.caseworker).get("/console/"))
    assert referral.reference in inbox and "1 referral" in inbox
    other = Client()
    other.force_login(world.c.caseworker)
    inbox = page(other.get("/console/"))
    assert referral.reference not in inbox and "0 referrals" in inbox
    # the sender's list of received referrals does not hold what it sent
    sender = Client()
    sender.force_login(world.a.caseworker)
    assert referral.reference not in page(sender.get("/console/"))


def test_inbox_filters_and_next_page_are_the_selectors(sign_in, world, monkeypatch):
    first = world.send(urgency="urgent")
    second = world.send(urgency="normal")
    client = sign_in(world.b.caseworker)
    urgent = page(client.get("/console/?urgency=urgent"))
    assert first.reference in urgent and second.reference not in urgent and "1 referral" in urgent
    assert "0 referrals" in page(client.get("/console/?mine=on"))
    services.referral_transition(actor=world.b.caseworker, referral=second, action="accept")
    accepted = page(client.get("/console/?status=accepted"))
    assert second.reference in accepted and first.reference not in accepted
    monkeypatch.setattr("console.views.PAGE_SIZE", 1)
    newest = client.get("/console/")
    assert second.reference in page(newest) and first.reference not in page(newest)
    assert "2 referrals" in page(newest)
    next_query = newest.context["next_query"]
    older = page(client.get(f"/console/?{next_query}"))
    assert first.reference in older and second.reference not in older


def test_a_bad_filter_is_shown_not_a_server_error(sign_in, world):
    world.send()
    client = sign_in(world.b.caseworker)
    for query in ("after=not-a-cursor", "status=lost"):
        response = client.get(f"/console/?{query}")
        assert response.status_code == 400
        assert "cannot be used" in page(response) and "0 referrals" in page(response)


def test_htmx_filter_request_gets_the_list_alone(sign_in, world):
    world.send()
    response = sign_in(world.b.caseworker).get("/console/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox")
    assert "<html" not in page(response) and "1 referral" in page(response)


# a referral ------------------------------------------------------------------------------------------


def test_referral_page_shows_the_payload_the_facts_allow_and_logs_the_read(sign_in, world):
    referral = world.send()
    response = sign_in(world.b.caseworker).get(f"/console/referrals/{referral.pk}")
    body = page(response)
    assert "Amal" in body and "+254700111222" in body
    assert "no-store" in response["Cache-Control"]  # personal data stays out of every cache
    assert "long narrative held by A" not in body  # not a field the referral carries
    log = AccessLog.objects.get(referral=referral)
    assert log.api == AccessLog.Api.CONSOLE and log.user == world.b.caseworker


def test_another_organisations_referral_is_the_same_404_as_a_missing_one(sign_in, world):
    referral = world.send()
    client = sign_in(world.c.caseworker)
    hidden = client.get(f"/console/referrals/{referral.pk}")
    missing = client.get("/console/referrals/00000000-0000-0000-0000-000000000000")
    assert hidden.status_code == missing.status_code == 404
    assert main_of(hidden) == main_of(missing)
    assert client.post(f"/console/referrals/{referral.pk}/accept").status_code == 404
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT
    assert not AccessLog.objects.filter(referral=referral).exists()


def test_buttons_are_the_allowed_actions(sign_in, world):
    referral = world.send()
    body = page(sign_in(world.b.caseworker).get(f"/console/referrals/{referral.pk}"))
    assert "/acknowledge" in body and "/accept" in body and "/decline" in body and "/complete" not in body
    viewer = Client()
    viewer.force_login(world.b.viewer)  # a viewer may read, not act
    body = page(viewer.get(f"/console/referrals/{referral.pk}"))
    assert "Amal" in body and "/accept" not in body and "/decline" not in body


def test_withdrawn_referral_is_a_tombstone_without_personal_data(sign_in, world):
    referral = world.send(reason_note="she fears for her safety")
    services.referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="other", note="moved away"
    )
    response = sign_in(world.b.caseworker).get(f"/console/referrals/{referral.pk}")
    body = page(response)
    assert response.status_code == 200 and referral.reference in body and "withdrawn" in body
    for personal in ("Amal", "+254700111222", "mornings", "she fears", "moved away", "given_name"):
        assert personal not in body
    assert '<form method="post" action="/console/referrals/' not in body  # no action is allowed
    assert not AccessLog.objects.filter(referral=referral).exists()


def test_accept_then_decline_refused_then_complete_through_the_forms(sign_in, world):
    referral = world.send()
    client = sign_in(world.b.caseworker)
    response = client.post(f"/console/referrals/{referral.pk}/accept", follow=True)
    assert "Referral accepted." in page(response)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    # the service refuses what the table does not allow; the console shows its message
    response = client.post(
        f"/console/referrals/{referral.pk}/decline", {"reason": "no_capacity"}, follow=True
    )
    assert 'class="error"' in page(response)
    response = client.post(f"/console/referrals/{referral.pk}/complete", {"outcome": "nonsense"}, follow=True)
    assert "An outcome is required" in page(response)
    response = client.post(
        f"/console/referrals/{referral.pk}/complete", {"outcome": "service_provided"}, follow=True
    )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED and referral.outcome == "service_provided"


def test_decline_needs_a_reason_from_the_service(sign_in, world):
    referral = world.send()
    client = sign_in(world.b.caseworker)
    response = client.post(f"/console/referrals/{referral.pk}/decline", {"reason": ""}, follow=True)
    assert "A reason is required" in page(response)
    client.post(f"/console/referrals/{referral.pk}/decline", {"reason": "no_capacity"})
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECLINED
    assert referral.events.get(kind="declined").reason_code == "no_capacity"


# language --------------------------------------------------------------------------------------------


def test_arabic_page_is_right_to_left_and_translated(client, world):
    response = client.get("/console/sign-in", HTTP_ACCEPT_LANGUAGE="ar")
    body = page(response)
    assert '<html lang="ar" dir="rtl">' in body
    assert "تسجيل الدخول" in body
    french = page(client.get("/console/sign-in", HTTP_ACCEPT_LANGUAGE="fr"))
    assert '<html lang="fr" dir="ltr">' in french and "Se connecter" in french


def test_language_switcher_sets_the_language(sign_in, world):
    client = sign_in(world.b.caseworker)
    response = client.post("/console/language", {"language": "ar", "next": "/console/"})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert 'dir="rtl"' in page(client.get("/console/"))


def test_the_page_loads_only_its_own_assets(client, world):
    body = page(client.get("/console/sign-in"))
    assert "/static/console/htmx.min.js" in body and "/static/console/console.css" in body
    assert "http://" not in body and "https://" not in body


def test_inbox_costs_the_same_queries_for_one_referral_or_many(sign_in, world, django_assert_num_queries):
    world.send()
    client = sign_in(world.b.caseworker)
    client.get("/console/")  # the session and the permission ids are cached after the first page
    with django_assert_num_queries(INBOX_QUERIES):
        client.get("/console/")
    for _extra in range(4):
        world.send()
    with django_assert_num_queries(INBOX_QUERIES):
        assert "5 referrals" in page(client.get("/console/"))
