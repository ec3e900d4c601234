"""The operation admin's words for the directory's codes: organisation kinds, partnerships, the
state of a data-sharing agreement, the tables of an HSDS import and the services' refusals."""

from django.utils.translation import gettext_lazy as _

KIND_LABELS = {
    "un_agency": _("UN agency"),
    "international_ngo": _("International NGO"),
    "national_ngo": _("National NGO"),
    "community_based": _("Community-based organisation"),
    "government": _("Government"),
    "iom": _("IOM"),
}
PARTNERSHIP_LABELS = {
    "implementing": _("Implementing partner"),
    "operational": _("Operational partner"),
    "none": _("No formal partnership"),
}
DSA_STATE_LABELS = {
    "none": _("No agreement recorded"),
    "valid": _("Valid"),
    "not_started": _("Signed, not yet in force"),
    "expired": _("Expired"),
}
# the HSDS tables an import reports on (partners.hsds.mapping.TABLES), and the links it makes
HSDS_TABLE_LABELS = {
    "taxonomy": _("Taxonomies"),
    "taxonomy_term": _("Taxonomy terms"),
    "organization": _("Organisations"),
    "location": _("Locations"),
    "service": _("Services"),
    "service_at_location": _("Services at locations"),
    "service.locations": _("Links between services and locations"),
    "contact": _("Contacts"),
    "phone": _("Phone numbers"),
    "schedule": _("Opening hours"),
    "address": _("Addresses"),
    "accessibility": _("Accessibility notes"),
    "language": _("Languages"),
    "attribute": _("Attributes"),
}
# the console's wording for what the services refuse; other codes show the service's own message
ERROR_WORDS = {
    "duplicate_acronym": _("Another organisation already has this acronym."),
    "duplicate_name": _("Another organisation already has this name."),
    "dsa_expiry_before_signature": _("The agreement must expire after the day it was signed."),
    "unknown_user": _(
        "There is no account with this username. Tick “Create the account” to invite a new person."
    ),
    "duplicate_username": _("This username is taken. Choose another, or appoint the existing account."),
    "email_required": _("An e-mail address is needed: the activation link is sent there."),
    "user_in_other_organisation": _("This person is an active member of another organisation."),
    "user_inactive": _("This account is deactivated; it cannot be focal point."),
    "account_already_active": _("This account is already activated: its owner signs in with their password."),
    "platform_admin_required": _("Only platform admins may do this."),
    "hsds_operation_required": _("Choose the operation that new organisations and locations belong to."),
}
