"""The world the authorization tests probe: who the callers are and which objects they aim at.

Four organisations in one operation:

- **H**, the home organisation: the focal point, caseworkers, a viewer, a deactivated member and
  a target member whose membership the member routes act on. H receives referrals.
- **X**, another organisation: its focal point is the "other organisation" caller; X holds the
  objects the home roles must not see (a person, a consent, a request, a membership, a referral).
- **S**, the sender: its caseworker sends both referrals (to H and to X) and holds their person.
  None of S's users is a caller.
- **I**, an inactive organisation with a service: the directory's objects hidden from partners.

The callers (``ROLES``, one symbol each) and the objects by kind and variant (``World.objects``)
are what the policy tables in ``tests/test_authorization_matrix.py`` speak about. The variants:
``own`` (H's), ``other`` (X's), ``inactive`` (I's organisation and service), ``restricted`` (H's
referral assigned with ``restrict=True`` to the caseworker C, which restricts out R and V),
``focal`` (the membership of H's focal point), ``erasure`` (H's erasure request), and for
pathways, which belong to the operation, ``published`` and ``draft``.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone
from knox.models import AuthToken

from consent import services as consent_services
from consent.models import Channel
from notifications.models import WebhookDelivery
from notifications.services import webhook_endpoint_register
from partners.hsds.mapping import CATEGORY_TAXONOMY_ID
from partners.models import Membership
from partners.services import membership_deactivate
from pathways import services as pathway_services
from pathways.models import Pathway
from referrals import services as referral_services
from tests.conftest import token_for
from tests.factories import (
    LocationFactory,
    OperationFactory,
    OrganisationFactory,
    PlatformAdminFactory,
    ServiceCategoryFactory,
    ServiceFactory,
    member,
)

# The callers, in the order the tables and reports use. -----------------------------------------
ADMIN = "A"  # platform admin (staff with partners.manage_platform; no organisation)
FOCAL = "F"  # H's focal point
CASEWORKER = "C"  # H's caseworker; the restricted referral is assigned to them
RESTRICTED_OUT = "R"  # H's caseworker restricted out of the restricted referral
VIEWER = "V"  # H's viewer
OTHER_FOCAL = "X"  # X's focal point
DEACTIVATED = "D"  # H's former caseworker: membership deactivated, token issued before
ANONYMOUS = "N"  # no credentials at all
EXPIRED = "E"  # H's caseworker with a knox token whose expiry has passed

ROLES = (ADMIN, FOCAL, CASEWORKER, RESTRICTED_OUT, VIEWER, OTHER_FOCAL, DEACTIVATED, ANONYMOUS, EXPIRED)
ROLE_NAMES = {
    ADMIN: "platform admin",
    FOCAL: "focal point",
    CASEWORKER: "caseworker",
    RESTRICTED_OUT: "restricted-out caseworker",
    VIEWER: "viewer",
    OTHER_FOCAL: "other organisation's focal point",
    DEACTIVATED: "deactivated member",
    ANONYMOUS: "anonymous",
    EXPIRED: "expired token",
}
# refused before anything else is looked at: the credentials themselves are not (or no longer) good
UNAUTHENTICATED = (DEACTIVATED, ANONYMOUS, EXPIRED)


@dataclass
class Org:
    organisation: object
    focal_point: object
    caseworker: object
    service: object = None
    person: object = None
    consent: object = None
    request: object = None  # an access request
    erasure: object = None  # an erasure request (only the focal point completes one)
    target: object = None  # a membership the member routes act on
    users: dict = field(default_factory=dict)


@dataclass
class World:
    admin: object
    h: Org
    x: Org
    s: Org
    inactive: Org
    location: object
    category: object
    published: Pathway
    draft: Pathway
    referral: object  # S → H, seen by all of H
    restricted: object  # S → H, assigned to H's caseworker with restrict=True
    foreign_referral: object  # S → X
    tokens: dict  # role symbol → token (None: anonymous)
    users: dict  # role symbol → user (None: anonymous)
    objects: dict  # kind → {variant: {"pk": id, other URL kwargs: id}}
    ids: dict  # name → (id, GraphQL type or None), for request bodies ("@h.person", "@x.service", …)


def expired_token(user) -> str:
    instance, token = AuthToken.objects.create(user=user, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(days=1))
    return token


def _organisation(acronym: str, operation) -> Org:
    organisation = OrganisationFactory(acronym=acronym, name=f"Organisation {acronym}", operation=operation)
    focal_point = member(organisation, Membership.Role.FOCAL_POINT, username=f"{acronym.lower()}.focal")
    caseworker = member(organisation, username=f"{acronym.lower()}.caseworker")
    return Org(organisation=organisation, focal_point=focal_point, caseworker=caseworker)


# H's and X's persons carry the same registration number: one search, each organisation its own
REGISTRATION_NUMBER = "MATRIX-24-000001"


def _person_and_consent(org: Org, recipients: list, registration_number: str = "") -> None:
    org.person = consent_services.person_create(
        actor=org.caseworker,
        registration_number=registration_number,
        given_name=f"Person of {org.organisation.acronym}",
        phone="+254 711 222 333",
        sex="female",
        age_band="18_59",
    )
    org.consent = consent_services.consent_create(
        actor=org.caseworker,
        person=org.person,
        collection_method="oral",
        language="en",
        purposes=["gbv_case_management"],
        recipient_scope="named",
        recipients=[organisation.pk for organisation in recipients],
        data_categories=["given_name", "phone"],
        expires_on=date.today() + timedelta(days=90),
    )
    org.request, org.erasure = (
        consent_services.data_subject_request_create(
            actor=org.caseworker, person=org.person, kind=kind, channel=Channel.IN_PERSON
        )
        for kind in ("access", "erasure")
    )


def _pathway(admin, operation, name: str, services: list, *, publish: bool) -> Pathway:
    pathway = pathway_services.pathway_create(actor=admin, operation=operation, name=name, theme="gbv")
    first = pathway_services.step_add(actor=admin, pathway=pathway, service=services[0], is_entry=True)
    second = pathway_services.step_add(actor=admin, pathway=pathway, service=services[1])
    pathway_services.link_add(actor=admin, pathway=pathway, from_step=first, to_step=second)
    if publish:
        pathway = pathway_services.pathway_publish(actor=admin, pathway=pathway)
    return pathway


def build_world() -> World:
    operation = OperationFactory(name="Authorization operation")
    category = ServiceCategoryFactory(code="gbv_case_management", name="GBV case management")
    location = LocationFactory(operation=operation)
    admin = PlatformAdminFactory(username="matrix.admin")

    h, x, s = (_organisation(acronym, operation) for acronym in ("H", "X", "S"))
    inactive = _organisation("I", operation)
    for org in (h, x, s, inactive):
        org.service = ServiceFactory(
            organisation=org.organisation,
            category=category,
            name=f"GBV case management {org.organisation.acronym}",
            required_fields=["given_name", "phone"],
            optional_fields=[],
        )
        org.service.locations.add(location)

    h.users = {
        "restricted_out": member(h.organisation, username="h.restricted-out"),
        "viewer": member(h.organisation, Membership.Role.VIEWER, username="h.viewer"),
        "deactivated": member(h.organisation, username="h.deactivated"),
        "target": member(h.organisation, username="h.target"),
    }
    x.users = {"target": member(x.organisation, username="x.target")}
    h.target = Membership.objects.get(user=h.users["target"])
    x.target = Membership.objects.get(user=x.users["target"])

    _person_and_consent(h, [x.organisation], REGISTRATION_NUMBER)
    _person_and_consent(x, [h.organisation], REGISTRATION_NUMBER)
    _person_and_consent(s, [h.organisation, x.organisation])

    def send(to: Org, key: str):
        return referral_services.referral_send(
            actor=s.caseworker, person=s.person, consent=s.consent, to_service=to.service, idempotency_key=key
        )

    referral = send(h, "matrix-open")
    restricted = send(h, "matrix-restricted")
    referral_services.referral_assign(
        actor=h.focal_point, referral=restricted, caseworker=h.caseworker, restrict=True
    )
    foreign_referral = send(x, "matrix-foreign")

    published = _pathway(admin, operation, "Published pathway", [s.service, h.service], publish=True)
    draft = _pathway(admin, operation, "Draft pathway", [s.service, x.service], publish=False)

    # tokens: every caller's own, issued before the deactivation, like a real stolen or kept token
    deactivated = h.users["deactivated"]
    deactivated_token = token_for(deactivated)
    membership_deactivate(actor=h.focal_point, membership=Membership.objects.get(user=deactivated))
    inactive.organisation.is_active = False
    inactive.organisation.save(update_fields=["is_active"])

    users = {
        ADMIN: admin,
        FOCAL: h.focal_point,
        CASEWORKER: h.caseworker,
        RESTRICTED_OUT: h.users["restricted_out"],
        VIEWER: h.users["viewer"],
        OTHER_FOCAL: x.focal_point,
        DEACTIVATED: deactivated,
        ANONYMOUS: None,
        EXPIRED: h.caseworker,
    }
    tokens = {role: token_for(user) for role, user in users.items() if user is not None}
    tokens[DEACTIVATED] = deactivated_token
    tokens[ANONYMOUS] = None
    tokens[EXPIRED] = expired_token(h.caseworker)

    def pk(obj) -> dict:
        return {"pk": str(obj.pk)}

    def pathway_ids(pathway: Pathway) -> dict:
        return {
            "pk": str(pathway.pk),
            "step_id": str(pathway.steps.order_by("key").first().pk),
            "link_id": str(pathway.links.first().pk),
        }

    def first_event(referral) -> dict:
        return pk(referral.events.order_by("at", "id").first())

    # webhook endpoints of H and X, each with a dead letter to replay
    hooks = {
        org.organisation.acronym: webhook_endpoint_register(
            actor=org.focal_point,
            url=f"https://hooks.{org.organisation.acronym.lower()}.example.org/in",
            events=["new_referral"],
        )
        for org in (h, x)
    }
    dead = {
        acronym: WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_key=uuid.uuid4(),
            kind="new_referral",
            body="{}",
            status=WebhookDelivery.Status.DEAD,
            retry_until=timezone.now(),
            created_at=timezone.now(),
            dead_at=timezone.now(),
        )
        for acronym, endpoint in hooks.items()
    }

    objects = {
        "webhook": {"own": pk(hooks["H"]), "other": pk(hooks["X"])},
        "webhook-delivery": {"own": pk(dead["H"]), "other": pk(dead["X"])},
        "organisation": {
            "own": pk(h.organisation),
            "other": pk(x.organisation),
            "inactive": pk(inactive.organisation),
        },
        # a caseworker's membership, the focal point's (its role is fixed, its lockout is the admins'),
        # and X's caseworker's
        "membership": {
            "own": pk(h.target),
            "focal": pk(Membership.objects.get(user=h.focal_point)),
            "other": pk(x.target),
        },
        "service": {"own": pk(h.service), "other": pk(x.service), "inactive": pk(inactive.service)},
        "location": {"own": pk(location)},
        "person": {"own": pk(h.person), "other": pk(x.person)},
        "consent": {"own": pk(h.consent), "other": pk(x.consent)},
        "data-subject-request": {"own": pk(h.request), "erasure": pk(h.erasure), "other": pk(x.request)},
        # pathways belong to the operation, not to an organisation: what partners must not see
        # is a draft
        "pathway": {"published": pathway_ids(published), "draft": pathway_ids(draft)},
        "pathway-step": {
            "published": {"pk": pathway_ids(published)["step_id"]},
            "draft": {"pk": pathway_ids(draft)["step_id"]},
        },
        "pathway-link": {
            "published": {"pk": pathway_ids(published)["link_id"]},
            "draft": {"pk": pathway_ids(draft)["link_id"]},
        },
        "referral": {"own": pk(referral), "restricted": pk(restricted), "other": pk(foreign_referral)},
        "referral-event": {
            "own": first_event(referral),
            "restricted": first_event(restricted),
            "other": first_event(foreign_referral),
        },
        # the vocabulary is the same for every caller: nothing to hide
        "taxonomy": {"category": {"pk": str(CATEGORY_TAXONOMY_ID)}},
        "taxonomy-term": {"category": pk(category)},
    }
    # fixed objects request bodies and GraphQL arguments name as "@name"
    refs = {
        "operation": (operation, None),
        "location": (location, "Location"),
        "h.organisation": (h.organisation, "Organisation"),
        "h.person": (h.person, None),
        "h.consent": (h.consent, None),
        "h.service": (h.service, "Service"),
        "x.service": (x.service, "Service"),
        "s.service": (s.service, "Service"),
        "h.target": (h.target, "Caseworker"),  # a membership: GraphQL's Caseworker.id
        "published.step": (published.steps.order_by("key").first(), None),
        "published.step2": (published.steps.order_by("key").last(), None),
    }
    ids = {name: (str(obj.pk), graphql_type) for name, (obj, graphql_type) in refs.items()}
    return World(
        admin=admin,
        h=h,
        x=x,
        s=s,
        inactive=inactive,
        location=location,
        category=category,
        published=published,
        draft=draft,
        referral=referral,
        restricted=restricted,
        foreign_referral=foreign_referral,
        tokens=tokens,
        users=users,
        objects=objects,
        ids=ids,
    )
