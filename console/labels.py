"""The console's words for the codes the services speak: every label translatable, one place.

The services and the APIs keep their codes (``protection_concerns``, ``consent_withdrawn``); a
person reads these. ``label(mapping, code)`` falls back to the code itself, so a code added to a
service shows up (untranslated) rather than disappearing.
"""

from django.utils.translation import gettext_lazy as _

# the disclosure vocabulary (partners.vocabulary.DISCLOSURE_FIELDS), in plain words
FIELD_LABELS = {
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    "phone": _("Phone number"),
    "best_time_to_call": _("Best time to call"),
    "preferred_language": _("Preferred language"),
    "preferred_channel": _("Preferred way to be contacted"),
    "sex": _("Sex"),
    "age_band": _("Age band"),
    "date_of_birth": _("Date of birth"),
    "location": _("Where the person lives"),
    "registration_number": _("Registration number"),
    "household_size": _("Household size"),
    "specific_needs": _("Specific needs"),
    "protection_concerns": _("Protection concerns"),
    "narrative": _("Case narrative"),
}
SEX_LABELS = {
    "female": _("Female"),
    "male": _("Male"),
    "other": _("Other"),
    "unknown": _("Not stated"),
}
AGE_BAND_LABELS = {
    "0_4": _("0 to 4 years"),
    "5_11": _("5 to 11 years"),
    "12_17": _("12 to 17 years"),
    "18_59": _("18 to 59 years"),
    "60_plus": _("60 years or more"),
}
PREFERRED_CHANNEL_LABELS = {
    "phone": _("Phone call"),
    "sms": _("SMS"),
    "whatsapp": _("WhatsApp"),
    "in_person": _("In person"),
}
CHANNEL_LABELS = {
    "in_person": _("In person"),
    "phone": _("Phone"),
    "hotline": _("Hotline"),
    "written": _("Written"),
}
LEGAL_BASIS_LABELS = {
    "consent": _("Informed consent"),
    "vital_interest": _("Vital interest"),
    "best_interests_child": _("Best interests of the child"),
    "mandate": _("UNHCR mandate"),
    "safety_of_others": _("Safety and security of others"),
}
COLLECTION_METHOD_LABELS = {
    "oral": _("Oral"),
    "written": _("Written"),
    "digital": _("Digital"),
}
RECIPIENT_SCOPE_LABELS = {
    "named": _("Named organisations"),
    "pathway": _("Any organisation on the pathway followed"),
}
CONSENT_STATE_LABELS = {
    "active": _("Active"),
    "withdrawn": _("Withdrawn"),
    "expired": _("Expired"),
    "superseded": _("Superseded"),
}
REQUEST_KIND_LABELS = {
    "access": _("A copy of the data"),
    "correction": _("A correction"),
    "erasure": _("Erasure"),
}
ROLE_LABELS = {
    "focal_point": _("Focal point"),
    "caseworker": _("Caseworker"),
    "viewer": _("Viewer"),
}
EVENT_LABELS = {
    "sent": _("Sent"),
    "acknowledged": _("Acknowledged"),
    "accepted": _("Accepted"),
    "declined": _("Declined"),
    "completed": _("Completed"),
    "closed": _("Closed"),
    "withdrawn": _("Withdrawn"),
    "consent_withdrawn": _("Withdrawn: consent withdrawn"),
    "assigned": _("Assigned"),
    "referred_onward": _("Referred onward"),
    "escalated": _("Escalated: no answer or no outcome by its due date"),
    "payload_erased": _("Shared data erased"),
}


def label(mapping: dict, code):
    """The label of ``code`` in ``mapping``, or the code itself when it has none."""
    if code is None or code == "":
        return ""
    return mapping.get(code, code)
