"""The disclosure vocabulary: the only names a service may ask for or a consent may cover.

There is no "all fields": every category is named, and the sensitive ones must be named explicitly.
"""

import re

DISCLOSURE_FIELDS: tuple[str, ...] = (
    "given_name",
    "family_name",
    "phone",
    "best_time_to_call",
    "preferred_language",
    "preferred_channel",
    "sex",
    "age_band",
    "date_of_birth",
    "location",
    "registration_number",
    "household_size",
    "specific_needs",
    "protection_concerns",
    "narrative",
)
# ISO 639 language code (two or three letters), optionally with a region or script subtag
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

SENSITIVE_FIELDS: frozenset[str] = frozenset({"specific_needs", "protection_concerns", "narrative"})


def unknown_fields(names) -> list[str]:
    """Names that are not in the vocabulary, in the order given (duplicates kept once)."""
    seen: list[str] = []
    for name in names:
        if name not in DISCLOSURE_FIELDS and name not in seen:
            seen.append(name)
    return seen
