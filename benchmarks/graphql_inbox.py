"""The partner inbox over GraphQL: ``referralInbox(first: 50)`` with everything a list shows.

Runs in a throw-away database of its own. Sends REFERRALS referrals to one
organisation, then times the inbox query through the real view (token auth included) and prints
the SQL queries it ran, which must not grow with the page size.
"""

import json
import os
import statistics
import time

REFERRALS = int(os.environ.get("BENCH_REFERRALS", "300"))
ROUNDS = 15
INBOX = """
query ($first: Int!) {
  referralInbox(first: $first) {
    edges { node {
      id reference status urgency dueBy overdue
      senderOrganisation { name } service { name category { code } } pathwayStep { key }
      lastEvent { kind at } payload { givenName phone }
      viewerCan { acknowledge accept decline complete referOnward assign }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["*"]
    print(f"GraphQL inbox, {REFERRALS} referrals received by one organisation")
    # a database of its own: never the demo's, never the test suite's
    connection.settings_dict["TEST"]["NAME"] = "benchmark_graphql_inbox"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from tests.referrals.referral_setup import build_world

        world = build_world()
        for index in range(REFERRALS):
            world.send(idempotency_key=f"bench-{index}")
        token = AuthToken.objects.create(user=world.b.caseworker)[1]
        client = Client()

        def post(first: int):
            response = client.post(
                "/graphql",
                data=json.dumps({"query": INBOX, "variables": {"first": first}}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {token}",
            )
            body = response.json()
            assert "errors" not in body, body
            return body

        for first in (1, 10, 50, 100):
            post(first)  # warm
            timings = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                post(first)
                timings.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as captured:
                post(first)
            if os.environ.get("BENCH_SHOW_SQL"):
                print("\n".join(query["sql"][:100] for query in captured.captured_queries))
            print(
                f"  first: {first:>3}  median {statistics.median(timings):7.1f} ms  "
                f"p90 {sorted(timings)[int(ROUNDS * 0.9) - 1]:7.1f} ms  {len(captured)} SQL queries"
            )
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
