"""Behind a transaction-mode pooler: a real pgbouncer (pool_mode = transaction) in front of this
folder's own PostgreSQL, the application set up with ``DATABASE_POOLER=transaction``.

The pgbouncer resets each server connection as soon as a transaction ends (``DISCARD ALL``), so any
state the application left in a session — a cursor held across transactions, a prepared statement,
a setting — is gone before its next statement, every time rather than now and then. Real requests
go through it (a REST send, the GraphQL inbox, a REST and a GraphQL transition, an export that
iterates), and the same iteration without the pooler settings shows what they prevent.
"""

import pytest

from tests.scaling.conftest import database_from_template, run_scenario
from tests.scaling.postgres import Pgbouncer

pytestmark = pytest.mark.django_db  # the template is a copy of the test database (conftest)


def test_the_application_works_through_pgbouncer_in_transaction_mode(primary, tmp_path):
    database = database_from_template(primary, "hub_pooler")
    pooler = Pgbouncer(primary).start()
    try:
        seen = run_scenario(
            "pooler",
            DATABASE_URL=pooler.url(database),
            DATABASE_POOLER="transaction",
            SCENARIO_EXPORT_DIR=str(tmp_path / "export"),
        )
        config = {row["key"]: row["value"] for row in pooler.show("CONFIG")}
        stats = {row["database"]: row for row in pooler.show("STATS")}
    finally:
        pooler.stop()

    assert (config["pool_mode"], config["server_reset_query_always"]) == ("transaction", "1")
    assert int(stats[database]["total_xact_count"]) > 50  # the scenario's transactions went through it

    assert seen["server_side_cursors_disabled"] is True
    assert seen["prepare_threshold"] is None
    reference = seen["sent"]["reference"]
    assert seen["sent"]["status"] == "sent"
    assert seen["inbox"] == {reference: "SENT"}
    assert seen["acknowledged"] == "acknowledged"
    assert seen["accepted"] == {"referral": {"status": "ACCEPTED"}, "errors": []}
    assert seen["inbox_after"] == {reference: "ACCEPTED"}
    # the time zone Django set when it connected holds in every transaction, whichever server
    # connection runs it: pgbouncer sets it again on each (it tracks TimeZone for its clients)
    assert seen["time_zones"] == ["UTC"]
    assert seen["exported_files"] and seen["services"] >= 1
    # the export's .iterator() would have failed without the settings
    assert seen["iterator_with_server_side_cursors"].startswith("InvalidCursorName"), seen[
        "iterator_with_server_side_cursors"
    ]
