"""`make demo` loads fixtures/ through the services; loading twice changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from consent.models import Person
from partners.models import Membership, Organisation, Service
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
