"""Demo persons and consents, created through the services as officers would (idempotent).

Called by ``manage.py load_demo`` after the directory is loaded. Also gives the focal points of
UNHCR and the GBV partner (WPA) the permission to record a legal basis other than consent.
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from consent import services
from consent.crypto import registration_number_hash
from consent.models import Person
from partners.models import Location, Membership, Organisation

User = get_user_model()

NON_CONSENT_BASIS_ORGANISATIONS = ("UNHCR", "WPA")


def _org(acronym: str) -> Organisation:
    return Organisation.objects.get(acronym=acronym)


def _demo_persons(today: date) -> list[dict]:
    kakuma = Location.objects.filter(name="Kakuma camp").first()
    kalobeyei = Location.objects.filter(name="Kalobeyei settlement").first()
    return [
        {
            "person": {
                "registration_number": "KAK-23-000101",
                "given_name": "Halima",
                "family_name": "Demo-Adan",
                "phone": "+254 700 000 101",
                "best_time_to_call": "Mornings, before 10:00",
                "preferred_language": "ar",
                "preferred_channel": "phone",
                "sex": "female",
                "date_of_birth": date(today.year - 29, 3, 14),
                "location": kakuma,
                "location_detail": "Block 4, shelter 12 (demo)",
                "household_size": 4,
            },
            "consent": {
                "collection_method": "oral",
                "language": "ar",
                "interpreter_used": True,
                "purposes": ["gbv_case_management", "mhpss"],
                "recipient_scope": "named",
                "recipients": [_org("WPA"), _org("LPAN")],
                "data_categories": ["given_name", "phone", "best_time_to_call", "preferred_language", "sex"],
                "expires_on": today + timedelta(days=180),
            },
        },
        {
            "person": {
                "registration_number": "KAK-24-000202",
                "given_name": "Deng",
                "family_name": "Demo-Garang",
                "preferred_language": "en",
                "sex": "male",
                "age_band": "12_17",
                "location": kalobeyei,
                "household_size": 1,
            },
            "consent": {
                "collection_method": "written",
                "language": "en",
                "purposes": ["child_protection", "family_tracing"],
                "recipient_scope": "named",
                "recipients": [_org("CFK")],
                "data_categories": ["given_name", "family_name", "age_band", "sex", "location"],
                "expires_on": today + timedelta(days=90),
                "child_assent": True,
                "unaccompanied_or_separated": True,
                "best_interests_reference": "BIA-KAK-2024-0042 (demo)",
            },
        },
        {
            "person": {
                "registration_number": "KAK-22-000303",
                "given_name": "Esther",
                "family_name": "Demo-Mbuyi",
                "phone": "+254 700 000 303",
                "preferred_language": "fr",
                "preferred_channel": "sms",
                "sex": "female",
                "age_band": "18_59",
                "location": kakuma,
                "protection_concerns": "Demo: risk of eviction, lost documents.",
            },
            "consent": {
                "collection_method": "digital",
                "language": "fr",
                "purposes": ["legal_aid", "protection_desk"],
                "recipient_scope": "pathway",
                "data_categories": ["given_name", "phone", "preferred_language", "protection_concerns"],
                "expires_on": today + timedelta(days=365),
            },
        },
    ]


def load_consent_demo() -> None:
    permission = Permission.objects.get(
        content_type__app_label="consent", codename="record_non_consent_basis"
    )
    for acronym in NON_CONSENT_BASIS_ORGANISATIONS:
        focal = Membership.objects.filter(
            organisation__acronym=acronym, role=Membership.Role.FOCAL_POINT, is_active=True
        ).first()
        if focal:
            focal.user.user_permissions.add(permission)

    officer = User.objects.filter(username="peter.unhcr").first()
    if officer is None:
        return
    today = date.today()
    for item in _demo_persons(today):
        number = item["person"]["registration_number"]
        if Person.objects.filter(registration_number_hash=registration_number_hash(number)).exists():
            continue
        person = services.person_create(actor=officer, **item["person"])
        services.consent_create(actor=officer, person=person, **item["consent"])
