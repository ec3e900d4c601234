"""A consent record as a FHIR R4 ``Consent`` resource (http://hl7.org/fhir/R4/consent.html).

Local code systems (documented in docs/consent.md) live under ``CODE_SYSTEM_BASE``: the legal
basis (``policyRule``), the purposes (service-category codes), the data categories (the disclosure
vocabulary) and the record's state and recipient scope (extensions).
"""

from consent.models import ConsentRecord, ConsentState, LegalBasis, RecipientScope
from partners.models import Organisation, ServiceCategory

CODE_SYSTEM_BASE = "https://referral-hub.example.org/fhir"
LEGAL_BASIS_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/legal-basis"
PURPOSE_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/service-category"
DATA_CATEGORY_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/data-category"
RECORD_IDENTIFIER_SYSTEM = f"{CODE_SYSTEM_BASE}/NamingSystem/consent-record"
STATE_EXTENSION = f"{CODE_SYSTEM_BASE}/StructureDefinition/consent-state"
RECIPIENT_SCOPE_EXTENSION = f"{CODE_SYSTEM_BASE}/StructureDefinition/recipient-scope"
COLLECTION_METHOD_EXTENSION = f"{CODE_SYSTEM_BASE}/StructureDefinition/collection-method"
LANGUAGE_EXTENSION = f"{CODE_SYSTEM_BASE}/StructureDefinition/consent-language"

FHIR_STATUS = {
    ConsentState.ACTIVE: "active",
    ConsentState.WITHDRAWN: "inactive",
    ConsentState.EXPIRED: "inactive",
    ConsentState.SUPERSEDED: "inactive",
}


def _organisation_reference(organisation: Organisation) -> dict:
    return {"reference": f"Organization/{organisation.pk}", "display": organisation.name}


def consent_to_fhir(record: ConsentRecord) -> dict:
    state = record.state
    purposes = dict(ServiceCategory.objects.filter(code__in=record.purposes).values_list("code", "name"))
    recipients = Organisation.objects.filter(pk__in=record.recipients).order_by("name")
    provision = {
        "type": "permit",
        "period": {"start": record.obtained_at.isoformat(), "end": record.expires_on.isoformat()},
        "purpose": [
            {"system": PURPOSE_SYSTEM, "code": code, "display": purposes.get(code, code)}
            for code in record.purposes
        ],
        "class": [{"system": DATA_CATEGORY_SYSTEM, "code": code} for code in record.data_categories],
    }
    if record.recipient_scope == RecipientScope.NAMED:
        provision["actor"] = [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "reference": _organisation_reference(organisation),
            }
            for organisation in recipients
        ]
    resource = {
        "resourceType": "Consent",
        "id": str(record.pk),
        "identifier": [{"system": RECORD_IDENTIFIER_SYSTEM, "value": str(record.pk)}],
        "extension": [
            {"url": STATE_EXTENSION, "valueCode": state},
            {"url": RECIPIENT_SCOPE_EXTENSION, "valueCode": record.recipient_scope},
            {"url": COLLECTION_METHOD_EXTENSION, "valueCode": record.collection_method},
            {"url": LANGUAGE_EXTENSION, "valueCode": record.language},
        ],
        "status": FHIR_STATUS[state],
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                    "display": "Privacy Consent",
                }
            ]
        },
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}
        ],
        "patient": {"reference": f"Patient/{record.person_id}"},
        "dateTime": record.obtained_at.isoformat(),
        "performer": [{"reference": f"Patient/{record.person_id}"}],
        "organization": [_organisation_reference(record.organisation)],
        "policy": [{"uri": f"{LEGAL_BASIS_SYSTEM}#{record.legal_basis}"}],
        "policyRule": {
            "coding": [
                {
                    "system": LEGAL_BASIS_SYSTEM,
                    "code": record.legal_basis,
                    "display": LegalBasis(record.legal_basis).label,
                }
            ]
        },
        "provision": provision,
    }
    if record.subject_is_minor and record.guardian_relationship:
        resource["verification"] = [
            {"verified": True, "verifiedWith": {"display": record.guardian_relationship}}
        ]
    return resource
