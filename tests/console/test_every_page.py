"""Every console page, checked the same way: nothing loaded from elsewhere, under the page-weight
budget, every form error next to its field, and another organisation's object answered exactly
like a missing one.

``PAGES`` names every console address with who opens it and how its address is made; a new page
that is not added here fails ``test_every_console_address_is_checked``, so none escapes the checks.
"""

import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import get_resolver, reverse

from notifications import services as notification_services
from pathways import services as pathway_services
from tests.conftest import PASSWORD
from tests.factories import (
    PlatformAdminFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    confirmed_totp_device,
    totp_code,
)
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

BUDGET = 150 * 1024  # bytes on first load: the page and everything it loads


class Place:
    """The objects the addresses need, and who opens them."""

    def __init__(self):
        self.world = world = build_world()
        self.referral = world.send()
        self.admin = PlatformAdminFactory()
        desk = ServiceFactory(
            organisation=world.a,
            category=ServiceCategoryFactory(code="protection_desk", name="Protection desk"),
            name="Protection desk A",
        )
        self.pathway = pathway_services.pathway_create(
            actor=self.admin, operation=world.a.operation, name="GBV test", theme="gbv"
        )
        self.step = pathway_services.step_add(
            actor=self.admin, pathway=self.pathway, service=desk, is_entry=True, key="desk"
        )
        target = pathway_services.step_add(
            actor=self.admin, pathway=self.pathway, service=world.service_b, key="gbv"
        )
        self.link = pathway_services.link_add(
            actor=self.admin, pathway=self.pathway, from_step=self.step, to_step=target
        )
        self.endpoint = notification_services.webhook_endpoint_register(
            actor=world.b.focal_point, url="https://hooks.b.example/referrals", events=["new_referral"]
        )
        self.membership = world.b.caseworker.memberships.get(is_active=True)


# name → (who opens it, its address arguments from a Place, GET-able page?)
# who: "officer" (A's caseworker, who sent), "caseworker" (B's), "focal" (B's focal point), "admin"
PAGES = {
    "inbox": ("caseworker", {}, True),
    "sign-in": (None, {}, True),
    "sign-out": ("caseworker", {}, False),
    "language": (None, {}, False),
    "referral": ("caseworker", {"referral_id": lambda p: p.referral.pk}, True),
    "status-check": ("officer", {"referral_id": lambda p: p.referral.pk, "action": "lock"}, False),
    "referral-act": ("caseworker", {"referral_id": lambda p: p.referral.pk, "action": "accept"}, False),
    "people": ("officer", {}, True),
    "person-new": ("officer", {}, True),
    "person": ("officer", {"person_id": lambda p: p.world.person.pk}, True),
    "person-edit": ("officer", {"person_id": lambda p: p.world.person.pk}, True),
    "consent-new": ("officer", {"person_id": lambda p: p.world.person.pk}, True),
    "request-new": ("officer", {"person_id": lambda p: p.world.person.pk}, False),
    "consent-version": ("officer", {"consent_id": lambda p: p.world.consent.pk}, True),
    "consent-withdraw": ("officer", {"consent_id": lambda p: p.world.consent.pk}, False),
    "receipt": ("officer", {"consent_id": lambda p: p.world.consent.pk}, True),
    "sent": ("officer", {}, True),
    "information-given": ("officer", {}, False),
    "send": ("officer", {"person_id": lambda p: p.world.person.pk}, True),
    "organisation": ("focal", {}, True),
    "focal-members": ("focal", {}, True),
    "focal-member-invite": ("focal", {}, True),
    "focal-member": ("focal", {"membership_id": lambda p: p.membership.pk}, True),
    "focal-member-deactivate": ("focal", {"membership_id": lambda p: p.membership.pk}, True),
    "focal-member-unlock": ("focal", {"membership_id": lambda p: p.membership.pk}, False),
    "focal-member-activation": ("focal", {"membership_id": lambda p: p.membership.pk}, False),
    "focal-services": ("focal", {}, True),
    "focal-service-new": ("focal", {}, True),
    "focal-service": ("focal", {"service_id": lambda p: p.world.service_b.pk}, True),
    "focal-webhooks": ("focal", {}, True),
    "focal-webhook-new": ("focal", {}, True),
    "focal-webhook": ("focal", {"endpoint_id": lambda p: p.endpoint.pk}, True),
    "focal-webhook-rotate": ("focal", {"endpoint_id": lambda p: p.endpoint.pk}, False),
    "focal-webhook-delete": ("focal", {"endpoint_id": lambda p: p.endpoint.pk}, True),
    "focal-webhook-replay": ("focal", {"delivery_id": lambda p: uuid.uuid4()}, False),
    "operation": ("admin", {}, True),
    "operation-organisation-new": ("admin", {}, True),
    "operation-organisation": ("admin", {"organisation_id": lambda p: p.world.b.pk}, True),
    "operation-organisation-edit": ("admin", {"organisation_id": lambda p: p.world.b.pk}, False),
    "operation-organisation-agreement": ("admin", {"organisation_id": lambda p: p.world.b.pk}, False),
    "operation-organisation-focal-point": ("admin", {"organisation_id": lambda p: p.world.b.pk}, False),
    "operation-organisation-activation": ("admin", {"organisation_id": lambda p: p.world.b.pk}, False),
    "operation-organisation-active": ("admin", {"organisation_id": lambda p: p.world.b.pk}, False),
    "operation-import": ("admin", {}, True),
    "operation-import-run": ("admin", {}, False),
    "pathways": ("admin", {}, True),
    "pathway-create": ("admin", {}, False),
    "pathway-condition-check": ("admin", {}, False),
    "pathway": ("admin", {"pathway_id": lambda p: p.pathway.pk}, True),
    "pathway-problems": ("admin", {"pathway_id": lambda p: p.pathway.pk}, True),
    "pathway-compare": ("admin", {"pathway_id": lambda p: p.pathway.pk}, True),
    "pathway-step-add": ("admin", {"pathway_id": lambda p: p.pathway.pk}, False),
    "pathway-step": ("admin", {"pathway_id": lambda p: p.pathway.pk, "step_id": lambda p: p.step.pk}, False),
    "pathway-step-remove": (
        "admin",
        {"pathway_id": lambda p: p.pathway.pk, "step_id": lambda p: p.step.pk},
        False,
    ),
    "pathway-link-add": ("admin", {"pathway_id": lambda p: p.pathway.pk}, False),
    "pathway-link": ("admin", {"pathway_id": lambda p: p.pathway.pk, "link_id": lambda p: p.link.pk}, False),
    "pathway-link-remove": (
        "admin",
        {"pathway_id": lambda p: p.pathway.pk, "link_id": lambda p: p.link.pk},
        False,
    ),
    "pathway-act": ("admin", {"pathway_id": lambda p: p.pathway.pk, "action": "publish"}, False),
    "account": ("caseworker", {}, True),
    "account-preferences": ("caseworker", {}, False),
    "password-change": ("caseworker", {}, True),
    "sign-out-everywhere": ("caseworker", {}, False),
    "second-factor": ("caseworker", {}, True),
    "second-factor-setup": ("caseworker", {}, False),
    "second-factor-confirm": ("caseworker", {}, False),
    "second-factor-remove": ("caseworker", {}, False),
    "activate": (None, {}, True),
    "notifications": ("caseworker", {}, True),
    "notifications-read": ("caseworker", {}, False),
    "demo": (None, {}, False),  # demo mode only: tests/console/test_account.py
    "demo-sign-in": (None, {}, False),
}


def console_names() -> set[str]:
    return {key.split(":", 1)[1] for key in _namespaced(get_resolver()) if key.startswith("console:")}


def _namespaced(resolver, prefix: str = "") -> set[str]:
    names = set()
    for namespace, (_pattern, sub) in resolver.namespace_dict.items():
        for name in sub.reverse_dict:
            if isinstance(name, str):
                names.add(f"{prefix}{namespace}:{name}")
        names |= _namespaced(sub, f"{prefix}{namespace}:")
    return names


def test_every_console_address_is_checked():
    assert console_names() - set(PAGES) == set(), "add the new console pages to PAGES"
    assert set(PAGES) - console_names() == set(), "PAGES names an address that no longer exists"


@pytest.fixture
def place(db):
    return Place()


def client_for(client, place: Place, who):
    users = {
        "officer": place.world.a.caseworker,
        "caseworker": place.world.b.caseworker,
        "focal": place.world.b.focal_point,
        "admin": place.admin,
    }
    if who is None:
        return client
    user = users[who]
    fields = {"username": user.username, "password": PASSWORD}
    if who == "admin":
        fields["otp"] = totp_code(confirmed_totp_device(user))
    response = client.post("/console/sign-in", fields)
    assert response.status_code == 302, response.content.decode()[:1000]
    return client


def address(place: Place, name: str) -> str:
    _who, arguments, _page = PAGES[name]
    return reverse(
        f"console:{name}",
        kwargs={key: (value(place) if callable(value) else value) for key, value in arguments.items()},
    )


class Page(HTMLParser):
    """The parts of a page these checks read: what it loads, its fields and its error messages."""

    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.links: list[str] = []
        self.ids: dict[str, str] = {}
        self.invalid: list[dict] = []
        self.labels_for: set[str] = set()
        self.fields: list[dict] = []
        self.forms: list[tuple[str, list[str]]] = []  # (action, field names) of each POST form
        self._open_ids: list[str] = []
        self._texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href") and attrs.get("rel") in ("stylesheet", "icon", "preload"):
            self.assets.append(attrs["href"])
        if tag in ("img", "source", "video", "audio", "iframe", "embed") and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.forms.append((attrs.get("action") or "", []))
        typed = attrs.get("type") not in ("submit", "button", "checkbox", "radio", "file")
        if tag in ("input", "select", "textarea") and attrs.get("name") and self.forms and typed:
            self.forms[-1][1].append(attrs["name"])
        if tag == "label" and attrs.get("for"):
            self.labels_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit", "button"):
            self.fields.append(attrs)
            if attrs.get("aria-invalid") == "true":
                self.invalid.append(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] = tag
            self._texts[attrs["id"]] = []
            self._open_ids.append(attrs["id"])

    def handle_data(self, data):
        for element_id in self._open_ids:
            self._texts[element_id].append(data)

    def handle_endtag(self, tag):
        if self._open_ids and self.ids.get(self._open_ids[-1]) == tag:
            self._open_ids.pop()

    def text_of(self, element_id: str) -> str:
        return " ".join("".join(self._texts.get(element_id, [])).split())


def parsed(response) -> Page:
    page = Page()
    page.feed(response.content.decode())
    return page


def asset_size(url: str) -> int:
    assert url.startswith("/static/"), f"an asset from elsewhere: {url}"
    path = finders.find(url[len("/static/") :].split("?", 1)[0])
    assert path, f"{url} is not one of the project's static files"
    return Path(path).stat().st_size


GET_PAGES = sorted(name for name, (_who, _arguments, page) in PAGES.items() if page)


@pytest.mark.parametrize("name", GET_PAGES)
def test_a_page_loads_nothing_from_elsewhere_and_stays_under_the_weight_budget(client, place, name):
    who, _arguments, _page = PAGES[name]
    response = client_for(client, place, who).get(address(place, name))
    assert response.status_code == 200, (name, response.status_code)
    page = parsed(response)
    body = response.content.decode()
    for url in page.assets:
        assert not re.match(r"^(https?:)?//", url), f"{name} loads {url} from elsewhere"
    # no asset address in a style either (url(...) to another origin)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", body)
    weight = len(response.content) + sum(
        asset_size(url) for url in set(page.assets) if not url.startswith("data:")
    )
    assert weight < BUDGET, f"{name} weighs {weight} bytes on first load"
    # every field has its label
    for field in page.fields:
        assert (
            field.get("id") in page.labels_for or field.get("aria-label") or field.get("aria-labelledby")
        ), (
            name,
            field,
        )


FORM_PAGES = {
    # a form sent as a browser sends it, every field empty (or as given here), must come back with
    # its errors next to the fields
    "person-new": {"registration_number": "x" * 65},
    "person-edit": {"date_of_birth": "not a date"},
    "consent-new": {},
    "consent-version": {"expires_on": "not a date"},
    "focal-member-invite": {},
    "focal-service-new": {},
    "focal-webhook-new": {"url": "not a url"},
    "operation-organisation-new": {},
    "pathways": {},
    "password-change": {},
}


@pytest.mark.parametrize("name", sorted(FORM_PAGES))
def test_a_form_error_is_shown_next_to_its_field(client, place, name):
    who, _arguments, _page = PAGES[name]
    signed_in = client_for(client, place, who)
    form = parsed(signed_in.get(address(place, name)))
    # the page's own first form, not the header's language switcher or sign-out
    header = ("/language", "/sign-out")
    own = [(action, fields) for action, fields in form.forms if not action.endswith(header)]
    assert own, f"{name} shows no form"
    action, fields = own[0]
    data = {field: "" for field in fields if field != "csrfmiddlewaretoken"}
    data.update(FORM_PAGES[name])
    response = signed_in.post(action or address(place, name), data)
    assert 400 <= response.status_code < 500, (name, response.status_code)
    page = parsed(response)
    assert page.invalid, f"{name}: no field is marked invalid"
    for field in page.invalid:
        described = (field.get("aria-describedby") or "").split()
        messages = [page.text_of(element_id) for element_id in described if element_id in page.ids]
        assert any(messages), f"{name}: the field {field.get('name')} points to no error message"


OBJECT_PAGES = {
    # an address with another organisation's object, opened by someone of an organisation that is
    # not a party: the same page as for an id that does not exist
    "referral": ("outsider", "referral_id"),
    "person": ("outsider", "person_id"),
    "person-edit": ("outsider", "person_id"),
    "consent-new": ("outsider", "person_id"),
    "send": ("outsider", "person_id"),
    "receipt": ("outsider", "consent_id"),
    "consent-version": ("outsider", "consent_id"),
    "focal-member": ("outsider-focal", "membership_id"),
    "focal-service": ("outsider-focal", "service_id"),
    "focal-webhook": ("outsider-focal", "endpoint_id"),
}


@pytest.mark.parametrize("name", sorted(OBJECT_PAGES))
def test_another_organisations_object_is_answered_like_a_missing_one(client, place, name):
    who, argument = OBJECT_PAGES[name]
    outsider = place.world.c.caseworker if who == "outsider" else place.world.c.focal_point
    response = client.post("/console/sign-in", {"username": outsider.username, "password": PASSWORD})
    assert response.status_code == 302
    theirs = client.get(address(place, name))
    _who, arguments, _page = PAGES[name]
    missing_arguments = {
        key: (str(uuid.uuid4()) if key == argument else (value(place) if callable(value) else value))
        for key, value in arguments.items()
    }
    missing = client.get(reverse(f"console:{name}", kwargs=missing_arguments))
    assert theirs.status_code == missing.status_code == 404
    assert scrubbed(theirs) == scrubbed(missing)


def scrubbed(response) -> str:
    """The page without what differs on every response (CSRF token, CSP nonce, the address)."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'nonce="[^"]+"', "", body)
    return re.sub(r'name="next" value="[^"]+"', "", body)


@pytest.mark.parametrize("name", ["console.css", "pathway-map.css"])
def test_every_stylesheet_closes_what_it_opens(name):
    """A block left open (an @media without its brace) turns every rule after it into a rule of
    that block: the screen's rules end up applying only to print, silently."""
    path = finders.find(f"console/{name}")
    depth = 0
    text = re.sub(r"/\*.*?\*/", "", Path(path).read_text(), flags=re.S)
    for character in text:
        depth += {"{": 1, "}": -1}.get(character, 0)
        assert depth >= 0, f"{name}: a closing brace with nothing open"
    assert depth == 0, f"{name}: {depth} block(s) left open"
