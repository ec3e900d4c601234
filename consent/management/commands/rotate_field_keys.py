"""Re-wrap every person data key under the newest master key, and recompute the lookup hashes.

Run after putting a new key at the front of FIELD_ENCRYPTION_KEYS (keep the old ones behind it
until this has finished; remove them afterwards). The personal data itself is not re-encrypted:
it is sealed with the person data keys, which do not change — only their wrapping does (one small
row per person). Also run after changing FIELD_HMAC_KEY — with the old and new HMAC keys,
registration-number and name lookups only work again once this has run.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from consent import crypto, keys

BATCH = 500


def _rehash(model, *, sources: tuple[str, ...], column: str, compute) -> int:
    """Recompute one lookup-hash ``column`` of a model's rows from the ``sources`` it hashes."""
    names = {field.name for field in model._meta.concrete_fields}
    if not {*sources, column} <= names:
        return 0
    pk = model._meta.pk.attname
    changed, last = 0, None
    while True:
        rows = model.objects.filter(**{f"{sources[0]}__isnull": False}).order_by(pk)
        if last is not None:
            rows = rows.filter(**{f"{pk}__gt": last})
        # values_list opens the sealed values, one key query per batch
        batch = list(rows.values_list(pk, *sources, column)[:BATCH])
        if not batch:
            return changed
        for row_pk, *values, stored in batch:
            wanted = compute(*values)
            if wanted != stored:
                model.objects.filter(**{pk: row_pk}).update(**{column: wanted})
                changed += 1
        last = batch[-1][0]


def rehash_model(model) -> int:
    """Recompute ``registration_number_hash`` and ``name_hashes`` (historical rows included)."""
    numbers = _rehash(
        model,
        sources=("registration_number",),
        column="registration_number_hash",
        compute=lambda number: crypto.registration_number_hash(number) if number else None,
    )
    # erased rows hold NULL hashes and no names: they stay as they are
    names = _rehash(
        model,
        sources=("name_hashes", "given_name", "family_name"),
        column="name_hashes",
        compute=lambda _stored, given, family: crypto.name_word_hashes(given, family),
    )
    return numbers + names


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
