"""The partner inbox over GraphQL: ``referralInbox(first: 50)`` with everything a list shows.

Runs on the generated benchmark database (``benchmarks._data``: ``BENCH_REFERRALS`` referrals) and
times the inbox query of a caseworker of the largest receiver through the real view (token auth
included), with the number of SQL queries it ran, which must not grow with the page size.
``size``: referrals in the database. ``BENCH_SHOW_SQL=1`` prints the queries.
"""

import json
import os
import statistics
import time

from benchmarks import _data
from benchmarks.results import record

ROUNDS = 15
# a page the partner sees at once; at most the queries the tests assert for a page that also holds
# pathway-guided referrals (generated ones follow none, so they need two fewer: docs/performance.md)
TARGET_MS = {1: 200, 10: 250, 50: 400, 100: 700}
TARGET_QUERIES = 10
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
    _data.setup_django()
    data = _data.referral_data()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    from referrals.models import Referral

    organisation = data.largest
    received = Referral.objects.filter(to_organisation=organisation).count()
    print(f"GraphQL inbox of {organisation.acronym}: {received:,} of {data.referrals:,} referrals received")
    caseworker = data.member(organisation)
    token, key = AuthToken.objects.create(user=caseworker)
    try:
        client = Client()

        def post(first: int):
            response = client.post(
                "/graphql",
                data=json.dumps({"query": INBOX, "variables": {"first": first}}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {key}",
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
            size = data.referrals
            record(
                f"graphql.inbox.first_{first}.median",
                statistics.median(timings),
                "ms",
                size=size,
                target=TARGET_MS[first],
            )
            record(
                f"graphql.inbox.first_{first}.p90", sorted(timings)[int(ROUNDS * 0.9) - 1], "ms", size=size
            )
            record(
                f"graphql.inbox.first_{first}.queries",
                len(captured),
                "queries",
                size=size,
                target=TARGET_QUERIES,
            )
    finally:
        token.delete()
