"""Re-wrap every person data key under the newest master key, and recompute the lookup hashes.

Run after putting a new key at the front of FIELD_ENCRYPTION_KEYS (keep the old ones behind it
until this has finished; remove them afterwards). The personal data itself is not re-encrypted:
it is sealed with the person data keys, which do not change — only their wrapping does (one small
row per person). Also run after changing FIELD_HMAC_KEY — with the old and new HMAC keys,
registration-number lookups only work again once this has run.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from consent import crypto, keys

BATCH = 500


def rehash_model(model) -> int:
    """Recompute ``registration_number_hash`` of one model's rows (historical ones included)."""
    names = {field.name for field in model._meta.concrete_fields}
    if not {"registration_number", "registration_number_hash"} <= names:
        return 0
    pk = model._meta.pk.attname
    changed, last = 0, None
    while True:
        rows = model.objects.filter(registration_number__isnull=False).order_by(pk)
        if last is not None:
            rows = rows.filter(**{f"{pk}__gt": last})
        # values_list opens the sealed numbers, one key query per batch
        batch = list(rows.values_list(pk, "registration_number", "registration_number_hash")[:BATCH])
        if not batch:
            return changed
        for row_pk, number, stored in batch:
            wanted = crypto.registration_number_hash(number) if number else None
            if wanted != stored:
                model.objects.filter(**{pk: row_pk}).update(registration_number_hash=wanted)
                changed += 1
        last = batch[-1][0]


class Command(BaseCommand):
    help = (
        "Re-wrap every person data key under the newest FIELD_ENCRYPTION_KEYS key; recompute lookup hashes."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            rewrapped = keys.rewrap_all()
            self.stdout.write(f"  consent_personkey: {rewrapped} keys re-wrapped")
            for model in apps.get_models():
                changed = rehash_model(model)
                if changed:
                    self.stdout.write(f"  {model._meta.db_table}: {changed} lookup hashes recomputed")
        self.stdout.write(self.style.SUCCESS(f"Re-wrapped {rewrapped} person keys under the newest key."))
