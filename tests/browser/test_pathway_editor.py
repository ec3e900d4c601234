"""An operation admin builds a pathway in a real browser: a draft, two steps, a link whose condition
is checked as it is typed, validation, publishing, the drawn map, a highlighted route — with no
JavaScript error and nothing loaded from elsewhere. The map's labels, as the browser lays them out,
overlap nothing."""

import pytest

from pathways.models import Pathway
from tests.conftest import PASSWORD
from tests.factories import (
    PlatformAdminFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    confirmed_totp_device,
    totp_code,
)
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)

OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('.map-viewport g.step rect')].map(r => r.getBBox());
  const labels = [...document.querySelectorAll('.map-viewport text.link-label')].map(t => t.getBBox());
  const meet = (a, b) =>
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  let found = 0;
  labels.forEach((l, i) => { boxes.forEach(b => { if (meet(l, b)) found++; });
    labels.slice(i + 1).forEach(o => { if (meet(l, o)) found++; }); });
  return [labels.length, found];
}"""


def test_an_admin_builds_validates_publishes_and_reads_a_pathway(live_server, browser, screenshot):
    world = build_world()
    desk = ServiceFactory(
        organisation=world.a,
        category=ServiceCategoryFactory(code="protection_desk", name="Protection desk"),
        name="Protection desk A",
    )
    admin = PlatformAdminFactory()
    device = confirmed_totp_device(admin)
    page = browser.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))

    page.goto(f"{live_server.url}/console/pathways")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp", totp_code(device))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/console/pathways")

    page.select_option("#id_operation", str(world.a.operation.pk))
    page.fill("#id_name", "GBV — camp B")
    page.select_option("#id_theme", "gbv")
    screenshot(page, "pathway-editor-list")
    page.click("text=Create a draft")
    page.wait_for_selector("text=Draft created")
    pathway = Pathway.objects.get(name="GBV — camp B")

    page.select_option("#step-add-service", str(desk.pk))
    page.check("#step-add-is_entry")
    page.click("text=Add the step")
    page.wait_for_selector("text=Step added.")
    page.select_option("#step-add-service", str(world.service_b.pk))
    page.click("text=Add the step")
    page.wait_for_selector("#about-gbv-case-management-b, article.step-about >> nth=1")

    steps = {step.service_id: str(step.pk) for step in pathway.steps.all()}
    page.select_option("#link-add-from_step", steps[desk.pk])
    page.select_option("#link-add-to_step", steps[world.service_b.pk])
    page.fill("#link-add-condition", "")
    page.type("#link-add-condition", '{"sex": {"in": ["femal"]}}')
    page.wait_for_selector("#link-add-condition-error.error")
    assert "sex.in" in page.inner_text("#link-add-condition-error")
    screenshot(page, "pathway-editor-inline-error")
    page.fill("#link-add-condition", '{"sex": {"in": ["female"]}}')
    page.dispatch_event("#link-add-condition", "input")
    page.wait_for_selector("#link-add-condition-error:has-text('Valid')")
    page.click("text=Add the link")
    page.wait_for_selector("text=Link added.")

    page.click("text=Validate")
    page.wait_for_selector("text=No problem found")
    screenshot(page, "pathway-editor-validation")
    page.click("text=Publish this version")
    page.wait_for_selector("text=Version published.")
    pathway.refresh_from_db()
    assert pathway.status == Pathway.Status.PUBLISHED

    assert page.locator(".map-viewport svg g.step").count() == 2
    assert page.is_visible(".map-controls")
    assert page.evaluate(OVERLAPS) == [1, 0]

    def view_box():
        return [float(n) for n in page.get_attribute(".map-viewport svg", "viewBox").split()]

    before = view_box()
    page.click("[data-map=zoom-in]")
    assert view_box()[2] < before[2]
    page.focus(".map-viewport")
    page.keyboard.press("0")
    assert view_box() == before
    page.focus(f"a.step-link[data-key='{pathway.steps.get(service=desk).key}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#map-panel:not([hidden])")
    assert "Protection desk A" in page.inner_text("#map-panel")
    assert "Accepting referrals" in page.inner_text("#map-panel")

    page.select_option("#id_start", str(desk.pk))
    page.select_option("#id_category", world.service_b.category.code)
    page.select_option("#id_sex", "female")
    page.select_option("#id_age_band", "18_59")
    page.click("text=Show the route")
    page.wait_for_selector("ol.route")
    assert page.locator(".map-viewport g.link.on-route").count() == 1
    screenshot(page, "pathway-editor-map-route")
    assert errors == [] and foreign == []
