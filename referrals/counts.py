"""The referral counters (:class:`referrals.models.ReferralCount`): rebuilt from the grants.

The triggers keep them in every transaction; a rebuild is for data written with the triggers off
(``referrals.load_data``'s COPY) or a repair after a restore. It takes the table's lock, so
counts read during it wait rather than see half a table.
"""

from pathlib import Path

from django.db import connection, transaction

REBUILD_SQL = (Path(__file__).resolve().parent / "sql" / "referral_counts_rebuild.sql").read_text("utf-8")


@transaction.atomic
def rebuild() -> None:
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE referrals_referralcount IN EXCLUSIVE MODE")
        cursor.execute(REBUILD_SQL)
