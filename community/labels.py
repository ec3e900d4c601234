"""Plain words for what the person reads: stages, next steps, requests, consents."""

from django.utils.translation import gettext_lazy as _

from referrals import facts

STAGES = {
    facts.STAGE_SENT: _("Sent to the service"),
    facts.STAGE_LOOKED_AT: _("The service is looking at it"),
    facts.STAGE_ACCEPTED: _("Accepted by the service"),
    facts.STAGE_NOT_ACCEPTED: _("The service could not take it"),
    facts.STAGE_FINISHED: _("Finished"),
    facts.STAGE_WITHDRAWN: _("Withdrawn"),
}
NEXT_STEPS = {
    facts.NEXT_WAIT: _("The service will contact you. You do not need to do anything now."),
    facts.NEXT_SERVICE_CONTACTS: _("The service has accepted and will contact you to give you the service."),
    facts.NEXT_ALTERNATIVES: _(
        "This service cannot help this time. Other services below may help; or ask the organisation "
        "that referred you."
    ),
    facts.NEXT_NOTHING: _("This referral is finished. If you need more help, contact the service."),
    facts.NEXT_NOTHING_SHARED: _(
        "This referral was stopped. The information shared with the service has been deleted."
    ),
}
REQUEST_KINDS = {
    "access": _("A copy of your information"),
    "correction": _("A correction"),
    "erasure": _("Deleting your information"),
}
REQUEST_STATUSES = {
    "open": _("Waiting for an answer"),
    "completed": _("Done"),
    "rejected": _("Refused (ask the organisation why)"),
}
CONSENT_STATES = {
    "active": _("In force"),
    "withdrawn": _("Withdrawn"),
    "expired": _("Expired"),
    "superseded": _("Replaced by a newer version"),
}


def label(mapping, code) -> str:
    return mapping.get(code, code)
