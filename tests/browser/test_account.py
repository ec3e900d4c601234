"""A new member opens the activation link mailed to them, chooses a password, signs in, sees the
unread badge, opens their notifications and marks them all read; in the demo, a persona is one
click away. In a real browser against a live server: no JavaScript error, nothing from elsewhere."""

import re

import pytest

from partners import services
from partners.models import Membership
from referrals.models import Notification
from tests.factories import UserFactory
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "plum-orbit-candle-42"


def watched_page(browser, live_server):
    page = browser.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))
    return page, errors, foreign


def test_a_new_member_activates_signs_in_and_reads_their_notifications(
    live_server, browser, screenshot, settings, mailoutbox
):
    settings.ACCOUNT_ACTIVATION_URL = live_server.url + "/console/activate#token={token}"
    world = build_world()
    membership = services.member_add(
        actor=world.b.focal_point,
        organisation=world.b,
        username="amani.b",
        first_name="Amani",
        email="amani@example.org",
        role=Membership.Role.CASEWORKER,
    )
    [link] = re.findall(r"http://\S+/console/activate#token=[\w-]+", mailoutbox[0].body)
    referral = world.send()
    for kind in (Notification.Kind.NEW_REFERRAL, Notification.Kind.REFERRAL_ESCALATED):
        Notification.objects.create(
            recipient=membership.user,
            organisation=world.b,
            kind=kind,
            referral=referral,
            reference=referral.reference,
            link=f"/api/v1/referrals/{referral.pk}",
        )
    page, errors, foreign = watched_page(browser, live_server)

    page.goto(link)
    # the script took the token from the fragment, hid its field and cleaned the address bar
    assert page.url == f"{live_server.url}/console/activate"
    assert not page.is_visible("#id_token")
    page.fill("#id_new_password", "short")
    page.fill("#id_new_password_again", "short")
    page.click("button:has-text('Set my password')")
    assert "too short" in page.inner_text("#id_new_password-error")
    assert page.get_attribute("#id_new_password", "aria-describedby") == "id_new_password-error"
    # the refusal is a 400 page, which Chromium reports on its console: that one is expected
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    errors.clear()
    page.fill("#id_new_password", NEW_PASSWORD)
    page.fill("#id_new_password_again", NEW_PASSWORD)
    screenshot(page, "account-activate")
    page.click("button:has-text('Set my password')")
    page.wait_for_url(f"{live_server.url}/console/sign-in")
    assert "Your password is set" in page.inner_text("main")

    page.fill("#id_username", "amani.b")
    page.fill("#id_password", NEW_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/console/")
    assert page.inner_text("header .badge") == "2 unread"

    page.click("header a[href='/console/notifications']")
    page.wait_for_url(f"{live_server.url}/console/notifications")
    main = page.inner_text("main")
    assert "New referral" in main and "Referral overdue" in main and "new_referral" not in main
    assert page.locator(f"main a[href='/console/referrals/{referral.pk}']").count() == 2
    screenshot(page, "account-notifications")
    page.click("button:has-text('Mark all read')")
    page.wait_for_url(f"{live_server.url}/console/notifications")
    assert "Every notification is marked read." in page.inner_text("main")
    assert page.locator("header .badge").count() == 0
    assert not Notification.objects.filter(recipient=membership.user, read_at__isnull=True).exists()

    page.goto(f"{live_server.url}/console/account")
    screenshot(page, "account-page")
    assert errors == [] and foreign == []


def test_the_demo_persona_page_signs_in_with_one_click(live_server, browser, screenshot, settings):
    settings.DEMO_MODE = True
    for username, first, last in [
        ("peter.unhcr", "Peter", "Ochieng"),
        ("joy.wpa", "Joy", "Akinyi"),
        ("sara.wpa", "Sara", "Abdi"),
        ("amina.unhcr", "Amina", "Hassan"),
    ]:
        UserFactory(username=username, first_name=first, last_name=last, email=f"{username}@demo.invalid")
    page, errors, foreign = watched_page(browser, live_server)
    page.goto(f"{live_server.url}/console/sign-in")
    page.click("header a[href='/console/demo']")
    page.wait_for_url(f"{live_server.url}/console/demo")
    assert page.locator("main h2").all_inner_texts() == [
        "Protection officer",
        "Caseworker",
        "Focal point",
        "PSEA focal point",
    ]
    screenshot(page, "account-demo-personas")
    page.click("button:has-text('Sign in as Joy Akinyi')")
    page.wait_for_url(f"{live_server.url}/console/account")
    assert page.inner_text("header .who") == "joy.wpa"
    assert errors == [] and foreign == []
