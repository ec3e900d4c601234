"""Limits on /graphql, each rejected before execution with its own error code."""

import json

import pytest
from django.db import ProgrammingError

from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def codes(body) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def test_too_deep_query_is_rejected(gql, org_a, settings):
    settings.GRAPHQL_MAX_DEPTH = 3
    _status, body = gql(
        org_a.caseworker, "{ services(first: 1) { edges { node { organisation { name } } } } }"
    )
    assert body.get("data") is None
    assert codes(body) == ["query_too_deep"]


def test_costly_query_is_rejected_before_execution(gql, org_a, settings, django_assert_num_queries):
    settings.GRAPHQL_MAX_COST = 50
    query = "{ services(first: 100) { edges { node { name organisation { name acronym } } } } }"
    token = token_for(org_a.caseworker)
    with django_assert_num_queries(2):  # authentication only: nothing of the operation ran
        body = gql(None, query, token=token)[1]
    assert codes(body) == ["query_too_costly"]
    assert body["errors"][0]["extensions"]["limit"] == 50


def test_cost_counts_page_size_given_in_a_variable(gql, org_a, settings):
    settings.GRAPHQL_MAX_COST = 50
    query = "query ($n: Int!) { services(first: $n) { edges { node { name organisation { name } } } } }"
    assert codes(gql(org_a.caseworker, query, {"n": 100})[1]) == ["query_too_costly"]
    assert "errors" not in gql(org_a.caseworker, query, {"n": 2})[1]


def test_aliases_cannot_multiply_work_for_free(gql, org_a, settings):
    settings.GRAPHQL_MAX_COST = 100
    fields = " ".join(f"a{i}: services(first: 10) {{ edges {{ node {{ name }} }} }}" for i in range(10))
    assert codes(gql(org_a.caseworker, "{ " + fields + " }")[1]) == ["query_too_costly"]


def test_first_above_the_cap_is_rejected(gql, org_a):
    body = gql(org_a.caseworker, "{ services(first: 101) { edges { node { name } } } }")[1]
    assert codes(body) == ["invalid_page_size"]


def test_batched_operations_are_refused(client, org_a):
    payload = [{"query": "{ viewer { username } }"}] * 2
    response = client.post(
        "/graphql",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token_for(org_a.caseworker)}",
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["batch_not_allowed"]


def test_oversized_body_is_refused(client, org_a, settings):
    settings.GRAPHQL_MAX_BODY_BYTES = 200
    response = client.post(
        "/graphql",
        json.dumps({"query": "{ viewer { username } }" + " " * 500}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token_for(org_a.caseworker)}",
    )
    assert response.status_code == 413
    assert codes(response.json()) == ["request_too_large"]


def test_introspection_is_off_by_default_but_typename_works(gql, org_a, settings):
    settings.GRAPHQL_INTROSPECTION = False
    body = gql(org_a.caseworker, "{ __schema { types { name } } }")[1]
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()
    body = gql(org_a.caseworker, "{ __typename viewer { __typename username } }")[1]
    assert body["data"]["viewer"]["__typename"] == "Viewer"


def test_introspection_can_be_switched_on(gql, org_a, settings):
    settings.GRAPHQL_INTROSPECTION = True
    body = gql(org_a.caseworker, "{ __schema { queryType { name } } }")[1]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_unknown_fields_are_still_rejected(gql, org_a):
    # custom rules are added to graphql-core's standard rules, never replacing them
    body = gql(org_a.caseworker, "{ viewer { username passwordHash } }")[1]
    assert "Cannot query field 'passwordHash'" in body["errors"][0]["message"]


def test_fragment_cycles_are_still_rejected(gql, org_a):
    query = "{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }"
    body = gql(org_a.caseworker, query)[1]
    assert any("Cannot spread fragment" in error["message"] for error in body["errors"])


def test_internal_errors_do_not_leak_sql_or_traces(gql, org_a, monkeypatch):
    def broken(**kwargs):
        raise ProgrammingError('relation "partners_secret" does not exist LINE 1: SELECT password FROM ...')

    monkeypatch.setattr("partners.schema.service_list_visible", broken)
    body = gql(org_a.caseworker, "{ services(first: 1) { edges { node { name } } } }")[1]
    text = json.dumps(body)
    assert codes(body) == ["internal_error"]
    assert "SELECT" not in text and "partners_secret" not in text and "Traceback" not in text


def test_invalid_uuid_argument_is_a_clear_error_not_a_crash(gql, org_a):
    body = gql(org_a.caseworker, '{ services(first: 1, location: "nope") { edges { node { name } } } }')[1]
    assert codes(body) == ["invalid"]
    assert "nope" in body["errors"][0]["message"]


def test_a_fragment_spread_twice_costs_twice(gql, org_a, settings):
    settings.GRAPHQL_MAX_COST = 40  # one page of ten names costs 31
    fragment = "fragment S on Query { services(first: 10) { edges { node { name } } } }"
    assert "errors" not in gql(org_a.caseworker, "{ ...S } " + fragment)[1]
    body = gql(org_a.caseworker, "{ ...S a: services(first: 10) { edges { node { name } } } } " + fragment)[1]
    assert codes(body) == ["query_too_costly"]
