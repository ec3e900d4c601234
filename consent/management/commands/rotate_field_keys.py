"""Re-encrypt every encrypted column under the newest key, and recompute the lookup hashes.

Run after putting a new key at the front of FIELD_ENCRYPTION_KEYS (keep the old ones behind it
until this has finished; remove them afterwards). Also run after changing FIELD_HMAC_KEY — with the
old and new HMAC keys, registration-number lookups only work again once this has run.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from consent import crypto
from consent.fields import encrypted_fields

BATCH = 500


def rotate_model(model) -> int:
    """Rotate the ciphertexts of one model's table (historical models included); return rows changed."""
    columns = [field.column for field in encrypted_fields(model)]
    if not columns:
        return 0
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    rehash = "registration_number" in columns and "registration_number_hash" in {
        f.column for f in model._meta.concrete_fields
    }
    selected = ", ".join(quote(c) for c in columns)
    changed, last = 0, None
    while True:
        with connection.cursor() as cursor:
            # keyset pagination: constant memory whatever the table size
            where = f"WHERE {pk} > %s" if last is not None else ""
            cursor.execute(
                f"SELECT {pk}, {selected} FROM {table} {where} ORDER BY {pk} LIMIT {BATCH}",  # noqa: S608
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
            if not rows:
                return changed
            for row in rows:
                values = {
                    column: crypto.rotate(token)
                    for column, token in zip(columns, row[1:], strict=True)
                    if token
                }
                if rehash:
                    number = row[1 + columns.index("registration_number")]
                    values["registration_number_hash"] = (
                        crypto.registration_number_hash(crypto.decrypt(number)) if number else None
                    )
                if values:
                    assignments = ", ".join(f"{quote(c)} = %s" for c in values)
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608  (names from the model)
                        [*values.values(), row[0]],
                    )
                    changed += 1
            last = rows[-1][0]


class Command(BaseCommand):
    help = (
        "Re-encrypt all encrypted fields under the newest FIELD_ENCRYPTION_KEYS key; recompute lookup hashes."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            # lets the consent-record trigger accept new ciphertext for the same plaintext
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL consent.reencrypting = 'on'")
            total = 0
            for model in apps.get_models():
                changed = rotate_model(model)
                if changed:
                    self.stdout.write(f"  {model._meta.db_table}: {changed} rows")
                total += changed
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} rows under the newest key."))
