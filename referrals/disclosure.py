"""Need to know: which fields a referral may carry, as a pure function of three sets.

shared = (service.required | chosen optional) & consent.data_categories, in vocabulary order.
A required field the consent does not cover makes the referral impossible; so does a chosen
optional field it does not cover (the officer must not believe it was sent).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from partners.vocabulary import DISCLOSURE_FIELDS


@dataclass(frozen=True)
class Disclosure:
    shared: tuple[str, ...]
    missing_required: tuple[str, ...]
    not_offered: tuple[str, ...]  # optional fields asked for that the service does not list
    optional_not_consented: tuple[str, ...]  # optional fields asked for that the consent does not cover


def disclosure_for(
    *,
    required: Iterable[str],
    optional_offered: Iterable[str],
    optional_chosen: Iterable[str],
    consented: Iterable[str],
) -> Disclosure:
    required, offered, chosen, consented = (
        set(required),
        set(optional_offered),
        set(optional_chosen),
        set(consented),
    )
    wanted = required | (chosen & offered)
    return Disclosure(
        shared=tuple(name for name in DISCLOSURE_FIELDS if name in wanted and name in consented),
        missing_required=tuple(
            name for name in DISCLOSURE_FIELDS if name in required and name not in consented
        ),
        not_offered=tuple(sorted(chosen - offered)),
        optional_not_consented=tuple(
            name for name in DISCLOSURE_FIELDS if name in chosen & offered and name not in consented
        ),
    )
