"""The person's whole journey in a real browser, without an account: reference and phone, the
code read from the demo SMS outbox (the file gateway), the status, an access request and the
withdrawal of consent — in English and in Arabic, right to left. No JavaScript error, nothing
loaded from elsewhere, and it works with JavaScript off."""

import json
import re
from pathlib import Path

import pytest
from django.db import connection

from consent.models import ConsentRecord, DataSubjectRequest
from referrals.models import Referral
from tests.notifications.helpers import run_queued
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sms_log(settings, tmp_path):
    settings.SMS_BACKEND = "notifications.sms.FileSmsGateway"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    return Path(settings.SMS_FILE_PATH)


def _code_from(sms_log: Path) -> str:
    run_queued("community.send_code")  # what the worker does
    line = json.loads(sms_log.read_text().splitlines()[-1])
    return re.fullmatch(r"\D*(\d{6})\D*", line["text"]).group(1)


def _watch(page, live_server):
    errors, foreign = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: request.url.startswith(live_server.url) or foreign.append(request.url))
    return errors, foreign


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_person_checks_asks_for_their_data_and_withdraws(
    live_server, browser, sms_log, screenshot, language
):
    world = build_world()
    referral = world.send()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors, foreign = _watch(page, live_server)

    page.goto(f"{live_server.url}/check/")
    if language == "ar":
        page.click("button[name=language][value=ar]")
        assert page.get_attribute("html", "dir") == "rtl"
    else:
        screenshot(page, "person-1-start")
    page.fill("#id_reference", referral.reference.lower().replace("-", " "))
    page.fill("#id_phone", "+254 700 111 222")
    page.press("#id_phone", "Enter")
    page.wait_for_url(f"{live_server.url}/check/code")
    page.fill("#id_code", _code_from(sms_log))
    page.press("#id_code", "Enter")
    page.wait_for_url(f"{live_server.url}/check/status")
    main = page.inner_text("main")
    assert referral.reference in main and world.service_b.name in main
    assert "Amal" not in main
    if language == "ar":
        assert page.get_attribute("html", "dir") == "rtl" and "إحالاتك" in main
    else:
        assert "Sent to the service" in main
        screenshot(page, "person-2-status")

    page.click("a[href='/check/requests/new']")
    page.check("input[name=kind][value=access]")
    page.click("form[action='/check/requests/new'] button[type=submit]")
    assert DataSubjectRequest.objects.filter(
        person=world.person, kind="access", channel="self_service"
    ).exists()

    page.goto(f"{live_server.url}/check/consents/{world.consent.pk}")
    if language == "en":
        screenshot(page, "person-3-consent")
    page.click(f"form[action='/check/consents/{world.consent.pk}/withdraw'] button[type=submit]")
    page.wait_for_selector("[role=status]")
    world.consent.refresh_from_db()
    referral.refresh_from_db()
    assert world.consent.status == ConsentRecord.Status.WITHDRAWN
    assert referral.status == Referral.Status.WITHDRAWN
    context.close()
    assert errors == [] and foreign == []


def test_the_pages_are_light_and_touch_friendly_with_javascript(live_server, browser, sms_log):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    errors, foreign = _watch(page, live_server)
    sizes = []
    page.on("response", lambda response: sizes.append(len(response.body())))
    page.goto(f"{live_server.url}/check/")
    assert sum(sizes) < 150_000
    for selector in ("button.door-button", "#id_reference", "#id_phone", "button[name=language]"):
        box = page.locator(selector).first.bounding_box()
        assert box["height"] >= 44, selector
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(f"{live_server.url}/check/sheet")
    assert page.locator("svg.qr").count() == 1
    assert errors == [] and foreign == []
