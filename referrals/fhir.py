"""A referral as a FHIR R4 ``Bundle`` (type ``collection``): a ``ServiceRequest`` (what was asked of
whom), a ``Task`` (where it stands) and a ``Patient`` built from the shared payload only.

Pure: takes a referral (with its services and organisations loaded) and, for a declined or
withdrawn referral, the event that ended it; issues no queries. The Patient never carries the
holding organisation's person id: its id is derived from the referral, so two referrals about the
same person cannot be linked through it. Local code systems are documented in docs/referrals.md.
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from consent.fhir import CODE_SYSTEM_BASE, PURPOSE_SYSTEM
from referrals.facts import ReferralFacts
from referrals.models import Referral, ReferralEvent

REFERENCE_SYSTEM = f"{CODE_SYSTEM_BASE}/NamingSystem/referral-reference"
REGISTRATION_SYSTEM = f"{CODE_SYSTEM_BASE}/NamingSystem/registration-number"
STATUS_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/referral-status"
DECLINE_REASON_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/decline-reason"
WITHDRAW_REASON_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/withdraw-reason"
OUTCOME_SYSTEM = f"{CODE_SYSTEM_BASE}/CodeSystem/referral-outcome"
FIELD_EXTENSION_BASE = f"{CODE_SYSTEM_BASE}/StructureDefinition/person-"

S = Referral.Status
TASK_STATUS = {
    S.SENT: "requested",
    S.ACKNOWLEDGED: "received",
    S.ACCEPTED: "accepted",
    S.DECLINED: "rejected",
    S.COMPLETED: "completed",
    S.CLOSED: "completed",
    S.WITHDRAWN: "cancelled",
}
SERVICE_REQUEST_STATUS = {
    S.SENT: "active",
    S.ACKNOWLEDGED: "active",
    S.ACCEPTED: "active",
    S.DECLINED: "revoked",
    S.COMPLETED: "completed",
    S.CLOSED: "completed",
    S.WITHDRAWN: "revoked",
}
PRIORITY = {"emergency": "stat", "urgent": "urgent", "normal": "routine"}
# the events that end a referral with a reason (Task.statusReason)
REASON_EVENTS = (
    ReferralEvent.Kind.DECLINED,
    ReferralEvent.Kind.WITHDRAWN,
    ReferralEvent.Kind.CONSENT_WITHDRAWN,
)
# payload fields without a core Patient element travel as simple extensions
_EXTENSION_VALUE_TYPE = {
    "best_time_to_call": "valueString",
    "preferred_channel": "valueCode",
    "age_band": "valueCode",
    "household_size": "valueInteger",
    "specific_needs": "valueCode",
    "protection_concerns": "valueString",
}


def _urn(value) -> str:
    return f"urn:uuid:{value}"


def _organisation(organisation) -> dict:
    return {"reference": f"Organization/{organisation.pk}", "display": organisation.name}


def _patient(patient_id: str, payload: dict) -> dict:
    """Only what the payload carries; nothing is looked up in the person record."""
    patient: dict = {"resourceType": "Patient", "id": patient_id}
    extensions = []
    name = {}
    if payload.get("family_name"):
        name["family"] = payload["family_name"]
    if payload.get("given_name"):
        name["given"] = [payload["given_name"]]
    if name:
        patient["name"] = [name]
    if payload.get("registration_number"):
        patient["identifier"] = [{"system": REGISTRATION_SYSTEM, "value": payload["registration_number"]}]
    if payload.get("phone"):
        patient["telecom"] = [{"system": "phone", "value": payload["phone"]}]
    if payload.get("sex"):
        patient["gender"] = payload["sex"]  # our values are FHIR's AdministrativeGender codes
    if payload.get("date_of_birth"):
        patient["birthDate"] = payload["date_of_birth"]
    if payload.get("location"):
        patient["address"] = [{"text": payload["location"]}]
    if payload.get("preferred_language"):
        patient["communication"] = [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": payload["preferred_language"]}]
                },
                "preferred": True,
            }
        ]
    for field, value_type in _EXTENSION_VALUE_TYPE.items():
        value = payload.get(field)
        if value in (None, "", []):
            continue
        url = FIELD_EXTENSION_BASE + field.replace("_", "-")
        for item in value if isinstance(value, list) else [value]:
            extensions.append({"url": url, value_type: item})
    if extensions:
        patient["extension"] = extensions
    return patient


def _status_reason(event: ReferralEvent | None) -> dict | None:
    if event is None or not event.reason_code:
        return None
    system = DECLINE_REASON_SYSTEM if event.kind == ReferralEvent.Kind.DECLINED else WITHDRAW_REASON_SYSTEM
    return {
        "coding": [{"system": system, "code": event.reason_code}],
        "text": event.reason_code.replace("_", " ").capitalize(),
    }


def referral_bundle(
    referral: Referral, *, facts: ReferralFacts, reason_event: ReferralEvent | None = None
) -> dict:
    """What the caller may know (``facts``) as FHIR: the Patient carries the payload the facts
    show and nothing else (a tombstone or an erased referral gives an empty Patient).
    ``reason_event``: the decline or withdrawal event, for ``Task.statusReason``."""
    payload = facts.payload or {}
    holds_person = facts.holds_person
    service = referral.to_service
    category = service.category
    patient_id = str(uuid.uuid5(referral.id, "patient"))
    consent_id = referral.consent_id if holds_person else uuid.uuid5(referral.id, "consent")
    task_id = str(uuid.uuid5(referral.id, "task"))
    reference = [{"system": REFERENCE_SYSTEM, "value": referral.reference}]
    category_concept = {
        "coding": [{"system": PURPOSE_SYSTEM, "code": category.code, "display": category.name}],
        "text": service.name,
    }

    service_request: dict = {
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "identifier": reference,
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "category": [{"coding": category_concept["coding"]}],
        "priority": PRIORITY[referral.urgency],
        "code": category_concept,
        "subject": {"reference": _urn(patient_id)},
        "authoredOn": referral.created_at.isoformat(),
        "requester": _organisation(referral.from_organisation),
        "performer": [_organisation(referral.to_organisation)],
        # only the organisation holding the person sees the consent's own id; for anyone else an id
        # per referral, so two referrals about one person cannot be linked through their consent
        "supportingInfo": [{"reference": f"Consent/{consent_id}", "type": "Consent"}],
    }
    if payload.get("narrative"):
        service_request["note"] = [{"text": payload["narrative"]}]

    task: dict = {
        "resourceType": "Task",
        "id": task_id,
        "identifier": reference,
        "basedOn": [{"reference": _urn(referral.id)}],
        "status": TASK_STATUS[referral.status],
        "businessStatus": {
            "coding": [{"system": STATUS_SYSTEM, "code": referral.status}],
            "text": referral.get_status_display(),
        },
        "intent": "order",
        "priority": PRIORITY[referral.urgency],
        "focus": {"reference": _urn(referral.id)},
        "for": {"reference": _urn(patient_id)},
        "authoredOn": referral.created_at.isoformat(),
        "lastModified": referral.updated_at.isoformat(),
        "requester": _organisation(referral.from_organisation),
        "owner": _organisation(referral.to_organisation),
        "restriction": {"period": {"end": referral.due_by.isoformat()}},
    }
    if referral.status in (S.DECLINED, S.WITHDRAWN) and (reason := _status_reason(reason_event)):
        task["statusReason"] = reason
    if referral.outcome:
        task["output"] = [
            {
                "type": {"text": "Outcome"},
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": OUTCOME_SYSTEM,
                            "code": referral.outcome,
                            "display": referral.get_outcome_display(),
                        }
                    ]
                },
            }
        ]

    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(referral.id, "bundle")),
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [
            {"fullUrl": _urn(referral.id), "resource": service_request},
            {"fullUrl": _urn(task_id), "resource": task},
            {"fullUrl": _urn(patient_id), "resource": _patient(patient_id, payload)},
        ],
    }
