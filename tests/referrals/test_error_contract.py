"""The same error reaches REST and GraphQL with the same code, field and details."""

import json

import pytest

from partners.models import Service
from referrals.models import Referral
from tests.factories import ServiceFactory
from tests.referrals.api_helpers import gid, ok
from tests.referrals.referral_setup import build_world
from tests.referrals.test_referral_api import BASE, create_body, onward_world, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


REFER_ONWARD = """mutation ($id: ID!, $to: ID!, $fields: [String!]) {
  m: referOnward(id: $id, toService: $to, idempotencyKey: "onward-x", optionalFields: $fields) {
    onwardReferral { id } errors { code message field details } } }"""


def closed_with_an_alternative(world):
    """C's service stops taking referrals; another GBV service on a published pathway would take it."""
    from pathways.services import link_add, pathway_create, pathway_publish, step_add
    from tests.factories import PlatformAdminFactory

    admin = PlatformAdminFactory()
    world.alternative = ServiceFactory(
        organisation=world.c, category=world.service_c.category, name="GBV C2", required_fields=["given_name"]
    )
    pathway = pathway_create(actor=admin, operation=world.a.operation, name="GBV", theme="gbv")
    entry = step_add(actor=admin, pathway=pathway, service=world.service_b, is_entry=True, key="b")
    for key, service in (("c", world.service_c), ("c2", world.alternative)):
        step = step_add(actor=admin, pathway=pathway, service=service, key=key)
        link_add(actor=admin, pathway=pathway, from_step=entry, to_step=step, preference=1)
    pathway_publish(actor=admin, pathway=pathway)
    Service.objects.filter(pk=world.service_c.pk).update(is_accepting_referrals=False)
    world.service_c.refresh_from_db()


def test_refer_onward_towards_a_closed_service_names_the_alternatives_on_both_apis(api, gql):
    world = onward_world()
    closed_with_an_alternative(world)
    response = api(world.b.caseworker).post(
        url(world.parent, "refer-onward"),
        {"to_service": str(world.service_c.id)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="onward-x",
    )
    assert response.status_code == 400
    rest = response.json()["error"]
    assert rest["code"] == "service_not_accepting"
    assert str(world.alternative.id) in {offer["service"] for offer in rest["alternatives"]}

    body = gql(
        world.b.caseworker,
        REFER_ONWARD,
        {"id": gid("Referral", world.parent), "to": gid("Service", world.service_c)},
    )[1]
    (error,) = ok(body)["m"]["errors"]
    assert ok(body)["m"]["onwardReferral"] is None
    assert error["code"] == "service_not_accepting" and error["field"] == "toService"
    assert json.loads(error["details"]) == {"alternatives": rest["alternatives"]}
    assert error["message"] == rest["message"]
    assert not Referral.objects.filter(parent=world.parent).exists()


def test_an_optional_field_the_consent_does_not_cover_is_refused_by_name_in_rest(world, api):
    response = api(world.a.caseworker).post(
        BASE, create_body(world, optional_fields=["protection_concerns"], idempotency_key="k1"), format="json"
    )
    assert response.status_code == 400
    rest = response.json()["error"]
    assert rest["code"] == "consent_not_covering_field"
    assert rest["missing_fields"] == ["protection_concerns"] and "optional_fields" in rest["fields"]
    assert not Referral.objects.exists()


def test_onward_a_field_the_referral_did_not_carry_is_refused_by_name_in_graphql(gql):
    # the parent did not carry best_time_to_call, so it cannot go on
    onward = onward_world(optional_fields=())
    onward.service_c.optional_fields = ["best_time_to_call"]
    onward.service_c.save()
    variables = {
        "id": gid("Referral", onward.parent),
        "to": gid("Service", onward.service_c),
        "fields": ["best_time_to_call"],
    }
    (error,) = ok(gql(onward.b.caseworker, REFER_ONWARD, variables)[1])["m"]["errors"]
    assert error["code"] == "field_not_available" and error["field"] == "optionalFields"
    assert json.loads(error["details"]) == {"missing_fields": ["best_time_to_call"]}


def test_errors_without_details_have_null_details(world, gql):
    referral = world.send()
    document = """mutation ($id: ID!) { m: declineReferral(id: $id) { errors { code field details } } }"""
    (error,) = ok(gql(world.b.caseworker, document, {"id": gid("Referral", referral)})[1])["m"]["errors"]
    assert error == {"code": "reason_required", "field": "reason", "details": None}


def test_a_query_error_carries_a_camel_case_field(world, gql):
    body = gql(world.b.caseworker, '{ referralInbox(first: 5, service: "bm90LWFuLWlk") { totalCount } }')[1]
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "invalid" and error["extensions"]["field"] == "service"


def test_a_document_that_does_not_validate_answers_invalid_query(world, gql):
    body = gql(world.b.caseworker, "{ referralInbox(first: 5) { noSuchField } }")[1]
    assert [error["extensions"]["code"] for error in body["errors"]] == ["invalid_query"]


def test_the_tombstone_access_log_names_no_fields(world, api):
    referral = world.send(optional_fields=["best_time_to_call"])
    assert api(world.b.caseworker).get(url(referral)).status_code == 200  # a read, logged
    api(world.a.caseworker).post(url(referral, "withdraw"), {"reason": "person_request"}, format="json")
    entries = api(world.b.focal_point).get(url(referral, "access-log")).json()["results"]
    assert entries and all(entry["fields"] == [] for entry in entries)
    # the referrer keeps the whole audit trail
    mine = api(world.a.caseworker).get(url(referral, "access-log")).json()["results"]
    assert any(entry["fields"] == ["given_name", "phone", "best_time_to_call"] for entry in mine)


def test_unknown_list_parameters_are_refused_by_name(world, api):
    response = api(world.b.caseworker).get(f"{BASE}?stauts=sent")
    assert response.status_code == 400 and "stauts" in response.json()["error"]["fields"]
    response = api(world.b.caseworker).get(f"{BASE}?direction=sideways")
    assert response.status_code == 400 and "direction" in response.json()["error"]["fields"]


def test_a_service_filter_works_alike_on_both_apis(world, api, gql):
    other = ServiceFactory(
        organisation=world.b,
        category=world.service_b.category,
        required_fields=["given_name"],
        optional_fields=[],
    )
    to_b = world.send(idempotency_key="to-b")
    world.send(idempotency_key="to-other", to_service=other)
    rest = api(world.b.caseworker).get(f"{BASE}?direction=received&service={world.service_b.id}").json()
    assert [row["reference"] for row in rest["results"]] == [to_b.reference]
    document = "query ($s: ID!) { referralInbox(first: 10, service: $s) { edges { node { reference } } } }"
    edges = ok(gql(world.b.caseworker, document, {"s": gid("Service", world.service_b)})[1])["referralInbox"][
        "edges"
    ]
    assert [edge["node"]["reference"] for edge in edges] == [to_b.reference]
