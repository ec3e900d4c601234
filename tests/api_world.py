"""One small operation with a row behind every REST route, for the tests that walk all routes
(hostile input) and the schema fuzz. Its ``user`` reaches the most: focal point of the sending
organisation and platform admin, so drafts, persons, consents and sent referrals all answer."""

from dataclasses import dataclass

from django.contrib.auth.models import Permission

from consent.services import data_subject_request_create
from partners.models import Membership, Service
from pathways.models import Pathway, PathwayLink, PathwayStep
from referrals.models import Referral
from tests.factories import (
    LocationFactory,
    PathwayFactory,
    PathwayLinkFactory,
    PathwayStepFactory,
    ServiceFactory,
)
from tests.referrals.referral_setup import World, build_world


@dataclass
class ApiWorld:
    world: World
    user: object
    referral: Referral
    pathway: Pathway
    step: PathwayStep
    link: PathwayLink
    service_a: Service
    data_subject_request: object
    membership: Membership
    location: object

    def ids(self) -> dict[str, str]:
        """The row each URL keyword of each route family points at (see ``path_ids``)."""
        return {
            "organisation": str(self.world.a.id),
            "membership": str(self.membership.id),
            "service": str(self.world.service_b.id),
            "person": str(self.world.person.id),
            "consent": str(self.world.consent.id),
            "data-subject-request": str(self.data_subject_request.id),
            "pathway": str(self.pathway.id),
            "referral": str(self.referral.id),
            "step_id": str(self.step.id),
            "link_id": str(self.link.id),
            "hsds-service": str(self.world.service_b.id),
            "hsds-organization": str(self.world.a.id),
            "hsds-taxonomy": "00000000-0000-0000-0000-000000000000",
            "hsds-taxonomy-term": str(self.world.service_b.category_id),
        }


def build_api_world() -> ApiWorld:
    world = build_world()
    user = world.a.focal_point
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename="manage_platform"))
    location = LocationFactory(operation=world.a.operation)
    service_a = ServiceFactory(organisation=world.a, category=world.service_b.category, name="Intake A")
    service_a.locations.add(location)
    pathway = PathwayFactory(operation=world.a.operation, name="Hostile input pathway")
    step = PathwayStepFactory(pathway=pathway, service=service_a, key="intake", is_entry=True)
    to_step = PathwayStepFactory(pathway=pathway, service=world.service_b, key="gbv")
    link = PathwayLinkFactory(pathway=pathway, from_step=step, to_step=to_step, key="intake-gbv")
    referral = world.send(actor=user, idempotency_key="api-world")
    request = data_subject_request_create(actor=user, person=world.person, kind="access", channel="phone")
    membership = Membership.objects.get(user=world.a.caseworker)
    return ApiWorld(
        world=world,
        user=user,
        referral=referral,
        pathway=pathway,
        step=step,
        link=link,
        service_a=service_a,
        data_subject_request=request,
        membership=membership,
        location=location,
    )
