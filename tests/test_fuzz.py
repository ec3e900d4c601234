"""Bounded fuzzing of the REST API against its own OpenAPI schema (schemathesis).

Every operation of ``/api/schema/`` gets generated requests, valid and invalid, sent in process
through the WSGI application as the focal point and platform admin of a small world
(``tests/api_world.py``), with the path ids of that world's rows. Each answer must be no 5xx and
must match the schema: status code, content type, headers and body.

``make test`` runs a few examples per operation with a fixed seed (``FUZZ_EXAMPLES``,
``FUZZ_SEED``); ``make fuzz`` runs many, with every check schemathesis has (``FUZZ_CHECKS=all``).
"""

import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from schemathesis.config import SchemathesisConfig

from tests.api_world import build_api_world
from tests.conftest import token_for

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
ALL_CHECKS = os.environ.get("FUZZ_CHECKS") == "all"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

BOUNDED_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": not ALL_CHECKS,
            # a NUL is a 400 by rule (invalid_characters) that the schema cannot state; the bounded
            # run sends them, the run with every check leaves them to tests/test_hostile_input.py
            # so that positive_data_acceptance judges only what the schema can express
            "allow-x00": not ALL_CHECKS,
        },
        "phases": {"enabled": True, "coverage": {"enabled": ALL_CHECKS}, "stateful": {"enabled": False}},
        "checks": {"enabled": ALL_CHECKS, **{name: {"enabled": True} for name in BOUNDED_CHECKS}},
    }
)
# as production sees requests: through the TLS-terminating proxy (the middleware of this application
# is loaded now, with SECURE_SSL_REDIRECT on)
BEHIND_TLS = {"X-Forwarded-Proto": "https"}
application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG, headers=BEHIND_TLS)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, rolled back at the end; the database stays open for the module's examples (each
    in a savepoint of its own), as hypothesis runs them all inside one test."""
    # a real WSGI handler closes the connection after each request, and with it the test's
    # transaction; Django's test client keeps it open the same way
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=FAST_HASHERS),
            transaction.atomic(),
        ):
            api_world = build_api_world()
            api_world.token = token_for(api_world.user)
            yield api_world
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _real_ids(case, world) -> None:
    """Point the path at rows that exist, so the fuzz reaches past the lookup to the input checks."""
    ids = world.ids()
    path = case.operation.path
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
            continue
        families = [family for family in ids if f"/{family}s/" in path or path.startswith(f"/hsds/{family}")]
        if families:
            case.path_parameters[name] = ids[max(families, key=len)]


@schema.parametrize()
@pytest.mark.django_db
# pytest-django's per-test transaction wraps all examples at once; the savepoint below isolates each
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_answers_as_its_schema_says(world, case):
    _real_ids(case, world)
    # a savepoint per example: examples stay independent, and a failed statement cannot poison the
    # next one
    headers = {**BEHIND_TLS, "Authorization": f"Token {world.token}"}
    with transaction.atomic():
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    case.validate_response(response, headers=headers)
