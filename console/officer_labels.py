"""The officer's pages' own words: request statuses, and the console's wording of the consent
services' refusals (by error code). A code without a wording here is shown as the service says it."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consent.services import JUSTIFICATION_MIN_LENGTH

REQUEST_STATUS_LABELS = {
    "open": pgettext_lazy("data-subject request state", "Open"),
    "completed": _("Completed"),
    "rejected": _("Rejected"),
}

ERROR_WORDS = {
    # persons
    "age_required": _("Give the date of birth or, when it is not known, the age band."),
    "invalid_date_of_birth": _("The date of birth is in the future."),
    "age_band_mismatch": _(
        "The age band does not match the date of birth: leave it empty, it follows from the date."
    ),
    "invalid_language": _("Give a language code of two or three letters, such as ar, fr or en."),
    "duplicate_registration_number": _("A person with this registration number is already registered."),
    "unknown_location": _("This place is not in your operation."),
    "person_erased": _("This person's data has been erased."),
    "write_role_required": _("Viewers may read persons and consents but not record them."),
    "membership_required": _("Only members of an organisation may register persons."),
    # consent records
    "obtained_in_future": _("Consent cannot be obtained in the future."),
    "invalid_collection_method": _("Choose how the person agreed: orally, in writing or digitally."),
    "expiry_required": _("Give the date until which the consent is valid."),
    "consent_expiry_in_past": _("The expiry date is in the past."),
    "purposes_required": _("Choose at least one service the consent is for."),
    "unknown_purpose": _("One of these services is not in the directory."),
    "data_categories_required": _("Choose at least one kind of information that may be shared."),
    "unknown_data_category": _("One of these kinds of information is unknown."),
    "invalid_recipient_scope": _("Choose with whom the information may be shared."),
    "recipients_required": _("Choose at least one organisation."),
    "recipients_with_pathway_scope": _(
        "With “any organisation on the pathway”, do not choose organisations by name."
    ),
    "unknown_recipient": _("One of these organisations is unknown or no longer active."),
    "invalid_legal_basis": _("Choose one of the legal bases listed."),
    "non_consent_basis_not_permitted": _(
        "You may not record a legal basis other than informed consent: ask your focal point."
    ),
    "justification_required": _(
        "A legal basis other than consent needs a written justification of at least %(length)s "
        "characters: say why consent could not be obtained."
    ),
    "child_assent_missing": _("The person is a minor: record the child's assent."),
    "best_interests_reference_missing": _("Give the best-interests procedure reference."),
    "guardian_consent_missing": _(
        "The person is a minor: give the parent's or guardian's name and relationship, or mark the "
        "child unaccompanied or separated and give the best-interests reference."
    ),
    "consent_withdrawn": _("A withdrawn consent cannot get a new version; record a new consent."),
    "consent_already_superseded": _("This version has already been replaced; start from the current one."),
    # withdrawal and requests
    "invalid_channel": _("Choose how the person told us."),
    "consent_already_withdrawn": _("This consent has already been withdrawn."),
    "consent_superseded": _("This version has been replaced: withdraw the current version."),
    "invalid_kind": _("Choose what the person asks for."),
    "received_in_future": _("The request cannot be received in the future."),
    "due_before_received": _("The due date is before the date received."),
}


def error_words(error) -> str:
    """The console's wording of a service refusal, or the service's own message."""
    words = ERROR_WORDS.get(error.code)
    if words is None:
        return error.message
    # the numbers are the service's own, so that a changed limit reads right
    return str(words) % {"length": JUSTIFICATION_MIN_LENGTH} if "%(length)s" in str(words) else str(words)
