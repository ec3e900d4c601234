"""A small world for referral tests: A refers a person to B's service; C is not a party."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from partners.models import Organisation, Service
from referrals import services
from tests.factories import (
    ConsentRecordFactory,
    PersonFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    member,
    organisation_with_focal_point,
)


@dataclass
class World:
    a: Organisation
    b: Organisation
    c: Organisation
    service_b: Service
    person: object
    consent: object

    def send(self, actor=None, **kwargs):
        arguments = {
            "actor": actor or self.a.caseworker,
            "person": self.person,
            "consent": self.consent,
            "to_service": self.service_b,
            "idempotency_key": kwargs.pop("idempotency_key", f"key-{timezone.now().timestamp()}"),
        }
        arguments.update(kwargs)
        return services.referral_send(**arguments)


def organisation(acronym: str) -> Organisation:
    organisation, focal_point = organisation_with_focal_point(acronym=acronym, name=f"Organisation {acronym}")
    organisation.focal_point = focal_point
    organisation.caseworker = member(organisation)
    organisation.caseworker2 = member(organisation)
    organisation.viewer = member(organisation, "viewer")
    return organisation


def build_world(recipient: str = "b", **consent_fields) -> World:
    a, b, c = organisation("A"), organisation("B"), organisation("C")
    gbv = ServiceCategoryFactory(code="gbv_case_management", name="GBV case management")
    service_b = ServiceFactory(
        organisation=b,
        category=gbv,
        name="GBV case management B",
        required_fields=["given_name", "phone"],
        optional_fields=["best_time_to_call", "narrative", "protection_concerns"],
    )
    person = PersonFactory(
        organisation=a,
        given_name="Amal",
        phone="+254700111222",
        best_time_to_call="mornings",
        protection_concerns="threatened by neighbour",
        narrative="long narrative held by A",
    )
    fields = {
        "person": person,
        "obtained_by": a.caseworker,
        "recipient_scope": "named",
        "recipients": [{"b": b, "c": c}[recipient].id],
        "purposes": ["gbv_case_management"],
        "data_categories": ["given_name", "phone", "best_time_to_call"],
        "expires_on": date.today() + timedelta(days=30),
    }
    fields.update(consent_fields)
    consent = ConsentRecordFactory(**fields)
    return World(a=a, b=b, c=c, service_b=service_b, person=person, consent=consent)
