"""Limits on /graphql, each rejected before execution with its own error code."""

import json
from collections import Counter

import pytest
from django.db import ProgrammingError
from graphql import get_introspection_query
from graphql.validation.validation_context import ASTValidationContext

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


def test_the_full_schema_query_of_graphiql_fits_the_limits(gql, org_a, settings):
    settings.GRAPHQL_INTROSPECTION = True
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    body = gql(org_a.caseworker, query)[1]
    assert "errors" not in body, body["errors"]
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


# Refused before validation: size, selections, fragments ----------------------------------------


@pytest.fixture
def validation_must_not_run(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the standard validation ran")

    monkeypatch.setattr("graphene_django.views.validate", refuse)


@pytest.fixture
def fragment_lookups(monkeypatch):
    """Counts graphql-core's fragment look-ups by name; past a budget the test fails at once, so that
    exponential work shows as a failure rather than as a hang."""
    lookups = Counter()
    original = ASTValidationContext.get_fragment

    def counting(self, name):
        lookups[name] += 1
        assert lookups.total() < 5_000, "fragments are looked up over and over"
        return original(self, name)

    monkeypatch.setattr(ASTValidationContext, "get_fragment", counting)
    return lookups


def fan_out(levels: int, *, on: str = "Query", leaf: str = "__typename", under_aliases: bool = False) -> str:
    """Fragment L0 spreads L1 ten times, L1 spreads L2 ten times, …: 10 ** levels leaves."""

    def spreads(level: int) -> str:
        if under_aliases:
            return " ".join(f"a{i}: viewer {{ ...L{level + 1} }}" for i in range(10))
        return " ".join([f"...L{level + 1}"] * 10)

    fragments = " ".join(f"fragment L{level} on {on} {{ {spreads(level)} }}" for level in range(levels))
    return f"{fragments} fragment L{levels} on {on} {{ {leaf} }}"


def test_fragment_fan_out_is_refused_before_validation_and_sql(
    gql, org_a, validation_must_not_run, django_assert_num_queries
):
    query = "{ ...L0 } " + fan_out(8)  # 10 ** 8 fields once expanded, in 725 bytes
    token = token_for(org_a.caseworker)
    with django_assert_num_queries(2):  # authentication only
        status, body = gql(None, query, token=token)
    assert status == 400
    assert codes(body) == ["query_too_large"]
    assert body["errors"][0]["extensions"]["measure"] == "field_repeats"


def test_fragment_fan_out_under_distinct_aliases_is_refused_before_validation(
    gql, org_a, validation_must_not_run
):
    # no field repeats here: every spread sits under an alias of its own
    query = "{ ...L0 } " + fan_out(6, under_aliases=True)
    body = gql(org_a.caseworker, query)[1]
    assert codes(body) == ["query_too_large"]
    assert body["errors"][0]["extensions"]["measure"] == "expanded_selections"


def test_cost_rule_measures_a_fragment_once_not_at_every_spread(gql, org_a, settings, fragment_lookups):
    # let the fan-out through the checks before validation: this is about the cost rule in it
    settings.GRAPHQL_MAX_FIELD_REPEATS = 100_000
    settings.GRAPHQL_MAX_SELECTIONS = 5_000
    query = "{ services(first: 100) { edges { node { ...L0 } } } } " + fan_out(4, on="Service", leaf="name")
    body = gql(org_a.caseworker, query)[1]
    assert codes(body) == ["query_too_costly"]
    assert body["errors"][0]["extensions"]["cost"] > 100 * 10**4
    # L4 is reached through 10,000 spreads; all rules together look each fragment up a few dozen
    # times (graphql-core's rules about once per spread written, 34 here; the cost rule once)
    assert max(fragment_lookups.values()) < 50, fragment_lookups


def test_five_thousand_aliases_are_refused_before_validation(gql, org_a, settings, validation_must_not_run):
    settings.GRAPHQL_MAX_BODY_BYTES = 1024 * 1024  # past the body limit, this is the next defence
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(5000)) + " }"
    status, body = gql(org_a.caseworker, query)
    assert status == 400
    assert codes(body) == ["query_too_large"]


def test_selections_are_counted_typename_and_aliases_included(gql, org_a, settings, validation_must_not_run):
    settings.GRAPHQL_MAX_SELECTIONS = 20
    settings.GRAPHQL_MAX_FIELD_REPEATS = 100
    for query in (
        "{ " + "__typename " * 21 + "}",
        "{ " + " ".join(f"a{i}: viewer {{ username }}" for i in range(11)) + " }",
    ):
        body = gql(org_a.caseworker, query)[1]
        assert codes(body) == ["query_too_large"]
        assert body["errors"][0]["extensions"] == {
            "code": "query_too_large",
            "measure": "selections",
            "limit": 20,
        }


def test_a_field_repeated_through_fragments_is_refused(gql, org_a, validation_must_not_run):
    fragments = " ".join(f"fragment F{i} on Viewer {{ username }}" for i in range(11))
    query = "{ viewer { " + " ".join(f"...F{i}" for i in range(11)) + " } } " + fragments
    body = gql(org_a.caseworker, query)[1]
    assert codes(body) == ["query_too_large"]
    assert body["errors"][0]["extensions"]["measure"] == "field_repeats"


def test_a_flood_of_tokens_is_refused(gql, org_a, validation_must_not_run):
    body = gql(org_a.caseworker, "{ " + "viewer " * 9000 + "}")[1]  # just under the body limit
    assert codes(body) == ["query_too_large"]
    assert body["errors"][0]["extensions"] == {"code": "query_too_large", "measure": "tokens", "limit": 1000}


def test_nesting_deeper_than_the_parser_can_go_is_refused(gql, org_a, validation_must_not_run):
    query = "{ " + "viewer { " * 5000 + "username" + " }" * 5000 + " }"
    status, body = gql(org_a.caseworker, query)
    assert status == 400
    assert codes(body) == ["query_too_large"]
    assert body["errors"][0]["extensions"]["measure"] == "nesting"


def test_syntax_errors_still_answer_invalid_query(gql, org_a):
    body = gql(org_a.caseworker, "{ viewer { username }")[1]
    assert codes(body) == ["invalid_query"]
    assert "Syntax Error" in body["errors"][0]["message"]


def test_typename_counts_in_the_cost(gql, org_a, settings):
    settings.GRAPHQL_MAX_COST = 3
    body = gql(org_a.caseworker, "{ a: __typename b: __typename c: __typename d: __typename }")[1]
    assert codes(body) == ["query_too_costly"]
    assert body["errors"][0]["extensions"]["cost"] == 4


def test_introspection_fields_count_in_the_cost(gql, org_a, settings):
    settings.GRAPHQL_INTROSPECTION = True
    settings.GRAPHQL_MAX_COST = 5
    body = gql(org_a.caseworker, "{ __schema { queryType { name fields { name type { name } } } } }")[1]
    assert codes(body) == ["query_too_costly"]


def test_a_deep_fragment_cycle_answers_an_error(gql, org_a, monkeypatch, fragment_lookups):
    # each fragment spreads the next twice: walked naively, that is 2 ** 150 paths
    cycle = " ".join(
        f"fragment C{i} on Query {{ c{i}: __typename ...C{(i + 1) % 150} ...C{(i + 1) % 150} }}"
        for i in range(150)
    )
    query = "{ ...C0 } " + cycle
    assert codes(gql(org_a.caseworker, query)[1]) == ["query_too_large"]
    # past the checks before validation, the cost rule measures it in linear time and graphql-core's
    # NoFragmentCyclesRule reports the cycle
    monkeypatch.setattr("hub.graphql_view.preflight", lambda query, limits: None)
    body = gql(org_a.caseworker, query)[1]
    assert body.get("data") is None
    assert any("Cannot spread fragment 'C0' within itself" in error["message"] for error in body["errors"])


# Suggestions give the schema away: off with introspection ---------------------------------------


@pytest.mark.parametrize("introspection", [False, True])
def test_field_suggestions_only_with_introspection(gql, org_a, settings, introspection):
    settings.GRAPHQL_INTROSPECTION = introspection
    body = gql(org_a.caseworker, "{ viewer { usernam } }")[1]
    message = body["errors"][0]["message"]
    assert message.startswith("Cannot query field 'usernam' on type 'Viewer'.")
    assert ("Did you mean 'username'?" in message) is introspection


@pytest.mark.parametrize("introspection", [False, True])
def test_enum_value_suggestions_in_variables_only_with_introspection(gql, org_a, settings, introspection):
    settings.GRAPHQL_INTROSPECTION = introspection
    query = "query ($s: ReferralStatus) { referralInbox(first: 1, status: $s) { totalCount } }"
    message = gql(org_a.caseworker, query, {"s": "SENDT"})[1]["errors"][0]["message"]
    assert "Value 'SENDT' does not exist in 'ReferralStatus' enum." in message
    assert ("Did you mean the enum value 'SENT'?" in message) is introspection
