"""Who may call what: every REST route and every GraphQL field, for every kind of caller.

The endpoints are **read from the code**, not listed here: the URL conf is walked
(``get_resolver()``), each route's methods come from its view (a viewset route's method → action
map, which the router builds from the actions and ``get_extra_actions()``, filtered by the
view's ``http_method_names``; an APIView's handlers), and the GraphQL fields come from
``hub.schema.schema``. The tables below say who may call each one. A route, method or field
without an entry fails :func:`test_every_endpoint_has_a_policy` (and its own test), so a new
endpoint cannot ship unreviewed; adding its line to the table is all a new endpoint needs.

Reading the table. One line per endpoint, ``"<route name> <METHOD>"`` for REST, the field name
for GraphQL (``node(Type)`` for each type ``node(id:)`` resolves). Each line says, for each object
the endpoint is aimed at (the variants of ``tests.authorization_world``: ``own`` is H's, ``other``
X's, ``restricted`` H's referral confined to one caseworker, ``inactive`` an inactive
organisation's, ``published``/``draft`` pathways), what each caller gets::

    P(own="ok:FCRV 403:A 404:X", other="ok:X 404:*")

``<outcome>:<callers>`` groups; callers are the symbols of ``ROLES`` (A admin, F focal point,
C caseworker, R restricted-out caseworker, V viewer, X other organisation's focal point,
D deactivated member, N anonymous, E expired token); ``*`` is every signed-in caller (A F C R V X)
not named in another group. D, N and E get 401 unless a group names them. Outcomes:

- ``ok`` 2xx; ``400`` / ``409`` past authorisation, refused for the input or the state (the
  caller may do this, not with this body or not now);
- ``403`` refused: the caller may see the object but not do this;
- ``404`` hidden: **byte-identical** (status, content type, body) to the answer for random ids;
  for GraphQL, the same JSON (``null``, or the same error with the same ``field``);
- ``401`` not authenticated (with ``WWW-Authenticate: Token`` on REST);
- ``-`` (lists) answers 2xx but does not list the object; ``ok`` on a list: lists it.

Every request runs in a transaction rolled back afterwards, so each case starts from the same
world; a refused request that would write (POST, PATCH, DELETE, a mutation) must leave every
table of the domain exactly as it was (one hash over all of them, before and after).

``body``/``query``/``args`` give what a request sends; ``"@name"`` is the id of a fixed object of
the world (``World.ids``), ``"@"`` (GraphQL) the id of the object the line aims at. Random-id
twins replace every one of them. ``of`` names the objects of a route the router does not name.
HEAD (the GET handler) and OPTIONS (DRF's metadata, behind the same authentication) are not
listed. The Django admin (session login, staff only) is tested in tests/partners/test_admin.py; the
console's pages (session login, the same selectors and services) in tests/console.

Known bugs (``KNOWN_BUGS``) are the cells where the code does not do what the table says; they
are proven, failing, in tests/test_authorization_regressions.py, and here they must still differ from
the table, so a fix makes this module say to delete the entry.
"""

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLResolver, get_resolver, reverse
from graphene_django.views import GraphQLView
from graphql import GraphQLNonNull, Undefined, get_named_type
from graphql_relay import to_global_id

from common.errors import REGISTRY
from hub.schema import schema
from pathways.selectors import graph_cache_clear
from tests.authorization_world import (
    ADMIN,
    CASEWORKER,
    FOCAL,
    OTHER_FOCAL,
    REGISTRATION_NUMBER,
    RESTRICTED_OUT,
    ROLE_NAMES,
    ROLES,
    UNAUTHENTICATED,
    VIEWER,
    build_world,
)

SIGNED_IN = (ADMIN, FOCAL, CASEWORKER, RESTRICTED_OUT, VIEWER, OTHER_FOCAL)
assert set(SIGNED_IN) | set(UNAUTHENTICATED) == set(ROLES)
OUTCOMES = ("ok", "400", "409", "403", "404", "401", "-")
REFUSALS = ("401", "403", "404")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
OBJECT = "@"  # GraphQL argument: the object the line aims at
# the GraphQL type of each kind of object, for global ids
GRAPHQL_TYPES = {
    "organisation": "Organisation",
    "service": "Service",
    "location": "Location",
    "membership": "Caseworker",
    "pathway": "Pathway",
    "pathway-step": "PathwayStep",
    "pathway-link": "PathwayLink",
    "referral": "Referral",
    "referral-event": "ReferralEvent",
    "webhook": "WebhookEndpoint",
    "webhook-delivery": "WebhookDelivery",
}


# The policy notation -----------------------------------------------------------------------


def parse(spec: str) -> dict[str, str]:
    """``"ok:AF 403:* 404:X"`` → the outcome of every caller (see the module docstring)."""
    named: dict[str, str] = {}
    rest = None
    for group in spec.split():
        outcome, _, callers = group.partition(":")
        assert outcome in OUTCOMES, f"{spec!r}: unknown outcome {outcome!r}"
        assert callers, f"{spec!r}: {group!r} names no caller"
        for symbol in callers:
            if symbol == "*":
                assert rest is None, f"{spec!r}: '*' twice"
                rest = outcome
                continue
            assert symbol in ROLES, f"{spec!r}: unknown caller {symbol!r}"
            assert symbol not in named, f"{spec!r}: {symbol} twice"
            named[symbol] = outcome
    missing = [role for role in SIGNED_IN if role not in named]
    assert rest is not None or not missing, f"{spec!r}: says nothing of {''.join(missing)}"
    return {role: named.get(role, rest if role in SIGNED_IN else "401") for role in ROLES}


class P:
    """One endpoint's line: one ``spec`` when it aims at no object, else one spec per variant
    of its objects; what the request sends (``body``, ``query``, GraphQL ``args``); ``of``, the
    kind of its objects when the router does not name it."""

    def __init__(self, spec=None, *, of=None, body=None, query=None, args=None, **variants):
        assert (spec is None) != (not variants), "give either one spec or one per variant"
        self.spec, self.variants, self.of = spec, variants, of
        self.body, self.query, self.args = body, query, args

    def outcomes(self) -> dict[str, dict[str, str]]:
        if self.spec is not None:
            return {"-": parse(self.spec)}
        return {variant: parse(spec) for variant, spec in self.variants.items()}


# Request bodies ----------------------------------------------------------------------------

VIEWER_QUERY = "{ viewer { username } }"
NEW_WEBHOOK = {"url": "https://hooks.matrix.example.org/in", "events": ["new_referral"]}
NEW_ORGANISATION = {
    "name": "Matrix Trust",
    "acronym": "MTX",
    "kind": "national_ngo",
    "operation": "Authorization operation",
}
NEW_MEMBER = {"username": "matrix.new-member", "role": "caseworker", "email": "new-member@example.org"}
NEW_SERVICE = {"name": "Matrix service", "category": "gbv_case_management", "organisation": "@h.organisation"}
NEW_PERSON = {"given_name": "Neema", "age_band": "18_59"}
NEW_CONSENT = {
    "person": "@h.person",
    "collection_method": "oral",
    "language": "en",
    "purposes": ["gbv_case_management"],
    "recipient_scope": "pathway",
    "data_categories": ["given_name", "phone"],
    "expires_on": "2099-01-01",
}
NEW_REQUEST = {"person": "@h.person", "kind": "access", "channel": "in_person"}
NEW_REFERRAL = {
    "person": "@h.person",
    "consent": "@h.consent",
    "to_service": "@x.service",
    "idempotency_key": "matrix-new",
}
ONWARD = {"to_service": "@x.service", "idempotency_key": "matrix-onward"}
QUESTION = {"service": "@s.service"}
ROUTE_QUESTION = {"service": "@s.service", "category": "gbv_case_management"}
NEW_PATHWAY = {"operation": "@operation", "name": "Matrix", "theme": "gbv"}
NEW_LINK = {"from_step": "@published.step", "to_step": "@published.step2"}
REFERRAL_ID = {"id": OBJECT}
PAGE = {"first": 100}
ONWARD_ARGS = {"id": OBJECT, "toService": "@x.service", "idempotencyKey": "matrix-onward"}


# The REST table, by app ---------------------------------------------------------------------
# fmt: off
HUB = {  # the root, the schema, the token login, the GraphQL endpoint itself
    "api-root GET":   P("ok:*N"),
    "schema GET":     P("ok:*N"),
    "swagger-ui GET": P("ok:*N"),
    "login POST":     P("400:*DNE"),  # no body; credentials are ignored
    "activate POST":  P("400:*DNE"),  # no body; the token in the body is the credential
    "totp-setup POST":   P("ok:*"),
    "totp-confirm POST": P("400:*"),  # no code in the body
    "logout POST":    P("ok:*"),
    "logoutall POST": P("ok:*"),
    "me GET":         P("ok:*"),
    # one's own notices and preferences only: the selector filters by the caller
    "notification-list GET":           P("ok:*"),
    "notification-read POST":          P("ok:*", body={"all": True}),
    "notification-preferences GET":    P("ok:*"),
    "notification-preferences PATCH":  P("ok:*", body={"language": "fr"}),
    # webhooks: the organisation's focal point only; another organisation's are not found
    "webhook-list GET":                P(own="ok:F 403:ACRV -:X", other="ok:X 403:ACRV -:F", of="webhook"),
    "webhook-list POST":               P("ok:FX 403:*", body=NEW_WEBHOOK),
    "webhook-detail GET":              P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook"),
    "webhook-detail PATCH":            P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook",
                                         body={"is_active": False}),
    "webhook-detail DELETE":           P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook"),
    "webhook-rotate-secret POST":      P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook"),
    "webhook-deliveries GET":          P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook"),
    "webhook-delivery-replay POST":    P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook-delivery"),
    "graphql GET":    P("ok:*", query={"query": VIEWER_QUERY}),
    "graphql POST":   P("ok:*", body={"query": VIEWER_QUERY}),
}
PARTNERS = {  # organisations, memberships, the service directory
    "organisation-list GET":                    P(own="ok:*", other="ok:*", inactive="ok:A -:*"),
    "organisation-list POST":                   P("ok:A 403:*", body=NEW_ORGANISATION),
    "organisation-detail GET":                  P(own="ok:*", other="ok:*", inactive="ok:A 404:*"),
    "organisation-detail PATCH":                P(own="ok:A 403:*", other="ok:A 403:*", inactive="ok:A 404:*",
                                                  body={"partnership": "none"}),
    "organisation-data-sharing-agreement POST": P(own="ok:A 403:*", other="ok:A 403:*", inactive="ok:A 404:*",
                                                  body={"signed_on": "2025-01-01"}),
    "organisation-focal-point POST":            P(own="ok:A 403:*", other="ok:A 403:*", inactive="ok:A 404:*",
                                                  body={"username": "matrix.fp", "create_user": True,
                                                        "email": "fp@example.org"}),
    "membership-list GET":                      P(own="ok:AFCRV -:X", focal="ok:AFCRV -:X",
                                                  other="ok:AX -:*"),
    "membership-list POST":                     P("ok:FX 403:*", body=NEW_MEMBER),
    "membership-detail GET":                    P(own="ok:AFCRV 404:X", focal="ok:AFCRV 404:X",
                                                  other="ok:AX 404:*"),
    "membership-detail PATCH":                  P(own="ok:AF 403:CRV 404:X", focal="400:AF 403:CRV 404:X",
                                                  other="ok:AX 404:*", body={"role": "viewer"}),
    "membership-deactivate POST":               P(own="ok:AF 403:CRV 404:X", focal="400:AF 403:CRV 404:X",
                                                  other="ok:AX 404:*"),
    "membership-unlock POST":                   P(own="ok:AF 403:CRV 404:X", focal="ok:A 403:FCRV 404:X",
                                                  other="ok:AX 404:*"),
    # the members of the world chose their passwords already: a new link is refused for the state
    "membership-activation-link POST":          P(own="409:AF 403:CRV 404:X", focal="409:AF 403:CRV 404:X",
                                                  other="409:AX 404:*"),
    "service-list GET":                         P(own="ok:*", other="ok:*", inactive="ok:A -:*"),
    "service-list POST":                        P("ok:AFX 403:*", body=NEW_SERVICE),
    "service-detail GET":                       P(own="ok:*", other="ok:*", inactive="ok:A 404:*"),
    "service-detail PATCH":                     P(own="ok:AF 403:*", other="ok:AX 403:*",
                                                  inactive="ok:A 404:*", body={"description": "Changed"}),
}
CONSENT = {  # persons, consent records, data-subject requests: never outside the organisation
    "person-list GET":                    P(own="ok:FCRV -:*", other="ok:X -:*"),
    "person-list POST":                   P("ok:FCRX 403:*", body=NEW_PERSON),
    "person-search POST":                 P(own="ok:FCRV -:*", other="ok:X -:*",
                                            body={"registration_number": REGISTRATION_NUMBER}),
    "person-detail GET":                  P(own="ok:FCRV 404:*", other="ok:X 404:*"),
    "person-detail PATCH":                P(own="ok:FCR 403:V 404:*", other="ok:X 404:*",
                                            body={"phone": "+254 700 000 001"}),
    "consent-list GET":                   P(own="ok:FCRV -:*", other="ok:X -:*"),
    "consent-list POST":                  P("ok:FCR 403:V 404:*", body=NEW_CONSENT),
    "consent-detail GET":                 P(own="ok:FCRV 404:*", other="ok:X 404:*"),
    "consent-fhir GET":                   P(own="ok:FCRV 404:*", other="ok:X 404:*"),
    "consent-receipt GET":                P(own="ok:FCRV 404:*", other="ok:X 404:*"),
    "consent-versions POST":              P(own="ok:FCR 403:V 404:*", other="ok:X 404:*"),
    # a viewer may record a withdrawal: it must never wait for the right colleague (docs/consent.md)
    "consent-withdraw POST":              P(own="ok:FCRV 404:*", other="ok:X 404:*",
                                            body={"channel": "in_person"}),
    "data-subject-request-list GET":      P(own="ok:FCRV -:*", erasure="ok:FCRV -:*", other="ok:X -:*"),
    "data-subject-request-list POST":     P("ok:FCR 403:V 404:*", body=NEW_REQUEST),
    "data-subject-request-detail GET":    P(own="ok:FCRV 404:*", erasure="ok:FCRV 404:*", other="ok:X 404:*"),
    "data-subject-request-complete POST": P(own="ok:FCR 403:V 404:*", erasure="ok:F 403:CRV 404:*",
                                            other="ok:X 404:*"),
    "data-subject-request-reject POST":   P(own="ok:FCR 403:V 404:*", erasure="ok:FCR 403:V 404:*",
                                            other="ok:X 404:*", body={"outcome": "Not ours to answer."}),
}
PATHWAYS = {  # platform admins write drafts; every signed-in caller reads published versions
    "pathway-list GET":                   P(published="ok:*", draft="ok:A -:*"),
    "pathway-list POST":                  P("ok:A 403:*", body=NEW_PATHWAY),
    "pathway-import-document POST":       P("400:A 403:*"),
    "pathway-alternatives-anywhere GET":  P("ok:*", query=QUESTION),
    "pathway-alternatives-anywhere POST": P("ok:*", body=QUESTION),
    "pathway-detail GET":                 P(published="ok:*", draft="ok:A 404:*"),
    "pathway-detail PATCH":               P(published="409:A 403:*", draft="ok:A 404:*",
                                            body={"description": "Changed"}),
    "pathway-detail DELETE":              P(published="409:A 403:*", draft="ok:A 404:*"),
    "pathway-validate POST":              P(published="ok:*", draft="ok:A 404:*"),
    "pathway-publish POST":               P(published="409:A 403:*", draft="ok:A 404:*"),
    "pathway-archive POST":               P(published="ok:A 403:*", draft="409:A 404:*"),
    "pathway-new-version POST":           P(published="ok:A 403:*", draft="409:A 404:*"),
    "pathway-export GET":                 P(published="ok:*", draft="ok:A 404:*"),
    "pathway-steps GET":                  P(published="ok:*", draft="ok:A 404:*"),
    "pathway-steps POST":                 P(published="409:A 403:*", draft="ok:A 404:*",
                                            body={"service": "@h.service"}),
    "pathway-step PATCH":                 P(published="409:A 403:*", draft="ok:A 404:*", body={"x": 1.5}),
    "pathway-step DELETE":                P(published="409:A 403:*", draft="ok:A 404:*"),
    "pathway-links GET":                  P(published="ok:*", draft="ok:A 404:*"),
    "pathway-links POST":                 P(published="409:A 403:*", draft="400:A 404:*", body=NEW_LINK),
    "pathway-link PATCH":                 P(published="409:A 403:*", draft="ok:A 404:*",
                                            body={"note": "Changed"}),
    "pathway-link DELETE":                P(published="409:A 403:*", draft="ok:A 404:*"),
    "pathway-next-steps GET":             P(published="ok:*", draft="ok:A 404:*", query=QUESTION),
    "pathway-next-steps POST":            P(published="ok:*", draft="ok:A 404:*", body=QUESTION),
    "pathway-alternatives GET":           P(published="ok:*", draft="ok:A 404:*", query=QUESTION),
    "pathway-alternatives POST":          P(published="ok:*", draft="ok:A 404:*", body=QUESTION),
    "pathway-route GET":                  P(published="ok:*", draft="ok:A 404:*", query=ROUTE_QUESTION),
    "pathway-route POST":                 P(published="ok:*", draft="ok:A 404:*", body=ROUTE_QUESTION),
}
REFERRALS = {  # H receives both of its referrals: withdraw and close are the sending side's
    "referral-list GET":          P(own="ok:FCRV -:*", restricted="ok:FC -:*", other="ok:X -:*"),
    "referral-list POST":         P("ok:FCR 403:V 404:*", body=NEW_REFERRAL),
    "referral-detail GET":        P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "referral-events GET":        P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "referral-access-log GET":    P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "referral-fhir GET":          P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "referral-acknowledge POST":  P(own="ok:FCR 403:V 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "referral-accept POST":       P(own="ok:FCR 403:V 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "referral-decline POST":      P(own="ok:FCR 403:V 404:*", restricted="ok:FC 404:*", other="ok:X 404:*",
                                    body={"reason": "no_capacity"}),
    "referral-complete POST":     P(own="409:FCR 403:V 404:*", restricted="409:FC 404:*", other="409:X 404:*",
                                    body={"outcome": "service_provided"}),
    "referral-refer-onward POST": P(own="409:FCR 403:V 404:*", restricted="409:FC 404:*", other="409:X 404:*",
                                    body=ONWARD),
    "referral-assign POST":       P(own="ok:F 403:CRV 404:*", restricted="ok:F 403:C 404:*",
                                    other="400:X 404:*", body={"caseworker": "h.target"}),
    "referral-withdraw POST":     P(own="403:FCRV 404:*", restricted="403:FC 404:*", other="403:X 404:*",
                                    body={"reason": "person_request"}),
    "referral-close POST":        P(own="403:FCRV 404:*", restricted="403:FC 404:*", other="403:X 404:*"),
    # the person's door: only the organisation holding the person (S, not a caller here) may lock
    "referral-status-check-lock POST":   P(own="404:*", restricted="404:*", other="404:*", of="referral"),
    "referral-status-check-unlock POST": P(own="404:*", restricted="404:*", other="404:*", of="referral"),
    "information-given GET":      P("ok:*"),
    "information-given POST":     P("ok:FCRX 403:*", body={"service": "@h.service", "channel": "phone"}),
}
HSDS = {  # the directory; public only with HSDS_PUBLIC (off, as by default)
    "hsds-root GET":                 P("ok:*"),
    "hsds-profile GET":              P("ok:*"),
    "hsds-services GET":             P(own="ok:*", other="ok:*", inactive="ok:A -:*", of="service"),
    "hsds-service GET":              P(own="ok:*", other="ok:*", inactive="ok:A 404:*", of="service"),
    "hsds-organizations GET":        P(own="ok:*", other="ok:*", inactive="ok:A -:*", of="organisation"),
    "hsds-organization GET":         P(own="ok:*", other="ok:*", inactive="ok:A 404:*", of="organisation"),
    "hsds-service-at-locations GET": P(own="ok:*", other="ok:*", inactive="ok:A -:*", of="service"),
    "hsds-taxonomies GET":           P("ok:*"),
    "hsds-taxonomy GET":             P(category="ok:*", of="taxonomy"),
    "hsds-taxonomy-terms GET":       P(category="ok:*", of="taxonomy-term"),
    "hsds-taxonomy-term GET":        P(category="ok:*", of="taxonomy-term"),
}

# The GraphQL table: query fields, node(id:) per type, mutations -------------------------------
QUERIES = {
    # partners
    "viewer":                P("ok:*"),
    # notifications: one's own only
    "notifications":            P("ok:*", args=PAGE),
    "notificationPreferences":  P("ok:*"),
    # webhooks: the organisation's focal point only
    "webhookEndpoints":         P(own="ok:F 403:ACRV -:X", other="ok:X 403:ACRV -:F", of="webhook"),
    "webhookDeliveries":        P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook",
                                  args={"endpoint": OBJECT, "first": 10}),
    "services":              P(own="ok:*", other="ok:*", inactive="ok:A -:*", of="service", args=PAGE),
    "node(Organisation)":    P(own="ok:*", other="ok:*", inactive="ok:A 404:*"),
    "node(Service)":         P(own="ok:*", other="ok:*", inactive="ok:A 404:*"),
    "node(Location)":        P(own="ok:*"),
    # pathways
    "pathways":              P(published="ok:*", draft="ok:A -:*", of="pathway", args=PAGE),
    "pathway":               P(published="ok:*", draft="ok:A 404:*", of="pathway", args={"id": OBJECT}),
    "nextSteps":             P(published="ok:*", draft="ok:A 404:*", of="pathway",
                               args={"pathway": OBJECT, "service": "@s.service"}),
    "alternatives":          P(own="ok:*", other="ok:*", inactive="ok:A 404:*", of="service",
                               args={"service": OBJECT}),
    "node(Pathway)":         P(published="ok:*", draft="ok:A 404:*"),
    "node(PathwayStep)":     P(published="ok:*", draft="ok:A 404:*"),
    "node(PathwayLink)":     P(published="ok:*", draft="ok:A 404:*"),
    # referrals
    "referralInbox":         P(own="ok:FCRV -:*", restricted="ok:FC -:*", other="ok:X -:*", of="referral",
                               args=PAGE),
    # S sent them all
    "sentReferrals":         P(own="-:*", restricted="-:*", other="-:*", of="referral", args=PAGE),
    "referral":              P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*",
                               of="referral", args=REFERRAL_ID),
    "assignableCaseworkers": P(own="ok:FCRV -:*", focal="ok:FCRV -:*", other="ok:X -:*", of="membership"),
    "node(Referral)":        P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
    "node(ReferralEvent)":   P(own="ok:FCRV 404:*", restricted="ok:FC 404:*", other="ok:X 404:*"),
}
MUTATIONS = {
    # referrals
    "acknowledgeReferral": P(own="ok:FCR 403:V 404:*", restricted="ok:FC 404:*", other="ok:X 404:*",
                             of="referral", args=REFERRAL_ID),
    "acceptReferral":      P(own="ok:FCR 403:V 404:*", restricted="ok:FC 404:*", other="ok:X 404:*",
                             of="referral", args=REFERRAL_ID),
    "declineReferral":     P(own="ok:FCR 403:V 404:*", restricted="ok:FC 404:*", other="ok:X 404:*",
                             of="referral", args={"id": OBJECT, "reason": "no_capacity"}),
    "completeReferral":    P(own="409:FCR 403:V 404:*", restricted="409:FC 404:*", other="409:X 404:*",
                             of="referral", args={"id": OBJECT, "outcome": "SERVICE_PROVIDED"}),
    "referOnward":         P(own="409:FCR 403:V 404:*", restricted="409:FC 404:*", other="409:X 404:*",
                             of="referral", args=ONWARD_ARGS),
    "assignReferral":      P(own="ok:F 403:CRV 404:*", restricted="ok:F 403:C 404:*", other="400:X 404:*",
                             of="referral", args={"id": OBJECT, "caseworker": "@h.target"}),
    "withdrawReferral":    P(own="403:FCRV 404:*", restricted="403:FC 404:*", other="403:X 404:*",
                             of="referral", args={"id": OBJECT, "reason": "person_request"}),
    "closeReferral":       P(own="403:FCRV 404:*", restricted="403:FC 404:*", other="403:X 404:*",
                             of="referral", args=REFERRAL_ID),
    "lockStatusCheck":     P(own="404:*", restricted="404:*", other="404:*",
                             of="referral", args={"id": OBJECT, "locked": True}),
    # notifications: one's own only
    "markNotificationsRead":         P("ok:*", args={"all": True}),
    "updateNotificationPreferences": P("ok:*", args={"language": "fr"}),
    # webhooks: the organisation's focal point only
    "registerWebhookEndpoint": P("ok:FX 403:*", args={"url": NEW_WEBHOOK["url"], "events": ["new_referral"]}),
    "updateWebhookEndpoint":   P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook",
                                 args={"id": OBJECT, "isActive": False}),
    "deleteWebhookEndpoint":   P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook",
                                 args={"id": OBJECT}),
    "rotateWebhookSecret":     P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook",
                                 args={"id": OBJECT}),
    "replayWebhookDelivery":   P(own="ok:F 403:CRV 404:*", other="ok:X 404:*", of="webhook-delivery",
                                 args={"id": OBJECT}),
}
# fmt: on
REST = {**HUB, **PARTNERS, **CONSENT, **PATHWAYS, **REFERRALS, **HSDS}
assert len(REST) == sum(map(len, (HUB, PARTNERS, CONSENT, PATHWAYS, REFERRALS, HSDS))), "a line twice"

# Cells where the code does not do what the table says: (endpoint, variant, caller, the table's
# outcome) → the failing test in tests/test_authorization_regressions.py that proves it. "*" matches any.
KNOWN_BUGS: dict[tuple[str, str, str, str], str] = {
    # none open; a bug the matrix finds goes here, with its failing test in
    # tests/test_authorization_regressions.py, until it is fixed
}


def known_bug(endpoint: str, variant: str, role: str, want: str) -> str | None:
    for cell, test in KNOWN_BUGS.items():
        values = (endpoint, variant, role, want)
        if all(pattern in ("*", value) for pattern, value in zip(cell, values, strict=True)):
            return test
    return None


# What the code offers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    pattern: str
    kwargs: tuple
    basename: str | None

    @property
    def key(self) -> str:
        return f"{self.name} {self.method}"


def _walk(resolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the Django admin: session login, staff only (tests/partners/test_admin.py)
            if pattern.namespace == "console":
                continue  # HTML pages on the same selectors and services (tests/console)
            if pattern.namespace == "community":
                continue  # the person's public door, no account: its defences in tests/community
            yield from _walk(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _view_class(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def _methods(callback) -> list[str]:
    cls = _view_class(callback)
    actions = getattr(callback, "actions", None)
    if actions:  # a viewset route: the router's method → action map (for extra actions, their mapping)
        return [method.upper() for method in actions if method in cls.http_method_names]
    if issubclass(cls, GraphQLView):  # one dispatch for both: queries by GET, anything by POST
        return ["GET", "POST"]
    return [
        method.upper()
        for method in cls.http_method_names
        if method not in ("head", "options") and callable(getattr(cls, method, None))
    ]


def rest_routes() -> list[Route]:
    routes = []
    for path, pattern in _walk(get_resolver()):
        assert pattern.name, f"{path}: every route needs a name for the policy table"
        callback = pattern.callback
        basename = (getattr(callback, "initkwargs", None) or {}).get("basename")
        kwargs = tuple(pattern.pattern.regex.groupindex)
        routes.extend(Route(pattern.name, method, path, kwargs, basename) for method in _methods(callback))
    return routes


def _node_types() -> list[str]:
    graphql_schema = schema.graphql_schema
    return sorted(t.name for t in graphql_schema.get_implementations(graphql_schema.get_type("Node")).objects)


def graphql_queries() -> list[str]:
    fields = [name for name in schema.graphql_schema.query_type.fields if name != "node"]
    return sorted(fields + [f"node({name})" for name in _node_types()])


def graphql_mutations() -> list[str]:
    return sorted(schema.graphql_schema.mutation_type.fields)


ROUTES = rest_routes()
QUERY_FIELDS = graphql_queries()
MUTATION_FIELDS = graphql_mutations()


def test_every_endpoint_has_a_policy():
    """The routes and fields of the code and the lines of the tables are the same sets."""
    problems = []
    for table, offered in (
        ("REST", {route.key for route in ROUTES}),
        ("QUERIES", set(QUERY_FIELDS)),
        ("MUTATIONS", set(MUTATION_FIELDS)),
    ):
        declared = set({"REST": REST, "QUERIES": QUERIES, "MUTATIONS": MUTATIONS}[table])
        problems += [f"{table}: no policy for {key!r}" for key in sorted(offered - declared)]
        problems += [f"{table}: {key!r} is not an endpoint (any more)" for key in sorted(declared - offered)]
    assert not problems, "\n".join(problems)


def test_every_known_bug_is_proven_in_the_bugs_module():
    from tests import test_authorization_regressions

    missing = [test for test in KNOWN_BUGS.values() if not hasattr(test_authorization_regressions, test)]
    assert not missing, f"not in tests/test_authorization_regressions.py: {missing}"


def test_the_walk_sees_every_viewset_action():
    """Every extra action of every routed viewset is a route of the walk (nothing hides from it)."""
    viewsets = {}
    for _path, pattern in _walk(get_resolver()):
        basename = (getattr(pattern.callback, "initkwargs", None) or {}).get("basename")
        if basename:
            viewsets[basename] = _view_class(pattern.callback)
    names = {route.name for route in ROUTES}
    missing = [
        f"{basename}-{action.url_name}"
        for basename, viewset in viewsets.items()
        for action in viewset.get_extra_actions()
        if f"{basename}-{action.url_name}" not in names
    ]
    assert not missing, missing
    assert len(viewsets) >= 8 and len(names) > 60 and len(QUERY_FIELDS) > 10 and MUTATION_FIELDS


def test_every_line_names_the_objects_of_its_endpoint(world, db):
    problems = []
    for route in ROUTES:
        policy = REST.get(route.key)
        if policy is None:
            continue
        kind = policy.of or route.basename
        aims = bool(route.kwargs) or bool(policy.variants)
        if not aims:
            continue
        if kind not in world.objects:
            problems.append(f"{route.key}: objects of kind {kind!r} are not in the world; give of=")
        elif set(policy.variants) != set(world.objects[kind]):
            have = sorted(world.objects[kind])
            problems.append(f"{route.key}: variants {sorted(policy.variants)}; {kind!r} has {have}")
    for key, policy in {**QUERIES, **MUTATIONS}.items():
        if key.startswith("node(") and key[len("node(") : -1] not in GRAPHQL_TYPES.values():
            problems.append(f"{key}: a new Node type: add it to GRAPHQL_TYPES and its objects to the world")
            continue
        kind = _graphql_kind(key, policy)
        if OBJECT in (policy.args or {}).values() and not policy.variants:
            problems.append(f"{key}: aims at an object ({OBJECT!r}) but gives no variants")
        if policy.variants and set(policy.variants) != set(world.objects.get(kind, {})):
            problems.append(f"{key}: variants {sorted(policy.variants)} for kind {kind!r}")
    assert not problems, "\n".join(problems)


# The world, once for the module ------------------------------------------------------------

COUNTS: Counter = Counter()  # what this process ran, for the summary line


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, request):
    """Built once inside a transaction rolled back after the module; each test runs in a savepoint
    and each request in a transaction of its own, rolled back too."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and COUNTS:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nauthorization matrix: {len({route.key for route in ROUTES})} REST endpoints, "
                f"{len(QUERY_FIELDS) + len(MUTATION_FIELDS)} GraphQL fields; "
                + ", ".join(f"{count} {name}" for name, count in COUNTS.items())
            )


# knox deletes a user's expired tokens whenever one of their tokens is used: housekeeping, not a change
ROWS = {"knox_authtoken": "WHERE t.expiry IS NULL OR t.expiry > clock_timestamp()"}


def _domain_tables() -> list[str]:
    models = [
        model
        for label in ("partners", "consent", "pathways", "referrals", "auth", "knox", "guardian")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    return sorted({model._meta.db_table for model in models})


def fingerprint() -> tuple:
    """One hash of every row of every domain table (history and logs included)."""
    quote = connection.ops.quote_name
    parts = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {quote(table)} t "
        f"{ROWS.get(table, '')})"
        for table in _domain_tables()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")
        return tuple(cursor.fetchone())


def _rolled_back(send):
    """Send, look, then undo: every case starts from the same world."""
    with transaction.atomic():
        try:
            return send()
        finally:
            transaction.set_rollback(True)
            graph_cache_clear()  # a graph built from a rolled-back change must not outlive it


def check_cells(endpoint: str, policy: P, targets: dict, *, writes: bool, call) -> list[str]:
    """Every (object, caller) cell of one line. ``call(role, target, random)`` sends the request
    (with random ids instead of the world's if ``random``) and returns ``(outcome, what a
    random-id twin must equal, what to show in a failure)``."""
    failures = []
    for variant, expected in policy.outcomes().items():
        target = targets[variant]
        for role in ROLES:
            want = expected[role]
            where = f"{variant} / {role} ({ROLE_NAMES[role]})"

            def attempt(role=role, target=target):
                before = fingerprint() if writes else None
                outcome, twin, shown = call(role, target, random=False)
                changed = before is not None and outcome.startswith(REFUSALS) and fingerprint() != before
                return outcome, twin, shown, changed

            got, twin, shown, changed = _rolled_back(attempt)
            COUNTS["cases"] += 1
            bug = known_bug(endpoint, variant, role, want)
            if bug:
                COUNTS["known-bug cases"] += 1
                if got == want:
                    failures.append(f"{where}: {bug} is fixed here: narrow or drop its KNOWN_BUGS entry")
                continue
            if got != want:
                failures.append(f"{where}: expected {want}, got {got}: {shown}")
                continue
            if changed:
                failures.append(f"{where}: refused ({got}), yet the database changed")
            if want == "404":
                COUNTS["random-id twins"] += 1
                random_twin = _rolled_back(lambda role=role, target=target: call(role, target, True))[1]
                if random_twin != twin:
                    failures.append(f"{where}: not the same as for random ids:\n  {twin}\n  {random_twin}")
    return failures


class Ids:
    """``"@name"`` → the world's id (or a random one, for the random-id twin of a request)."""

    def __init__(self, world, random: bool = False):
        self.world, self.random, self.drawn = world, random, {}

    def raw(self, name: str) -> str:
        if self.random:
            return self.drawn.setdefault(name, str(uuid.uuid4()))
        return self.world.ids[name][0]

    def resolve(self, data):
        if isinstance(data, dict):
            return {key: self.resolve(value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.resolve(value) for value in data]
        if isinstance(data, str) and data.startswith("@") and len(data) > 1:
            return self.raw(data[1:])
        return data


def _status_outcome(status: int) -> str:
    return "ok" if 200 <= status < 300 else str(status)


# REST --------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_rest(route, world, api, db):
    policy = REST.get(route.key)
    if policy is None:
        pytest.fail(f"no policy for {route.key!r} ({route.pattern}): add its line to the REST table")
    kind = policy.of or route.basename
    targets = world.objects[kind] if policy.variants else {"-": {}}
    listing = not route.kwargs and bool(policy.variants)

    def call(role, target, random):
        ids = Ids(world, random)
        kwargs = {name: target["pk"] if name in ("pk", "id") else target[name] for name in route.kwargs}
        if random:
            kwargs = {name: str(uuid.uuid4()) for name in kwargs}
        path = reverse(route.name, kwargs=kwargs)
        if policy.query:
            path += "?" + urlencode(ids.resolve(policy.query))
        token = world.tokens[role]
        client = api(token=token) if token else api()
        if route.method in WRITES:
            body = json.dumps(ids.resolve(policy.body or {}))
            response = client.generic(route.method, path, body, content_type="application/json")
        else:
            response = client.generic(route.method, path)
        outcome = _status_outcome(response.status_code)
        if listing and outcome == "ok" and target["pk"].encode() not in response.content:
            outcome = "-"
        if outcome == "401" and response.get("WWW-Authenticate") != "Token":
            outcome = "401 without WWW-Authenticate: Token"
        twin = (response.status_code, response.get("Content-Type"), response.content)
        return outcome, twin, f"{response.status_code} {response.content[:300].decode(errors='replace')}"

    failures = check_cells(route.key, policy, targets, writes=route.method in WRITES, call=call)
    assert not failures, f"{route.key} ({route.pattern}):\n" + "\n".join(failures)


# GraphQL -----------------------------------------------------------------------------------


def _graphql_kind(key: str, policy: P) -> str | None:
    if key.startswith("node("):
        type_name = key[len("node(") : -1]
        return next(kind for kind, name in GRAPHQL_TYPES.items() if name == type_name)
    return policy.of


def _selection(graphql_type) -> str:
    """Enough to tell the outcome: the ids of a page or list, the errors of a mutation."""
    fields = getattr(get_named_type(graphql_type), "fields", None)
    if fields is None:
        return ""  # a scalar
    if "edges" in fields:
        return "{ edges { node { id } } }"
    if "errors" in fields:
        return "{ errors { code message field details } }"
    return "{ id }" if "id" in fields else "{ __typename }"


def _document(operation: str, name: str, graphql_field, args: dict) -> str:
    for argument_name, argument in graphql_field.args.items():
        required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
        assert not required or argument_name in args, f"{name}: give its required argument {argument_name!r}"
    definitions = ", ".join(f"${arg}: {graphql_field.args[arg].type}" for arg in args)
    uses = ", ".join(f"{arg}: ${arg}" for arg in args)
    head = f"{operation} ({definitions})" if definitions else operation
    return f"{head} {{ {name}{f'({uses})' if uses else ''} {_selection(graphql_field.type)} }}"


def _graphql_outcome(body: dict, name: str, *, aims: bool, listed: str | None) -> str:
    errors = body.get("errors")
    if errors:  # a refusal of the whole field, e.g. nextSteps on a pathway the caller may not see
        code = (errors[0].get("extensions") or {}).get("code")
        return _status_outcome(REGISTRY[code].status) if code in REGISTRY else f"error {code}"
    value = body["data"][name]
    if isinstance(value, dict) and "errors" in value:  # a mutation's typed errors
        return _status_outcome(REGISTRY[value["errors"][0]["code"]].status) if value["errors"] else "ok"
    if aims:
        return "ok" if value is not None else "404"
    if listed is not None:
        return "ok" if listed in json.dumps(value) else "-"
    return "ok"


def table_name(operation: str) -> str:
    return "QUERIES" if operation == "query" else "MUTATIONS"


GRAPHQL_CASES = [("query", key) for key in QUERY_FIELDS] + [("mutation", key) for key in MUTATION_FIELDS]


@pytest.mark.parametrize(("operation", "key"), GRAPHQL_CASES, ids=lambda value: value)
def test_graphql(operation, key, world, gql, db):
    table = QUERIES if operation == "query" else MUTATIONS
    policy = table.get(key)
    if policy is None:
        pytest.fail(f"no policy for {key!r}: add its line to the {table_name(operation)} table")
    kind = _graphql_kind(key, policy)
    targets = world.objects[kind] if policy.variants else {"-": {}}
    graphql_schema = schema.graphql_schema
    if key.startswith("node("):
        name, args = "node", {"id": OBJECT}
    else:
        name, args = key, dict(policy.args or {})
    root = graphql_schema.query_type if operation == "query" else graphql_schema.mutation_type
    document = _document(operation, name, root.fields[name], args)
    aims = OBJECT in args.values()

    def call(role, target, random):
        ids = Ids(world, random)

        def value(spec):
            if spec == OBJECT:
                return to_global_id(GRAPHQL_TYPES[kind], str(uuid.uuid4()) if random else target["pk"])
            if isinstance(spec, str) and spec.startswith("@"):
                type_name = world.ids[spec[1:]][1]
                raw = ids.raw(spec[1:])
                return to_global_id(type_name, raw) if type_name else raw
            return spec

        variables = {arg: value(spec) for arg, spec in args.items()}
        status, body = gql(None, document, variables, token=world.tokens[role])
        if status != 200:
            outcome = "401" if status == 401 else f"HTTP {status}"
        else:
            listed = to_global_id(GRAPHQL_TYPES[kind], target["pk"]) if policy.variants and not aims else None
            outcome = _graphql_outcome(body, name, aims=aims, listed=listed)
        return outcome, body, json.dumps(body)[:300]

    failures = check_cells(key, policy, targets, writes=operation == "mutation", call=call)
    assert not failures, f"{operation} {key}: {document}\n" + "\n".join(failures)
