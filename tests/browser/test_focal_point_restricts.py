"""The receiving focal point assigns a referral to one caseworker and restricts it: the other
caseworker no longer finds it in their inbox, and its page is the 404 of a missing one."""

import pytest

from tests.browser.test_caseworker_journey import sign_in, watched
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_focal_point_restricts_a_referral_to_one_caseworker(live_server, browser, screenshot):
    world = build_world()
    referral = world.send()
    chosen = world.b.caseworker.memberships.get(organisation=world.b)

    other, other_errors, other_foreign = watched(browser, live_server)
    sign_in(other, live_server, world.b.caseworker2)
    assert referral.reference in other.inner_text("main")

    page, errors, foreign = watched(browser.new_context(), live_server)
    sign_in(page, live_server, world.b.focal_point)
    page.goto(f"{live_server.url}/console/referrals/{referral.pk}")
    page.select_option("#assign-caseworker", str(chosen.pk))
    page.check("#assign-restrict")
    screenshot(page, "focal-point-assign")
    page.click("button:has-text('Assign')")
    page.wait_for_selector("text=Referral assigned.")
    assert "restricted" in page.inner_text("main")
    screenshot(page, "focal-point-restricted")

    other.reload()
    assert referral.reference not in other.inner_text("main")
    response = other.goto(f"{live_server.url}/console/referrals/{referral.pk}")
    assert response.status == 404
    hidden = other.inner_text("main")
    missing = other.goto(f"{live_server.url}/console/referrals/00000000-0000-0000-0000-000000000000")
    assert missing.status == 404 and other.inner_text("main") == hidden
    assert errors == other_errors == [] and foreign == other_foreign == []
