"""`make demo` loads fixtures/ through the services; loading twice changes nothing."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent.models import Person
from partners.models import ActivationToken, Membership, Organisation, Service
from pathways.models import Pathway
from referrals.models import Referral

pytestmark = pytest.mark.django_db


def test_demo_loads_and_is_idempotent(tmp_path, monkeypatch):
    from hub.management.commands import load_demo

    monkeypatch.setattr(load_demo, "LOGINS_FILE", tmp_path / "logins.json")
    monkeypatch.setattr(load_demo, "VAR_DIR", tmp_path)
    out = StringIO()
    call_command("load_demo", stdout=out)
    counts = [
        Organisation.objects.count(),
        Service.objects.count(),
        Membership.objects.count(),
        Person.objects.count(),
        Pathway.objects.filter(status="published").count(),
        Referral.objects.count(),
    ]
    assert counts[0] == 7 and counts[4] == 4 and counts[5] == 2
    assert 10 <= counts[1] <= 20
    # every organisation has its one focal point; passwords are printed, never committed
    assert Membership.objects.filter(role="focal_point", is_active=True).count() == 7
    assert "demo-" in out.getvalue() and "ops.admin" in out.getvalue()
    call_command("load_demo", stdout=StringIO())
    assert counts == [
        Organisation.objects.count(),
        Service.objects.count(),
        Membership.objects.count(),
        Person.objects.count(),
        Pathway.objects.filter(status="published").count(),
        Referral.objects.count(),
    ]


def test_demo_admin_signs_in_with_a_printed_code_and_members_went_through_activation(
    tmp_path, monkeypatch, settings, client
):
    from hub.management.commands import load_demo

    monkeypatch.setattr(load_demo, "LOGINS_FILE", tmp_path / "logins.json")
    monkeypatch.setattr(load_demo, "VAR_DIR", tmp_path)
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "otpauth://totp/" in out.getvalue() and "demo_otp_code ops.admin" in out.getvalue()
    admin = get_user_model().objects.get(username="ops.admin")
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1
    # caseworkers were added by their focal point like real members: with an activation link
    assert ActivationToken.objects.filter(user__username="peter.unhcr").exists()

    password = json.loads((tmp_path / "logins.json").read_text())["ops.admin"]
    body = {"username": "ops.admin", "password": password}
    assert client.post("/api/v1/auth/login", body, content_type="application/json").status_code == 401
    settings.DEBUG = True
    code = StringIO()
    call_command("demo_otp_code", "ops.admin", stdout=code, stderr=StringIO())
    body["otp"] = code.getvalue().strip()
    response = client.post("/api/v1/auth/login", body, content_type="application/json")
    assert response.status_code == 200, response.json()


def test_demo_codes_are_printed_only_in_the_demo(settings, platform_admin):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only in the demo"):
        call_command("demo_otp_code", "ops.admin")
    settings.DEBUG = True
    with pytest.raises(CommandError, match="not a demo user"):
        call_command("demo_otp_code", platform_admin.username)
