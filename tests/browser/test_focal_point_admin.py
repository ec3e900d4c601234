"""A focal point manages the organisation in a real browser, against a live server: invites a
member, changes a role, stops a service accepting referrals, registers a webhook and sees its
secret once. No JavaScript error, no request to another origin; the guide's screenshots."""

import pytest

from notifications.models import WebhookEndpoint
from partners.models import Membership
from tests.conftest import PASSWORD
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)
HOOK = "https://cases.wpa.example.org/hooks/referral-hub"


def test_focal_point_manages_members_services_and_webhooks(live_server, browser, screenshot):
    world = build_world()
    service = world.service_b
    page = browser.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))

    page.goto(f"{live_server.url}/console/organisation")
    page.fill("#id_username", world.b.focal_point.username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{live_server.url}/console/organisation")
    assert "Valid today." in page.inner_text("main")
    screenshot(page, "focal-point-overview")

    # invite a member: the account is made, the activation link mailed
    page.click("main >> text=Members")
    page.wait_for_url(f"{live_server.url}/console/organisation/members")
    screenshot(page, "focal-point-members")
    page.click("text=Invite a member")
    page.fill("#id_username", "amina.b")
    page.fill("#id_email", "amina@b.example.org")
    page.fill("#id_first_name", "Amina")
    page.select_option("#id_role", "caseworker")
    screenshot(page, "focal-point-invite")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=amina.b is invited")
    invited = Membership.objects.get(user__username="amina.b")
    assert invited.organisation_id == world.b.pk and invited.role == "caseworker"

    # change the role on the member's page
    page.select_option("#id_role", "viewer")
    page.click("button:has-text('Change the role')")
    page.wait_for_selector("text=amina.b is now: Viewer.")
    screenshot(page, "focal-point-member")
    invited.refresh_from_db()
    assert invited.role == "viewer"

    # the service stops accepting referrals
    page.click("main nav >> text=Services")
    page.click(f"text={service.name}")
    page.wait_for_url(f"{live_server.url}/console/organisation/services/{service.pk}")
    page.uncheck("#id_is_accepting_referrals")
    screenshot(page, "focal-point-service")
    page.click("button:has-text('Save the service')")
    page.wait_for_selector("text=The service is saved.")
    service.refresh_from_db()
    assert not service.is_accepting_referrals

    # a webhook, and its secret shown this once
    page.click("main nav >> text=Webhooks")
    page.click("text=Register a webhook")
    page.fill("#id_url", HOOK)
    page.check("#id_events_0")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Copy this secret now")
    endpoint = WebhookEndpoint.objects.get(organisation=world.b)
    assert page.input_value("#secret") == endpoint.secret
    screenshot(page, "focal-point-webhook-secret")
    page.click("text=I have copied it: go to the webhook")
    page.wait_for_url(f"{live_server.url}/console/organisation/webhooks/{endpoint.pk}")
    assert endpoint.secret not in page.content()
    screenshot(page, "focal-point-webhook")

    assert errors == [] and foreign == []
