"""The focal point's pages' words for the codes the services speak (members, services, webhooks).

Like ``console.labels``: every label translatable, and a code without one shows as itself.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners import services as partner_services

# the notification kinds (referrals.models.Notification.Kind) a webhook may choose
NOTIFICATION_KIND_LABELS = {
    "new_referral": gettext_lazy("New referral"),
    "referral_acknowledged": gettext_lazy("Referral acknowledged"),
    "referral_accepted": gettext_lazy("Referral accepted"),
    "referral_declined": gettext_lazy("Referral declined"),
    "outcome_recorded": gettext_lazy("Outcome recorded"),
    "onward_outcome_recorded": gettext_lazy("Outcome recorded on an onward referral"),
    "referral_withdrawn": gettext_lazy("Referral withdrawn"),
    "consent_withdrawn": gettext_lazy("Consent withdrawn: delete your copy"),
    "referral_escalated": gettext_lazy("Referral overdue"),
    "outcome_overdue": gettext_lazy("Outcome overdue"),
    "consent_expired": gettext_lazy("Consent expired"),
    "request_due_soon": gettext_lazy("Data-subject request due soon"),
}
# notifications.models.WebhookEndpoint.LastStatus
ENDPOINT_STATUS_LABELS = {
    "": gettext_lazy("Nothing delivered yet"),
    "delivered": gettext_lazy("Delivered"),
    "retrying": gettext_lazy("Failed; retrying"),
    "dead": gettext_lazy("Failed; in the dead letters"),
}
# notifications.models.WebhookDelivery.Status
DELIVERY_STATUS_LABELS = {
    "pending": gettext_lazy("Waiting to be sent"),
    "delivered": gettext_lazy("Delivered"),
    "dead": gettext_lazy("Dead letter: no more retries"),
}
# partners.models.Organisation.Kind
ORGANISATION_KIND_LABELS = {
    "un_agency": gettext_lazy("UN agency"),
    "international_ngo": gettext_lazy("International NGO"),
    "national_ngo": gettext_lazy("National NGO"),
    "community_based": gettext_lazy("Community-based organisation"),
    "government": gettext_lazy("Government"),
    "iom": gettext_lazy("IOM"),
}
# partners.selectors.organisation_can_receive_referrals: why referrals cannot be sent here now
RECEIVE_REFUSAL_LABELS = {
    "organisation_inactive": gettext_lazy("The organisation is deactivated."),
    "organisation_without_valid_dsa": gettext_lazy(
        "The organisation has no valid data-sharing agreement: ask a platform admin to record one."
    ),
    "organisation_without_focal_point": gettext_lazy("The organisation has no active focal point."),
}


def error_words(code: str, field: str | None, message: str) -> str:
    """The console's wording of a service's refusal; the service's own message where there is none.

    Limits are read from the services (``partners.services``), so a changed limit shows as it is.
    """
    words = {
        "duplicate_username": _("This username is taken: choose another one."),
        "email_required": _("An e-mail address is needed: the activation link is sent there."),
        "role_not_assignable": _(
            "A member is a caseworker or a viewer; the focal point is appointed by a platform admin."
        ),
        "focal_point_role_fixed": _(
            "The focal point's role changes only when a platform admin appoints another focal point."
        ),
        "membership_inactive": _("This member is deactivated."),
        "focal_point_cannot_be_deactivated": _(
            "The focal point cannot be deactivated; a platform admin appoints another focal point first."
        ),
        "account_already_active": _(
            "This member has already chosen a password: they sign in with it (no new link is needed)."
        ),
        "platform_admin_required": _("Only a platform admin may do this."),
        "focal_point_required": _("Only the organisation's focal point may do this."),
        "focal_point_of_organisation_required": _("Only the organisation's focal point may do this."),
        "duplicate_service": _("Your organisation already has a service with this name."),
        "unknown_disclosure_field": _("This list holds a field the hub does not know."),
        "duplicate_disclosure_field": _("A field is listed twice."),
        "field_required_and_optional": _("A field cannot be both required and optional: untick it here."),
        "invalid_language_code": _(
            "Give ISO 639 language codes separated by commas, e.g. en, ar, swh (at most %(max)s characters)."
        )
        % {"max": partner_services.MAX_LANGUAGE_CODE},
        "webhook_url_invalid": _(
            "The address must start with https:// and must not point at this machine or at a private, "
            "link-local or reserved address (%(reason)s)."
        )
        % {"reason": message},
        "webhook_delivery_not_dead": _("Only a dead letter can be sent again."),
    }
    if code in words:
        return words[code]
    if code == "invalid":
        return _invalid_words(field) or message
    return message


def _invalid_words(field: str | None) -> str | None:
    if field and field.startswith("response_hours_"):
        return _("A response target is a whole number of hours from 1 to %(max)s.") % {
            "max": partner_services.MAX_RESPONSE_HOURS
        }
    return {
        "outcome_due_days": _("A whole number of days from 1 to %(max)s, or empty (no outcome due date).")
        % {"max": partner_services.MAX_OUTCOME_DUE_DAYS},
        "max_age": _("The maximum age is below the minimum age."),
        "specific_needs": _("A specific need is a code of at most %(max)s characters.")
        % {"max": partner_services.MAX_NEED_CODE},
        "email": _("Enter a valid e-mail address."),
        "events": _("Choose at least one event."),
    }.get(field or "")
