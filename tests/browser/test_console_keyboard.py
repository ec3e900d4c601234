"""A partner caseworker signs in and accepts a referral in a real browser, with the keyboard only,
against a live server; the page raises no JavaScript error and loads nothing from elsewhere."""

import pytest

from referrals.models import Referral
from tests.conftest import PASSWORD
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_caseworker_signs_in_and_accepts_a_referral_by_keyboard_only(live_server, browser):
    world = build_world()
    referral = world.send()
    page = browser.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))

    page.goto(f"{live_server.url}/console/")
    assert page.url.startswith(f"{live_server.url}/console/sign-in")
    # the first Tab reaches the skip link, then the header's language switcher, then the form
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("#id_username")
    page.keyboard.type(world.b.caseworker.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/console/")
    assert referral.reference in page.inner_text("main")

    # Tab along the page until the referral's link has the focus, then follow it
    for _step in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == referral.reference:
            break
    else:
        pytest.fail("the referral's link is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/console/referrals/{referral.pk}")
    assert "Amal" in page.inner_text("main")

    for _step in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Accept":
            break
    else:
        pytest.fail("the Accept button is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Referral accepted.")

    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    assert errors == [] and foreign == []
