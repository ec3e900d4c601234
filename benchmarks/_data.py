"""The benchmarks' databases: throw-away test databases, never the demo's or the test suite's.

``referral_data()`` switches to a database of generated referrals (``referrals.load_data``, the
same generator as ``manage.py generate_load_data``) of ``BENCH_REFERRALS`` referrals, made on first
use and shared by every module of the run; ``python -m benchmarks`` drops it at the end unless
``BENCH_KEEP_DB=1``, which keeps it (one database per size) for the next run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

REFERRALS = int(os.environ.get("BENCH_REFERRALS", "20000"))
KEEP = os.environ.get("BENCH_KEEP_DB", "").strip().lower() in {"1", "true", "yes"}


def default_organisations(referrals: int) -> int:
    """An operation grows in partners with its volume: 20 at 2,000 referrals, 500 at a million."""
    return max(20, min(500, referrals // 2_000))


ORGANISATIONS = int(os.environ.get("BENCH_ORGANISATIONS", "0")) or default_organisations(REFERRALS)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["*"]


@contextmanager
def throwaway_database(name: str, *, keep: bool = False):
    """A fresh test database for the duration of the block; the previous one is current again after."""
    from django.db import connection

    previous = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(previous, verbosity=0, keepdb=keep)


@dataclass
class ReferralData:
    referrals: int
    organisations: list  # largest receiver first, as generated
    database: str

    def member(self, organisation, role: str = "caseworker"):
        return (
            organisation.memberships.filter(role=role, is_active=True).order_by("user__username").first().user
        )

    @property
    def largest(self):
        return self.organisations[0]

    @property
    def median(self):
        """An organisation from the middle of the long tail."""
        return self.organisations[len(self.organisations) // 2]


_current: tuple[str, ReferralData] | None = None  # (the name to go back to, the data)


def referral_data() -> ReferralData:
    """Make the database of generated referrals current, generating it on first use."""
    global _current
    from django.db import connection

    if _current is not None:
        return _current[1]
    previous = connection.settings_dict["NAME"]
    data = _open(REFERRALS, ORGANISATIONS)
    _current = (previous, data)
    return data


@contextmanager
def other_referral_data(referrals: int):
    """A second database of generated referrals, current for the block (e.g. 10,000 to compare
    growth with): made like the main one, dropped after unless kept."""
    from django.db import connection

    previous = connection.settings_dict["NAME"]
    connection.close()
    data = _open(referrals, default_organisations(referrals))
    try:
        yield data
    finally:
        connection.creation.destroy_test_db(previous, verbosity=0, keepdb=KEEP)


# Benchmarks that write (sends, cascades) use idempotency keys with this prefix, so a kept database
# still counts as the generated one on the next run.
BENCH_KEY_PREFIX = "bench-"


def generated_referrals() -> int:
    from referrals.models import Referral

    return Referral.objects.exclude(idempotency_key__startswith=BENCH_KEY_PREFIX).count()


def _open(referrals: int, organisations: int) -> ReferralData:
    from django.db import connection

    from partners.models import Organisation
    from referrals import load_data
    from referrals.models import Referral

    previous = connection.settings_dict["NAME"]
    name = f"benchmark_referrals_{referrals}"
    connection.settings_dict["TEST"]["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=KEEP)
    if generated_referrals() != referrals:
        if Referral.objects.exists():  # kept from a run that was interrupted: start again
            connection.creation.destroy_test_db(previous, verbosity=0)
            connection.settings_dict["TEST"]["NAME"] = name
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        from tqdm import tqdm

        from benchmarks.results import HIGHER, record

        print(f"  generating {referrals:,} referrals between {organisations} organisations …")
        with tqdm(total=referrals, unit=" referrals", leave=False) as bar:
            summary = load_data.generate(
                organisations=organisations, referrals=referrals, seed=2026, progress=bar.update
            )
        if referrals == REFERRALS:
            record(
                "load_data.generate",
                summary.rate,
                "referrals/s",
                size=referrals,
                target=1_000_000 / (15 * 60),  # a million in 15 minutes
                better=HIGHER,
            )
    run = load_data.next_run() - 1
    found = list(Organisation.objects.filter(acronym__startswith=f"G{run}-").order_by("acronym"))
    return ReferralData(referrals=referrals, organisations=found, database=load_data.database_label())


def close() -> None:
    """Drop the referral database (unless kept) and go back to the database before it."""
    global _current
    if _current is None:
        return
    from django.db import connection

    previous, _data = _current
    connection.creation.destroy_test_db(previous, verbosity=0, keepdb=KEEP)
    _current = None
