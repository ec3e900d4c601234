"""The officer's send flow, the sent list and "information given", through the real URLs.

Two worlds: tests/referrals/referral_setup (A refers to B's service, no pathway) and the demo
operation with its published pathways (tests/pathways/conftest.Demo): UNHCR's protection desk refers
along "GBV response — Kakuma" to WPA's GBV case management.
"""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import transaction
from django.test import override_settings

from consent.models import Person
from partners.models import Service
from referrals import services
from referrals.models import InformationGiven, Referral
from tests.conftest import PASSWORD
from tests.factories import ConsentRecordFactory, PersonFactory
from tests.pathways.conftest import FAST_HASHERS, Demo

pytestmark = pytest.mark.django_db


def send_url(person, **query):
    from django.utils.http import urlencode

    return f"/console/people/{person.pk}/send" + (f"?{urlencode(query, doseq=True)}" if query else "")


def hidden(body: str, name: str) -> list[str]:
    """The values of the send form's hidden inputs called ``name``."""
    send_form = body[body.index('class="stack send"') :]
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', send_form)


def send_data(body: str, note: str = "") -> dict:
    data = {name: hidden(body, name)[0] for name in ("need", "service", "pathway", "consent", "urgency")}
    data.update(
        optional=hidden(body, "optional"), idempotency_key=hidden(body, "idempotency_key")[0], note=note
    )
    data["csrfmiddlewaretoken"] = ""
    return data


def main_of(response) -> str:
    """The page's <main>: the header differs only by the language form's return address."""
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def travelling(body: str) -> list[str]:
    section = body[body.index('id="travels-heading"') : body.index('id="withheld-heading"')]
    return re.findall(r'data-field="([^"]+)"', section)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Built once per module in a transaction rolled back at the end; each test runs in a savepoint."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        demo = Demo()
        for username in ("peter.unhcr", "joy.wpa"):
            user = demo.user(username)
            user.set_password(PASSWORD)
            user.save()
        yield demo
        transaction.set_rollback(True)


@pytest.fixture
def survivor(demo):
    """A woman registered by UNHCR, with a consent for GBV case management along the pathway."""
    unhcr = demo.service("UNHCR", "Protection desk Kakuma").organisation
    person = PersonFactory(organisation=unhcr, given_name="Halima", best_time_to_call="evenings")
    ConsentRecordFactory(
        person=person,
        obtained_by=demo.user("peter.unhcr"),
        purposes=["gbv_case_management", "mhpss"],
        recipient_scope="pathway",
        data_categories=["given_name", "phone", "best_time_to_call", "preferred_language", "narrative"],
    )
    return person


@pytest.fixture
def officer(demo, sign_in):
    return sign_in(demo.user("peter.unhcr"))


# the steps ---------------------------------------------------------------------------------


def test_the_first_step_asks_for_the_need_among_the_directorys_categories(officer, survivor):
    response = officer.get(send_url(survivor))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<option value="gbv_case_management"' in body and '<option value="cash"' in body
    assert 'aria-current="step">Need' in body


def test_an_unknown_need_is_refused_next_to_its_field(officer, survivor):
    response = officer.get(send_url(survivor, need="no_such_need", urgency="normal"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_need-errors"' in body and 'aria-describedby="id_need-errors"' in body


def test_a_need_with_a_pathway_offers_the_pathway_or_the_directory(officer, survivor, demo):
    body = officer.get(send_url(survivor, need="gbv_case_management", urgency="normal")).content.decode()
    assert "GBV response — Kakuma" in body
    assert f'value="{demo.pathways["gbv"].pk}"' in body and 'value="directory"' in body


def test_the_pathways_next_steps_are_those_the_person_is_eligible_for(officer, survivor, demo):
    pathway = demo.pathways["gbv"]
    body = officer.get(
        send_url(survivor, need="gbv_case_management", urgency="normal", route=pathway.pk)
    ).content.decode()
    gbv = demo.service("WPA", "GBV case management")
    assert f"service={gbv.pk}" in body and "matches the need" in body
    assert "Women and girls safe space" not in body  # an entry, not a next step of the desk


def test_a_need_without_a_pathway_goes_to_the_directory(officer, survivor, demo):
    body = officer.get(send_url(survivor, need="cash", urgency="normal")).content.decode()
    cash = demo.service("KRWG", "Community cash for work")
    assert f"service={cash.pk}" in body and "Not accepting referrals" in body


def test_the_preview_lists_what_travels_and_what_is_withheld_and_why(officer, survivor, demo):
    gbv = demo.service("WPA", "GBV case management")
    response = officer.get(send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert travelling(body) == ["given_name", "phone", "best_time_to_call", "preferred_language"]
    withheld = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", body))
    assert withheld["Case narrative"] == "Optional, not chosen"
    assert withheld["Protection concerns"] == "Optional, not chosen"
    assert withheld["Family name"] == "Not asked for by the service"
    assert "GBV response — Kakuma" in body and hidden(body, "idempotency_key")[0]


def test_a_chosen_optional_field_outside_the_consent_is_shown_withheld_and_refused(officer, survivor, demo):
    gbv = demo.service("WPA", "GBV case management")
    response = officer.get(
        send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk, optional=["protection_concerns"])
    )
    assert response.status_code == 400
    body = response.content.decode()
    withheld = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", body))
    assert withheld["Protection concerns"] == "Not in the consent"
    assert 'id="id_optional-errors"' in body and "The consent does not cover every optional field" in body
    assert 'class="stack send"' not in body  # nothing to send until the choice is changed


def test_fields_that_travel_are_exactly_the_preview(officer, survivor, demo):
    gbv = demo.service("WPA", "GBV case management")
    query = {
        "service": gbv.pk,
        "pathway": demo.pathways["gbv"].pk,
        "optional": ["narrative"],
        "urgency": "urgent",
    }
    body = officer.get(send_url(survivor, **query)).content.decode()
    shown = travelling(body)
    assert "Your note travels with the referral" in body
    response = officer.post(send_url(survivor), send_data(body, note="Asks for a woman caseworker."))
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/referrals/{referral.pk}"
    assert referral.shared_fields == shown
    assert referral.pathway == demo.pathways["gbv"] and referral.pathway_link is not None
    assert referral.from_service == demo.service("UNHCR", "Protection desk Kakuma")
    assert referral.urgency == "urgent" and referral.payload["narrative"] == "Asks for a woman caseworker."


def test_a_double_click_or_a_resubmitted_form_sends_once(officer, survivor, demo):
    gbv = demo.service("WPA", "GBV case management")
    body = officer.get(send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk)).content.decode()
    data = send_data(body)
    first = officer.post(send_url(survivor), data)
    second = officer.post(send_url(survivor), data)
    assert Referral.objects.count() == 1
    assert first["Location"] == second["Location"]
    page = officer.get(second["Location"]).content.decode()
    assert "This referral was already sent" in page


def test_a_new_preview_gives_a_new_key(officer, survivor, demo):
    gbv = demo.service("WPA", "GBV case management")
    url = send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk)
    assert hidden(officer.get(url).content.decode(), "idempotency_key") != hidden(
        officer.get(url).content.decode(), "idempotency_key"
    )


def test_a_closed_service_is_refused_in_the_preview_with_nothing_to_send(world, sign_in):
    Service.objects.filter(pk=world.service_b.pk).update(is_accepting_referrals=False)
    response = sign_in(world.a.caseworker).get(send_url(world.person, service=world.service_b.pk))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This service is not accepting referrals now" in body and 'role="alert"' in body
    assert 'class="stack send"' not in body


def test_an_alternative_is_one_click_from_its_preview(officer, survivor, demo):
    gbv, cmr = demo.service("WPA", "GBV case management"), demo.service("TCHD", "Clinical management of rape")
    Service.objects.filter(pk=gbv.pk).update(is_accepting_referrals=False)
    safe_space = demo.service("WPA", "Women and girls safe space")
    Service.objects.filter(pk=safe_space.pk).update(category=gbv.category)  # another service of the kind
    response = officer.get(send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk))
    assert response.status_code == 400
    body = response.content.decode()
    links = re.findall(r'<li><a href="([^"]+)" class="offer">Preview ([^<]+)</a>', body)
    assert [name for _url, name in links] == ["Women and girls safe space (WPA)"]
    alternative = officer.get(links[0][0].replace("&amp;", "&"))
    assert alternative.status_code in (200, 400)
    assert "Women and girls safe space, " in alternative.content.decode()
    assert cmr.name not in body


def test_a_refusal_of_the_service_is_shown_at_the_top_with_its_status(officer, survivor, demo):
    consent = survivor.consents.get()
    ConsentRecordFactory(person=survivor, obtained_by=consent.obtained_by, purposes=["cash"])
    ConsentRecordFactory._meta.model.objects.filter(pk=consent.pk).delete()
    gbv = demo.service("WPA", "GBV case management")
    response = officer.get(send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body or 'id="id_consent-errors"' in body
    assert "The consent does not cover this need." in body


def test_without_a_consent_in_force_nothing_can_be_sent(officer, survivor, demo):
    survivor.consents.all().delete()
    gbv = demo.service("WPA", "GBV case management")
    response = officer.get(send_url(survivor, service=gbv.pk))
    assert response.status_code == 409
    assert "no consent record in force" in response.content.decode()


# the rules are the services' ----------------------------------------------------------------


def test_a_rule_changed_in_the_disclosure_shows_in_the_preview(officer, survivor, demo, monkeypatch):
    from referrals import disclosure

    gbv = demo.service("WPA", "GBV case management")
    url = send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk)
    assert "phone" in travelling(officer.get(url).content.decode())
    original = disclosure.disclosure_for

    def without_phone(**sets):
        sets["consented"] = set(sets["consented"]) - {"phone"}
        return original(**sets)

    monkeypatch.setattr(disclosure, "disclosure_for", without_phone)
    body = officer.get(url).content.decode()
    assert "phone" not in travelling(body)
    assert "Phone number</td><td>Not in the consent" in body


def test_a_rule_changed_in_the_next_steps_selector_shows_in_the_page(officer, survivor, demo, monkeypatch):
    import console.sending

    url = send_url(survivor, need="gbv_case_management", urgency="normal", route=demo.pathways["gbv"].pk)
    assert "No next step of this pathway is open" not in officer.get(url).content.decode()
    monkeypatch.setattr(console.sending, "pathway_next_steps", lambda **kwargs: [])
    assert "No next step of this pathway is open" in officer.get(url).content.decode()


def test_a_refusal_added_to_the_send_check_shows_in_the_preview(officer, survivor, demo, monkeypatch):
    from common.errors import Conflict

    def closed(*args, **kwargs):
        raise Conflict("Closed for the holidays.", code="closed_for_holidays", field="to_service")

    monkeypatch.setattr(services, "_check_receiver_takes_it", closed)
    gbv = demo.service("WPA", "GBV case management")
    response = officer.get(send_url(survivor, service=gbv.pk, pathway=demo.pathways["gbv"].pk))
    assert response.status_code == 409 and "Closed for the holidays." in response.content.decode()


# who may see it -----------------------------------------------------------------------------


def test_another_organisations_person_is_the_same_404_as_a_missing_one(officer, demo):
    wpa = demo.service("WPA", "GBV case management").organisation
    theirs = PersonFactory(organisation=wpa)
    missing = officer.get("/console/people/00000000-0000-0000-0000-000000000000/send")
    other = officer.get(send_url(theirs))
    other_preview = officer.get(send_url(theirs, service=demo.service("WPA", "GBV case management").pk))
    garbage = officer.get("/console/people/not-an-id/send")
    assert missing.status_code == other.status_code == other_preview.status_code == garbage.status_code == 404
    assert main_of(missing) == main_of(other) == main_of(other_preview) == main_of(garbage)
    assert officer.post(send_url(theirs), {}).status_code == 404
    assert Person.objects.filter(pk=theirs.pk).exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client, world):
    for url in (send_url(world.person), "/console/sent"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/console/sign-in")


def test_the_send_needs_the_csrf_token(world, sign_in):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.a.caseworker)
    response = strict.post(send_url(world.person), {"service": world.service_b.pk})
    assert response.status_code == 403 and not Referral.objects.exists()


# the world without a pathway -----------------------------------------------------------------


def test_a_direct_referral_from_the_directory(world, sign_in):
    client = sign_in(world.a.caseworker)
    body = client.get(send_url(world.person, need="gbv_case_management", urgency="normal")).content.decode()
    assert f"service={world.service_b.pk}" in body
    body = client.get(
        send_url(world.person, service=world.service_b.pk, optional=["best_time_to_call"])
    ).content.decode()
    assert travelling(body) == ["given_name", "phone", "best_time_to_call"]
    response = client.post(send_url(world.person), send_data(body))
    referral = Referral.objects.get()
    assert response.status_code == 302 and referral.shared_fields == [
        "given_name",
        "phone",
        "best_time_to_call",
    ]
    assert referral.pathway is None


# sent list and information given --------------------------------------------------------------


def test_the_sent_list_shows_status_due_by_overdue_and_outcome_in_words(world, sign_in):
    done = world.send()
    for action in ("accept", "complete"):
        services.referral_transition(
            actor=world.b.caseworker, referral=done, action=action, outcome="service_provided"
        )
    late = world.send()
    Referral.objects.filter(pk=late.pk).update(due_by=late.due_by.replace(year=2020))
    client = sign_in(world.a.caseworker)
    body = client.get("/console/sent").content.decode()
    assert done.reference in body and late.reference in body
    assert "Service provided" in body and "Completed" in body and "Overdue" in body
    assert "service_provided" not in body
    assert client.get("/console/sent?overdue=on").content.decode().count("/console/referrals/") == 1
    assert done.reference in client.get("/console/sent?status=completed").content.decode()
    assert late.reference not in client.get("/console/sent?status=completed").content.decode()


def test_the_sent_list_is_the_senders_only(world, sign_in):
    referral = world.send()
    assert referral.reference not in sign_in(world.b.caseworker).get("/console/sent").content.decode()
    assert referral.reference not in sign_in(world.c.caseworker).get("/console/sent").content.decode()


def test_the_sent_list_pages_by_keyset(world, sign_in, monkeypatch):
    import console.sending

    monkeypatch.setattr(console.sending, "PAGE_SIZE", 2)
    sent = [world.send() for _ in range(3)]
    client = sign_in(world.a.caseworker)
    body = client.get("/console/sent").content.decode()
    assert sent[2].reference in body and sent[0].reference not in body
    next_link = re.search(r'<a href="\?([^"]+)" rel="next">', body).group(1).replace("&amp;", "&")
    assert "after" in parse_qs(next_link)
    second = client.get(f"/console/sent?{next_link}").content.decode()
    assert sent[0].reference in second and sent[2].reference not in second


def test_a_bad_filter_is_named_next_to_its_field(world, sign_in):
    response = sign_in(world.a.caseworker).get("/console/sent?status=nonsense")
    assert response.status_code == 400
    assert 'id="id_status-errors"' in response.content.decode()


def test_information_given_in_two_clicks_and_counted(world, sign_in):
    client = sign_in(world.a.caseworker)
    response = client.post(
        "/console/sent/information", {"service": str(world.service_b.pk), "channel": "hotline"}
    )
    assert response.status_code == 302 and urlparse(response["Location"]).path == "/console/sent"
    row = InformationGiven.objects.get()
    assert (row.service, row.channel, row.organisation) == (world.service_b, "hotline", world.a)
    body = client.get("/console/sent").content.decode()
    assert "<td>GBV case management B</td><td>Hotline</td><td>1</td>" in body


def test_information_given_refusals_are_next_to_their_field(world, sign_in):
    response = sign_in(world.a.caseworker).post(
        "/console/sent/information", {"service": str(world.service_b.pk)}
    )
    assert response.status_code == 400
    assert 'id="info-channel-errors"' in response.content.decode()
    assert not InformationGiven.objects.exists()


def test_a_viewer_is_refused_information_given_by_the_service(world, sign_in):
    response = sign_in(world.a.viewer).post(
        "/console/sent/information", {"service": str(world.service_b.pk), "channel": "phone"}
    )
    assert response.status_code == 403 and not InformationGiven.objects.exists()
