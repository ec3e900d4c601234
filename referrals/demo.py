"""Demo referrals, sent through the services by a UNHCR officer (idempotent by their keys)."""

from django.contrib.auth import get_user_model

from consent.crypto import registration_number_hash
from consent.models import Person
from partners.models import Service
from referrals import services

User = get_user_model()

DEMO_REFERRALS = (
    # (idempotency key, registration number, service, optional fields, urgency, note)
    (
        "demo-1",
        "KAK-23-000101",
        "GBV case management",
        (),
        "urgent",
        "Asks for a woman caseworker.",
    ),
    ("demo-2", "KAK-23-000101", "Psychosocial support", (), "normal", ""),
)


def load_demo_referrals() -> list:
    officer = User.objects.filter(username="peter.unhcr").first()
    if officer is None:
        return []
    sent = []
    for key, number, service_name, optional, urgency, note in DEMO_REFERRALS:
        person = Person.objects.filter(registration_number_hash=registration_number_hash(number)).first()
        service = Service.objects.filter(name=service_name).first()
        if person is None or service is None:
            continue
        consent = person.consents.filter(status="active").order_by("-version").first()
        sent.append(
            services.referral_send(
                actor=officer,
                person=person,
                consent=consent,
                to_service=service,
                urgency=urgency,
                reason_note=note,
                optional_fields=optional,
                idempotency_key=key,
            )
        )
    return sent
