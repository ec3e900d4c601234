# The list counters kept by statement-level triggers: one upsert per statement, not per row.

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql"

DROP = """
DROP TRIGGER IF EXISTS referrals_count_grants_given ON referrals_referralgroupobjectpermission;
DROP TRIGGER IF EXISTS referrals_count_grants_taken ON referrals_referralgroupobjectpermission;
DROP TRIGGER IF EXISTS referrals_count_changes ON referrals_referral;
DROP FUNCTION IF EXISTS referrals_count_on_grants();
DROP FUNCTION IF EXISTS referrals_count_on_changes();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_referral_counts"),
    ]

    operations = [
        migrations.RunSQL(
            (SQL / "referral_counts_statements.sql").read_text(encoding="utf-8"),
            reverse_sql=DROP + (SQL / "referral_counts.sql").read_text(encoding="utf-8"),
        ),
    ]
