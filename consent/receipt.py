"""The consent receipt: what was agreed, with whom, for what, until when and how to withdraw.

A plain-language HTML page in the consent's language (right-to-left for Arabic; print it to get the
paper copy) and a JSON document with the fields of a Kantara consent receipt / ISO/IEC TS 27560
record. Neither carries the person's name, contact details or any sensitive data category: a
receipt may be found by someone else.
"""

import uuid

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.models import Channel, CollectionMethod, ConsentRecord, LegalBasis, RecipientScope
from partners.models import Organisation, ServiceCategory
from partners.vocabulary import SENSITIVE_FIELDS

SCHEMA_VERSION = "referral-hub-receipt/1.0 (Kantara CR v1.1, ISO/IEC TS 27560 fields)"
RECEIPT_NAMESPACE = uuid.UUID("6f1c2d1e-8a55-4c55-9d0e-2b3f5e7a9c01")
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ps", "ur", "ckb"})

DATA_CATEGORY_LABELS = {
    "given_name": gettext_lazy("Your first name"),
    "family_name": gettext_lazy("Your family name"),
    "phone": gettext_lazy("Your phone number"),
    "best_time_to_call": gettext_lazy("The best time to call you"),
    "preferred_language": gettext_lazy("Your preferred language"),
    "preferred_channel": gettext_lazy("How you prefer to be contacted"),
    "sex": gettext_lazy("Your sex"),
    "age_band": gettext_lazy("Your age group"),
    "date_of_birth": gettext_lazy("Your date of birth"),
    "location": gettext_lazy("Where you live"),
    "registration_number": gettext_lazy("Your registration number"),
    "household_size": gettext_lazy("The size of your household"),
}
CHANNEL_LABELS = {
    Channel.IN_PERSON: gettext_lazy("in person at any of our desks"),
    Channel.PHONE: gettext_lazy("by phone"),
    Channel.HOTLINE: gettext_lazy("through the hotline"),
    Channel.WRITTEN: gettext_lazy("in writing"),
    Channel.SELF_SERVICE: gettext_lazy(
        "yourself, on the status page, with your referral reference and your phone number"
    ),
}
METHOD_LABELS = {
    CollectionMethod.ORAL: gettext_lazy("You agreed orally."),
    CollectionMethod.WRITTEN: gettext_lazy("You agreed in writing."),
    CollectionMethod.DIGITAL: gettext_lazy("You agreed digitally."),
}
BASIS_LABELS = {
    LegalBasis.CONSENT: gettext_lazy("your consent"),
    LegalBasis.VITAL_INTEREST: gettext_lazy("to protect your life or safety (vital interest)"),
    LegalBasis.BEST_INTERESTS_CHILD: gettext_lazy("the best interests of the child"),
    LegalBasis.MANDATE: gettext_lazy("the protection mandate of UNHCR"),
    LegalBasis.SAFETY_OF_OTHERS: gettext_lazy("the safety and security of others"),
}


def receipt_language(record: ConsentRecord) -> str:
    """The consent's language when the receipt is translated into it, otherwise English."""
    supported = {code for code, _name in settings.LANGUAGES}
    base = record.language.split("-")[0].lower()
    return base if base in supported else settings.LANGUAGE_CODE


def receipt_id(record: ConsentRecord) -> uuid.UUID:
    return uuid.uuid5(RECEIPT_NAMESPACE, str(record.pk))


def status_page_url() -> str:
    """Where the person checks their referrals, withdraws and asks for their data (the community
    app's public page, found by its URL name: consent does not import it)."""
    return settings.SITE_URL + reverse("community:start")


def _context(record: ConsentRecord) -> dict:
    purposes = dict(ServiceCategory.objects.filter(code__in=record.purposes).values_list("code", "name"))
    recipients = list(Organisation.objects.filter(pk__in=record.recipients).order_by("name"))
    shown_categories = [c for c in record.data_categories if c not in SENSITIVE_FIELDS]
    return {
        "record": record,
        "receipt_id": receipt_id(record),
        "purposes": [(code, purposes.get(code, code)) for code in record.purposes],
        "recipients": recipients,
        "pathway_scope": record.recipient_scope == RecipientScope.PATHWAY,
        "categories": [(code, DATA_CATEGORY_LABELS[code]) for code in shown_categories],
        "more_categories": len(shown_categories) < len(record.data_categories),
        "channels": [CHANNEL_LABELS[channel] for channel in Channel.values],
        "status_url": status_page_url(),
    }


def receipt_json(record: ConsentRecord) -> dict:
    context = _context(record)
    language = receipt_language(record)
    with translation.override(language):
        controller = record.organisation
        return {
            "receiptId": str(context["receipt_id"]),
            "version": SCHEMA_VERSION,
            "consentTimestamp": int(record.obtained_at.timestamp()),
            "recordId": str(record.pk),
            "recordVersion": record.version,
            "language": language,
            "consentLanguage": record.language,
            "state": record.state,
            "collectionMethod": record.collection_method,
            "legalBasis": record.legal_basis,
            "piiPrincipalId": str(record.person_id),
            "piiControllers": [
                {"piiController": controller.name, "acronym": controller.acronym, "id": str(controller.pk)}
            ],
            "purposes": [
                {"purposeCategory": code, "purpose": name, "termination": record.expires_on.isoformat()}
                for code, name in context["purposes"]
            ],
            "piiCategories": [code for code, _label in context["categories"]],
            "furtherCategoriesAgreedInPerson": context["more_categories"],
            "recipients": {
                "scope": record.recipient_scope,
                "organisations": [
                    {"id": str(org.pk), "name": org.name, "acronym": org.acronym}
                    for org in context["recipients"]
                ],
            },
            "validUntil": record.expires_on.isoformat(),
            "withdrawal": {
                "method": _("Tell %(organisation)s, quoting the receipt number: %(channels)s.")
                % {
                    "organisation": controller.name,
                    "channels": ", ".join(str(c) for c in context["channels"]),
                },
                "channels": list(Channel.values),
                "statusPage": context["status_url"],
                "withdrawnAt": record.withdrawn_at.isoformat() if record.withdrawn_at else None,
            },
        }


def receipt_context(record: ConsentRecord) -> dict:
    """What ``consent/_receipt_body.html`` shows, with the receipt's ``language`` and ``direction``:
    render it inside ``translation.override(language)`` (or ``{% language %}``) to get the words
    in the person's language."""
    context = _context(record)
    language = receipt_language(record)
    context.update(
        {
            "language": language,
            "direction": "rtl" if language in RTL_LANGUAGES else "ltr",
            "method": METHOD_LABELS[record.collection_method],
            "basis": BASIS_LABELS[record.legal_basis],
        }
    )
    return context


def receipt_html(record: ConsentRecord) -> str:
    context = receipt_context(record)
    with translation.override(context["language"]):
        return render_to_string("consent/receipt.html", context)
