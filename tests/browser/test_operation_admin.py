"""The operation admin, in a real browser against a live server: signs in with the second factor,
creates an organisation, records its data-sharing agreement, invites its focal point, then checks an
HSDS file with a dry run and imports it. No JavaScript error, nothing loaded from elsewhere."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from partners.models import Membership, Organisation
from tests.conftest import PASSWORD
from tests.factories import OperationFactory, PlatformAdminFactory, confirmed_totp_device, totp_code
from tests.hsds.conftest import EXAMPLES

pytestmark = pytest.mark.django_db(transaction=True)
ORGANIZATION_ID = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"  # of the official service_full.json example


def test_the_admin_sets_up_an_organisation_and_imports_a_directory(
    live_server, browser, screenshot, settings, tmp_path
):
    settings.HSDS_UPLOAD_DIR = str(tmp_path)
    OperationFactory(name="Kenya operation")
    admin = PlatformAdminFactory(username="ops.admin", first_name="Operations", last_name="Admin")
    device = confirmed_totp_device(admin)
    page = browser.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console_error(message):
        # the one refusal the test provokes answers 400 on purpose; Chromium logs any 4xx page
        provoked = message.text.startswith("Failed to load resource") and message.location["url"].endswith(
            "/agreement"
        )
        if message.type == "error" and not provoked:
            errors.append(message.text)

    page.on("console", console_error)
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))

    page.goto(f"{live_server.url}/console/operation")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp", totp_code(device))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/operation")
    assert page.inner_text("h1") == "Organisations of the operation"

    # a new organisation
    page.click("text=New organisation")
    page.fill("#id_name", "Hope Relief Kenya")
    page.fill("#id_acronym", "HRK")
    page.select_option("#id_kind", "national_ngo")
    page.select_option("#id_partnership", "implementing")
    screenshot(page, "operation-admin-new-organisation")
    page.click("text=Create the organisation")
    page.wait_for_selector("text=Organisation created.")
    organisation = Organisation.objects.get(acronym="HRK")
    assert page.url == f"{live_server.url}/console/operation/organisations/{organisation.pk}"

    # its data-sharing agreement: a wrong expiry first, shown next to the field
    signed = date.today()
    page.fill("#dsa-signed_on", signed.isoformat())
    page.fill("#dsa-expires_on", (signed - timedelta(days=1)).isoformat())
    page.click("text=Record the agreement")
    page.wait_for_selector("#dsa-expires_on-error")
    assert page.get_attribute("#dsa-expires_on", "aria-invalid") == "true"
    screenshot(page, "operation-admin-agreement-error")
    page.fill("#dsa-expires_on", (signed + timedelta(days=365)).isoformat())
    page.click("text=Record the agreement")
    page.wait_for_selector("text=The data-sharing agreement is recorded.")

    # its focal point, invited: the account is created and mailed its activation link
    page.fill("#fp-username", "amina.hrk")
    page.check("#fp-create_user")
    page.fill("#fp-email", "amina@hope.example")
    page.fill("#fp-first_name", "Amina")
    page.click("text=Appoint the focal point")
    page.wait_for_selector("text=amina.hrk is the focal point.")
    assert "has not activated the account yet" in page.inner_text("main")
    screenshot(page, "operation-admin-organisation")
    organisation.refresh_from_db()
    assert organisation.has_valid_dsa()
    focal_point = Membership.objects.get(organisation=organisation, role="focal_point", is_active=True).user
    assert focal_point.username == "amina.hrk" and not focal_point.has_usable_password()
    assert [message.to for message in mail.outbox] == [["amina@hope.example"]]

    page.click("text=Organisations")
    row = page.locator("tr", has_text="Hope Relief Kenya")
    assert "Valid" in row.inner_text() and "amina.hrk" in row.inner_text()
    screenshot(page, "operation-admin-organisations")

    # an HSDS import: the dry run first, which saves nothing
    page.click("text=Import a directory (HSDS)")
    page.set_input_files("#id_files", str(EXAMPLES / "service_full.json"))
    screenshot(page, "operation-admin-import")
    page.click("text=Check the file (dry run)")
    page.wait_for_selector("text=Dry run: nothing was saved.")
    assert not Organisation.objects.filter(pk=ORGANIZATION_ID).exists()
    screenshot(page, "operation-admin-dry-run")
    page.click("button:has-text('Run the import')")
    page.wait_for_selector("text=The import is saved")
    screenshot(page, "operation-admin-import-done")
    imported = Organisation.objects.get(pk=ORGANIZATION_ID)
    assert imported.is_active is False  # an import opens no referral channel

    # the pathway editor is one link away
    assert page.get_attribute("text=Pathway editor", "href") == "/console/pathways"
    assert get_user_model().objects.filter(username="amina.hrk").count() == 1
    assert errors == [] and foreign == []
