"""A partner caseworker acknowledges, accepts and completes a referral in a real browser against a
live server: the inbox's tabs follow, no JavaScript error, nothing loaded from elsewhere."""

import pytest

from referrals.models import Referral
from tests.conftest import PASSWORD
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def watched(browser, live_server):
    page = browser.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # a page answered 400 or 404 on purpose makes Chromium log "Failed to load resource": that is
    # the point of those steps; a failed script, stylesheet or image is still an error
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and errors.append(message.text)
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and response.request.resource_type != "document"
            and errors.append(f"{response.status} {response.url}")
        ),
    )
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))
    return page, errors, foreign


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/console/sign-in")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/")


def test_caseworker_acknowledges_accepts_and_completes(live_server, browser, screenshot):
    world = build_world()
    referral = world.send(optional_fields=["best_time_to_call"])
    page, errors, foreign = watched(browser, live_server)
    sign_in(page, live_server, world.b.caseworker)
    assert referral.reference in page.inner_text("main")
    assert page.inner_text("a[href='/console/?status=sent'] .tab-count") == "1"
    screenshot(page, "caseworker-inbox")

    page.click(f"text={referral.reference}")
    page.wait_for_url(f"{live_server.url}/console/referrals/{referral.pk}")
    assert "Amal" in page.inner_text("main") and "Best time to call" in page.inner_text("main")
    screenshot(page, "caseworker-referral")
    page.click("button:has-text('Acknowledge')")
    page.wait_for_selector("text=Referral acknowledged.")
    page.click("button:has-text('Accept')")
    page.wait_for_selector("text=Referral accepted.")

    # no outcome chosen: the error is next to the field, the page answers 400
    page.click("button:has-text('Complete')")
    page.wait_for_selector("#complete-outcome-error")
    assert page.get_attribute("#complete-outcome", "aria-describedby") == "complete-outcome-error"
    screenshot(page, "caseworker-outcome-missing")
    page.select_option("#complete-outcome", "service_provided")
    page.fill("#complete-note", "First session held.")
    page.click("button:has-text('Complete')")
    page.wait_for_selector("text=Outcome recorded; the referral is completed.")
    screenshot(page, "caseworker-completed")

    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED and referral.outcome == "service_provided"
    page.goto(f"{live_server.url}/console/?status=completed")
    assert referral.reference in page.inner_text("main")
    assert errors == [] and foreign == []
