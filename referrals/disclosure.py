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


# why a field of the vocabulary does not travel, in the order an officer reads them
NOT_ASKED = "not_asked"  # the service neither requires nor offers to take it
OPTIONAL_NOT_CHOSEN = "optional_not_chosen"  # the service may take it; the officer did not choose it
NOT_IN_CONSENT = "not_in_consent"  # the service asks for it; the consent does not cover it


@dataclass(frozen=True)
class DisclosurePreview:
    """Every field of the vocabulary, sorted into what travels and what is withheld (and why).

    ``disclosure`` is what :func:`disclosure_for` answers for the same sets: the send uses it, so
    the fields shown as travelling are exactly the fields a referral sent with these choices carries.
    """

    disclosure: Disclosure
    required: tuple[str, ...]
    optional: tuple[str, ...]  # offered by the service, in vocabulary order
    withheld: tuple[tuple[str, str], ...]  # (field, NOT_ASKED | OPTIONAL_NOT_CHOSEN | NOT_IN_CONSENT)

    @property
    def travels(self) -> tuple[str, ...]:
        return self.disclosure.shared


def disclosure_preview(
    *,
    required: Iterable[str],
    optional_offered: Iterable[str],
    optional_chosen: Iterable[str],
    consented: Iterable[str],
) -> DisclosurePreview:
    required, offered, chosen, consented = (
        set(required),
        set(optional_offered),
        set(optional_chosen),
        set(consented),
    )
    disclosure = disclosure_for(
        required=required, optional_offered=offered, optional_chosen=chosen, consented=consented
    )
    travels = set(disclosure.shared)
    withheld = []
    for name in DISCLOSURE_FIELDS:
        if name in travels:
            continue
        if name not in required and name not in offered:
            withheld.append((name, NOT_ASKED))
        elif name in offered and name not in required and name not in chosen:
            withheld.append((name, OPTIONAL_NOT_CHOSEN))
        else:  # required, or chosen: asked for, and only the consent stands in the way
            withheld.append((name, NOT_IN_CONSENT))
    return DisclosurePreview(
        disclosure=disclosure,
        required=tuple(name for name in DISCLOSURE_FIELDS if name in required),
        optional=tuple(name for name in DISCLOSURE_FIELDS if name in offered and name not in required),
        withheld=tuple(withheld),
    )
