"""The demo operation with its published pathways, shared by the pathway tests."""

import json
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from hub.local_state import BASE_DIR
from partners.demo import load_directory
from partners.models import Organisation, Service
from pathways.demo import load_demo_pathways
from pathways.models import Pathway
from pathways.selectors import graph_cache_clear

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # the cache is per process; a test database rolls back, ids never repeat, but keep tests independent
    graph_cache_clear()
    yield
    graph_cache_clear()


class Demo:
    """The demo operation with its published pathways; ``demo.service("WPA", "Safe shelter")``."""

    def __init__(self):
        spec = json.loads((BASE_DIR / "fixtures" / "demo.json").read_text(encoding="utf-8"))
        self.operation = load_directory(spec, {})
        # the fixtures' agreements have fixed dates; keep them valid whatever day the suite runs
        Organisation.objects.update(dsa_signed_on=date.today() - timedelta(days=1), dsa_expires_on=None)
        self.admin = get_user_model().objects.get(username=spec["platform_admin"]["username"])
        self.results = load_demo_pathways(operation=self.operation, actor=self.admin)
        self.pathways = {p.theme: p for p in Pathway.objects.filter(operation=self.operation)}
        self.spec = spec

    def service(self, acronym: str, name: str) -> Service:
        return Service.objects.select_related("organisation", "category").get(
            organisation__acronym=acronym, name=name
        )

    def user(self, username: str):
        return get_user_model().objects.get(username=username)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back afterwards; each test then runs
    in its own savepoint (pytest-django's ``db``), so tests may change the demo freely."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield Demo()
        transaction.set_rollback(True)
