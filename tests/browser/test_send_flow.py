"""A protection officer sends a referral along a pathway in a real browser and, once the receiving
side has completed it, reads the outcome on the sent list; then the whole send flow again with the
keyboard only. No JavaScript error, no request to another origin."""

import pytest

from partners.models import Organisation
from referrals import services
from referrals.models import Referral
from tests.conftest import PASSWORD
from tests.factories import ConsentRecordFactory, PersonFactory
from tests.pathways.conftest import Demo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    demo = Demo()
    for username in ("peter.unhcr", "joy.wpa"):
        user = demo.user(username)
        user.set_password(PASSWORD)
        user.save()
    unhcr = Organisation.objects.get(acronym="UNHCR")
    demo.person = PersonFactory(organisation=unhcr, given_name="Halima", best_time_to_call="evenings")
    ConsentRecordFactory(
        person=demo.person,
        obtained_by=demo.user("peter.unhcr"),
        purposes=["gbv_case_management"],
        recipient_scope="pathway",
        data_categories=["given_name", "phone", "best_time_to_call", "preferred_language"],
    )
    return demo


def watched(browser, live_server):
    page = browser.new_page()
    page.errors, page.foreign = [], []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on(
        "request", lambda request: request.url.startswith(live_server.url) or page.foreign.append(request.url)
    )
    return page


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/console/sign-in")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/console/")


def tab_to(page, test: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies the JavaScript predicate ``test`` (on ``el``)."""
    for _step in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {test}; }})()"):
            return
    pytest.fail(f"nothing matching {test} is reachable with Tab")


def test_officer_sends_along_a_pathway_and_sees_the_outcome(live_server, browser, demo, screenshot):
    page = watched(browser, live_server)
    sign_in(page, live_server, "peter.unhcr")
    page.goto(f"{live_server.url}/console/people/{demo.person.pk}/send")
    screenshot(page, "protection-officer-sending-need")
    page.select_option("#id_need", "gbv_case_management")
    page.check("#id_urgency_1")  # urgent
    page.click("text=Next: where to refer")
    page.check(f"input[name=route][value='{demo.pathways['gbv'].pk}']")
    screenshot(page, "protection-officer-sending-route")
    page.click("text=Next: choose the service")
    assert "matches the need" in page.inner_text("main")
    screenshot(page, "protection-officer-sending-next-steps")
    page.click("a.offer:has-text('GBV case management (WPA)')")
    page.wait_for_selector("#travels-heading")
    travels = page.eval_on_selector_all("ul.travels li", "items => items.map(li => li.dataset.field)")
    assert travels == ["given_name", "phone", "best_time_to_call", "preferred_language"]
    screenshot(page, "protection-officer-sending-preview")
    page.fill("#send-note", "Asks for a woman caseworker.")
    page.click("text=Send the referral")
    page.wait_for_selector("text=Referral sent.")
    referral = Referral.objects.get()
    assert page.url == f"{live_server.url}/console/referrals/{referral.pk}"
    assert referral.shared_fields == travels and referral.pathway == demo.pathways["gbv"]

    caseworker = demo.user("joy.wpa")
    for action in ("accept", "complete"):
        services.referral_transition(
            actor=caseworker, referral=referral, action=action, outcome="service_provided"
        )
    page.goto(f"{live_server.url}/console/sent")
    row = page.inner_text(f"tr:has-text('{referral.reference}')")
    assert "Completed" in row and "Service provided" in row
    screenshot(page, "protection-officer-sending-sent")

    # information given, two clicks
    page.select_option("#info-service", label="Safe shelter (WPA)")
    page.check("#info-channel_2")  # hotline
    page.click("button:has-text('Count it')")
    page.wait_for_selector("table.counts")
    assert "Counted: information given about Safe shelter." in page.inner_text("main")
    assert "Hotline" in page.inner_text("table.counts")
    assert page.errors == [] and page.foreign == []


def test_the_whole_send_flow_by_keyboard_only(live_server, browser, demo):
    page = watched(browser, live_server)
    sign_in(page, live_server, "peter.unhcr")
    page.goto(f"{live_server.url}/console/people/{demo.person.pk}/send")

    # 1. the need: a select answers the arrow keys; the urgency radios too
    tab_to(page, "el.id === 'id_need'")
    for _step in range(40):
        if page.evaluate("document.activeElement.value") == "gbv_case_management":
            break
        page.keyboard.press("ArrowDown")
    else:
        pytest.fail("the need is not reachable with the arrow keys")
    tab_to(page, "el.name === 'urgency'")
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'submit' && el.textContent.includes('where to refer')")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=route]")

    # 2. the pathway: the first radio of the group, chosen with Space
    tab_to(page, "el.name === 'route'")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.value") == str(demo.pathways["gbv"].pk)
    tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_selector("a.offer")

    # 3. the service: a link, followed with Enter
    tab_to(page, "el.classList.contains('offer')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#travels-heading")

    # 4. an optional field ticked with Space, the preview shown again with Enter
    tab_to(page, "el.name === 'optional' && el.value === 'age_band'")
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Show again')")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Not in the consent")
    # age band is outside the consent: refused next to the optional fields, and nothing to send
    assert "The consent does not cover every optional field" in page.inner_text("main")
    assert page.query_selector("#send-note") is None
    tab_to(page, "el.name === 'optional' && el.value === 'age_band'")
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Show again')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#send-note")

    tab_to(page, "el.id === 'send-note'")
    page.keyboard.type("Prefers mornings.")
    tab_to(page, "el.type === 'submit' && el.textContent.includes('Send the referral')")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Referral sent.")
    referral = Referral.objects.get()
    assert referral.to_service == demo.service("WPA", "GBV case management")
    assert "age_band" not in referral.shared_fields
    # the refused preview answers 400 on purpose, which Chromium logs; nothing else may be logged
    refused = "the server responded with a status of 400"
    assert [error for error in page.errors if refused not in error] == [] and page.foreign == []
