"""A protection officer's whole journey in one real browser run, in English and in Arabic: sign in,
register a person, record their informed consent, send a referral along a published pathway, and —
once the receiving caseworker, signed in in a browser of their own, has acknowledged, accepted and
completed it — read the outcome in words on the sent list.

Everything is found as a person finds it: by its label, its role and its visible text, in the
language of the page (the console's own catalogue gives the words). In Arabic every page of the
journey is right-to-left. No page error, no console error, no request to another origin."""

import re
from datetime import date, timedelta

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from consent.models import ConsentRecord, Person
from console.forms import OUTCOME_LABELS, STATUS_LABELS
from console.labels import FIELD_LABELS
from referrals.models import Referral
from tests.browser.test_send_flow import demo, sign_in, watched  # noqa: F401 (demo is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# what the person is called and which language they prefer, in each journey's language; and the
# outcome as the Arabic page must show it, written out so that an untranslated label cannot pass
JOURNEYS = {
    "en": {"given": "Zahra", "dir": "ltr", "completed": "Completed", "outcome": "Service provided"},
    "ar": {"given": "زهراء", "dir": "rtl", "completed": "مكتملة", "outcome": "قُدّمت الخدمة"},
}
# what the consent covers: exactly the fields GBV case management (WPA) requires
CONSENTED = ["given_name", "phone", "best_time_to_call", "preferred_language"]
# the service's optional fields: not chosen, so withheld
OPTIONAL = ["age_band", "protection_concerns", "narrative"]


class Journey:
    """One browser page of the journey, in ``lang``: ``t("Register")`` is the page's own word for it,
    and ``arrive(path)`` waits for a page and checks its language and direction. Every page the
    browser lands on after the language is chosen must have been checked so, one by one (``landed``)."""

    def __init__(self, page, live_server, lang):
        self.page, self.url, self.lang, self.dir = page, live_server.url, lang, JOURNEYS[lang]["dir"]
        self.landed, self.checked = [], []
        page.on("framenavigated", lambda frame: frame is page.main_frame and self.landed.append(frame.url))

    def t(self, text) -> str:
        with translation.override(self.lang):
            return gettext(str(text)) if isinstance(text, str) else str(text)

    def arrive(self, path: str) -> None:
        """``path`` is a regular expression for the whole path and query, ``UUID`` for an id."""
        pattern = re.compile(re.escape(self.url) + path.replace("UUID", UUID))
        self.page.wait_for_url(lambda url: pattern.fullmatch(url) is not None)
        html = self.page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
        assert html == [self.lang, self.dir], self.page.url
        self.checked.append(self.page.url)

    def choose_language(self) -> None:
        """The header's language switcher, as anyone would use it; then every page is checked."""
        if self.lang != "en":
            self.page.get_by_label("Language", exact=True).select_option(self.lang)
            self.page.get_by_role("button", name="Change language").click()
        self.arrive("/console/")
        self.landed.clear()
        self.checked.clear()

    def button(self, text):
        return self.page.get_by_role("button", name=self.t(text), exact=True)

    def link(self, text):
        return self.page.get_by_role("link", name=self.t(text), exact=True)

    def label(self, text, within=None):
        return (within or self.page).get_by_label(self.t(text), exact=True)

    def group(self, text):
        return self.page.get_by_role("group", name=self.t(text), exact=True)

    def says(self, text) -> None:
        expect(self.page.get_by_text(self.t(text), exact=True)).to_be_visible()


def labels(journey, codes):
    return [journey.t(FIELD_LABELS[code]) for code in codes]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_officer_registers_records_consent_sends_and_reads_the_outcome(live_server, browser, demo, lang):  # noqa: F811
    words = JOURNEYS[lang]
    pathway = demo.pathways["gbv"]
    page = watched(browser, live_server)
    officer = Journey(page, live_server, lang)
    sign_in(page, live_server, "peter.unhcr")  # the console's sign-in form
    officer.choose_language()

    # People → Register a person
    officer.link("People").click()
    officer.arrive("/console/people")
    officer.link("Register a person").click()
    officer.arrive("/console/people/new")
    officer.label(FIELD_LABELS["given_name"]).fill(words["given"])
    officer.label(FIELD_LABELS["family_name"]).fill("Adan")
    officer.label(FIELD_LABELS["phone"]).fill("+254 700 000 202")
    officer.label(FIELD_LABELS["best_time_to_call"]).fill("evenings")
    officer.label(FIELD_LABELS["preferred_language"]).fill(lang)
    officer.label(FIELD_LABELS["sex"]).select_option("female")
    officer.label(FIELD_LABELS["age_band"]).select_option("18_59")
    officer.button("Register").click()
    officer.arrive("/console/people/UUID")
    person = Person.objects.exclude(pk=demo.person.pk).get()
    assert page.url == f"{live_server.url}/console/people/{person.pk}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{words['given']} Adan")

    # Record consent: oral, for the pathway's purpose, with the pathway's organisations
    officer.link("Record consent").click()
    officer.arrive(f"/console/people/{person.pk}/consent/new")
    officer.label("Oral").check()
    purposes = officer.group("For which services (purposes)")
    purposes.get_by_label("GBV case management", exact=True).check()  # the category's own name
    officer.label("Any organisation on the pathway followed").check()
    shared = officer.group("Which information may be shared")
    for name in labels(officer, CONSENTED):
        shared.get_by_label(name, exact=True).check()
    officer.label("Valid until (included)").fill((date.today() + timedelta(days=90)).isoformat())
    officer.button("Record the consent").click()
    officer.arrive("/console/consents/UUID/receipt")
    record = ConsentRecord.objects.get(person=person)
    assert record.purposes == ["gbv_case_management"] and record.recipient_scope == "pathway"
    assert sorted(record.data_categories) == sorted(CONSENTED)
    officer.link("Back to the person").click()
    officer.arrive(f"/console/people/{person.pk}")

    # Send a referral, from the person page, along the published pathway
    assert pathway.status == "published"
    officer.link("Send a referral").click()
    officer.arrive(f"/console/people/{person.pk}/send")
    officer.label("What does the person need?").select_option(label="GBV case management")
    officer.label("Urgent").check()
    officer.button("Next: where to refer").click()
    officer.arrive(f"/console/people/{person.pk}/send\\?need=gbv_case_management&urgency=urgent")
    officer.label(pathway.name).check()
    officer.button("Next: choose the service").click()
    officer.arrive(
        f"/console/people/{person.pk}/send\\?need=gbv_case_management&urgency=urgent&route={pathway.pk}"
    )
    # the pathway's next step from the officer's desk
    service = officer.t("%(service)s (%(organisation)s)") % {
        "service": "GBV case management",
        "organisation": "WPA",
    }
    page.get_by_role("link", name=service, exact=True).click()
    officer.arrive(f"/console/people/{person.pk}/send\\?.*service=UUID.*")

    # the preview: what travels (the consented fields), what is withheld (the optional ones)
    travels = page.get_by_role("region", name=officer.t("These fields travel"), exact=True)
    expect(travels.get_by_role("listitem")).to_have_text(labels(officer, CONSENTED))
    withheld = page.get_by_role("region", name=officer.t("These fields are withheld"), exact=True)
    names = withheld.get_by_role("row").locator("td:first-child").all_inner_texts()
    assert set(labels(officer, OPTIONAL)) <= set(names)
    assert not set(labels(officer, CONSENTED)) & set(names)
    officer.label("Note for the receiving service").fill("Asks for a woman caseworker.")
    officer.button("Send the referral").click()
    officer.says("Referral sent.")
    officer.arrive("/console/referrals/UUID")
    referral = Referral.objects.get(person=person)
    assert page.url == f"{live_server.url}/console/referrals/{referral.pk}"
    assert referral.pathway == pathway and referral.shared_fields == CONSENTED

    # the receiving side, in a browser of its own: acknowledge, accept, complete
    other = watched(browser, live_server)
    caseworker = Journey(other, live_server, lang)
    sign_in(other, live_server, "joy.wpa")
    caseworker.choose_language()
    other.get_by_role("link", name=referral.reference, exact=True).click()
    caseworker.arrive(f"/console/referrals/{referral.pk}")
    expect(other.get_by_role("main")).to_contain_text(words["given"])
    caseworker.button("Acknowledge").click()
    caseworker.says("Referral acknowledged.")
    caseworker.arrive(f"/console/referrals/{referral.pk}")
    caseworker.button("Accept").click()
    caseworker.says("Referral accepted.")
    caseworker.arrive(f"/console/referrals/{referral.pk}")
    outcome = caseworker.group("Record the outcome")
    caseworker.label("Outcome", within=outcome).select_option(
        label=caseworker.t(OUTCOME_LABELS["service_provided"])
    )
    caseworker.label("Note", within=outcome).fill("First session held.")
    caseworker.button("Complete").click()
    caseworker.says("Outcome recorded; the referral is completed.")
    caseworker.arrive(f"/console/referrals/{referral.pk}")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED and referral.outcome == "service_provided"

    # the officer reads the outcome in words on the sent list
    officer.link("Referrals sent").click()
    officer.arrive("/console/sent")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=referral.reference, exact=True))
    expect(row.get_by_role("cell", name=words["completed"], exact=True)).to_be_visible()
    expect(row.get_by_role("cell", name=words["outcome"], exact=True)).to_be_visible()
    assert words["completed"] == officer.t(STATUS_LABELS["completed"])
    assert words["outcome"] == officer.t(OUTCOME_LABELS["service_provided"])

    for journey in (officer, caseworker):
        assert journey.checked == journey.landed  # each page, one by one
    for seen in (page, other):
        assert seen.errors == [] and seen.foreign == []
