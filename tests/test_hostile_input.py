"""Rule 7 of "Under attack": no input answers 5xx, on any endpoint of either API.

Every REST route of the URL conf and every GraphQL field with a text or number argument gets the
inputs that used to end in an internal error: integers past bigint, non-finite numbers, NUL
characters, unpaired surrogates, deeply nested and oversized bodies. Each answer must be a 4xx
(or a success) in the API's error shape, with a registered code.
"""

import json
import re
import uuid

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, get_named_type
from rest_framework.test import APIClient

from common.errors import is_registered
from hub.schema import schema as graphql_schema
from tests.api_world import build_api_world
from tests.conftest import token_for

HUGE = "99999999999999999999"  # past bigint
NUMERIC_VALUES = [HUGE, "-1", "1e400"]
SKIPPED_PREFIXES = ("admin/",)  # Django's own admin: checked on its own below
UNDOCUMENTED = {"schema", "swagger-ui"}  # the schema itself and its HTML page
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The routes ----------------------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _methods(pattern) -> list[str]:
    callback = pattern.callback
    if getattr(callback, "actions", None):
        return sorted(callback.actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return [m for m in ("get", "post", "patch", "put", "delete") if hasattr(view_class, m)]


ROUTES = [
    (route, pattern.name, method)
    for route, pattern in _walk(get_resolver().url_patterns)
    if not route.startswith(SKIPPED_PREFIXES) and pattern.name != "graphql"
    for method in _methods(pattern)
]


def _path(route: str, name: str, ids: dict[str, str], override: str | None = None) -> str:
    def value(match):
        keyword = match.group(1)
        if override is not None:
            return override
        if keyword in ids:
            return ids[keyword]
        families = [family for family in ids if name.startswith(family)]
        return ids[max(families, key=len)] if families else str(uuid.uuid4())

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", value, route)
    return "/" + path.replace("^", "").replace("$", "").replace("/?", "/")


def _operations() -> dict[tuple[str, str], dict]:
    """(url name, method) → the query parameters and request-body properties the schema documents."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    components = document["components"]["schemas"]
    found = {}
    for path, operations in document["paths"].items():
        name = resolve(re.sub(r"\{\w+\}", str(uuid.uuid4()), path)).url_name
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            reference = content.get("schema", {}).get("$ref", "")
            component = components.get(reference.rsplit("/", 1)[-1], {})
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            found[(name, method)] = {"body": component.get("properties", {}), "query": query}
    return found


def _hostile_bodies(properties: dict) -> dict[str, str]:
    """Raw JSON texts: every field of the operation with the value that used to break it."""
    strings = [name for name, spec in properties.items() if spec.get("type", "string") == "string"] or ["x"]
    numbers = [name for name, spec in properties.items() if spec.get("type") in ("integer", "number")]
    return {
        "NUL in every text field": json.dumps(dict.fromkeys(strings, "a\x00b")),
        "lone surrogate in every text field": json.dumps(dict.fromkeys(strings, "a\ud800b")),
        "lone surrogate in a key": '{"\\ud800": 1}',
        "integers past bigint": json.dumps(dict.fromkeys(numbers or ["x"], 10**30)),
        "a number that decodes to infinity": "{" + ", ".join(f'"{n}": 1e400' for n in numbers or ["x"]) + "}",
        "NaN": '{"x": NaN}',
        "100,000 nested lists": "[" * 100_000,
        "1,000 nested objects": '{"a":' * 1000 + "1" + "}" * 1000,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module and rolled back after it; each request runs in a savepoint."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        api_world = build_api_world()
        api_world.token = token_for(api_world.user)
        yield api_world
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def operations():
    return _operations()


def _send(client, method: str, path: str, **kwargs):
    # a savepoint per request: one answer's failed statement must not poison the next request
    with transaction.atomic():
        response = getattr(client, method)(path, HTTP_ACCEPT="application/json", **kwargs)
        transaction.set_rollback(True)
    return response


def assert_rest_answer(response, what: str):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400 and response["Content-Type"] == "application/json":
        body = response.json()
        error = body.get("error")
        assert isinstance(error, dict), f"{what}: not the error shape: {body}"
        assert is_registered(error["code"]), f"{what}: unregistered code {error['code']}"
        assert isinstance(error["message"], str) and isinstance(error["fields"], dict), f"{what}: {body}"


def _client(world) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.token}")
    return client


# REST: every route ---------------------------------------------------------------------------


def test_every_route_of_the_url_conf_is_walked():
    names = {name for _, name, _ in ROUTES}
    assert {"person-list", "referral-detail", "pathway-link", "hsds-service", "login"} <= names
    assert len(ROUTES) > 60


@pytest.mark.parametrize(("route", "name", "method"), ROUTES, ids=[f"{m.upper()} {n}" for _, n, m in ROUTES])
def test_no_input_answers_5xx(db, world, operations, route, name, method):
    client = _client(world)
    ids = world.ids()
    path = _path(route, name, ids)
    operation = operations.get((name, method), {"body": {}, "query": []})
    if name not in UNDOCUMENTED:
        assert (name, method) in operations, f"{method.upper()} {name} is missing from the OpenAPI schema"
    # path segments: a NUL, a number past bigint, a random id
    for segment in ("%00", HUGE, str(uuid.uuid4())):
        if "(?P<" in route:
            probe = _path(route, name, ids, override=segment)
            assert_rest_answer(_send(client, method, probe), f"{method} {probe}")
    if method == "get":
        for parameter in {*operation["query"], "limit", "offset"}:
            for value in NUMERIC_VALUES:
                answer = _send(client, "get", path, data={parameter: value})
                assert_rest_answer(answer, f"GET {path}?{parameter}={value}")
        answer = _send(client, "get", path, data=dict.fromkeys({*operation["query"], "search"}, "a\x00b"))
        assert_rest_answer(answer, f"GET {path} with NUL in the query")
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_characters"
        return
    for what, body in _hostile_bodies(operation["body"]).items():
        answer = _send(client, method, path, data=body, content_type="application/json")
        assert_rest_answer(answer, f"{method.upper()} {path} with {what}")


# REST: the rules, on named examples ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=99999999999999999999", "limit"),
        ("limit=1e400", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("offset=1_000", "offset"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/persons", "/api/v1/referrals", "/api/v1/organisations"])
def test_limit_and_offset_out_of_range_are_a_400_naming_the_parameter(world, path, query, parameter):
    response = _send(_client(world), "get", f"{path}?{query}")
    assert response.status_code == 400, response.content
    assert parameter in response.json()["error"]["fields"]


def test_limit_and_offset_in_range_still_page(world):
    body = _send(_client(world), "get", "/api/v1/organisations?limit=1&offset=1").json()
    assert body["count"] == 3 and len(body["results"]) == 1 and body["previous"]


@pytest.mark.parametrize(
    "path",
    ["/hsds/services?search=%00", "/api/v1/persons?registration_number=%00", "/api/v1/referrals?search=%00"],
)
def test_nul_in_a_query_parameter_is_a_400_naming_it(world, path):
    response = _send(_client(world), "get", path)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_characters" and "NUL" in error["message"]
    assert len(error["fields"]) == 1


@pytest.mark.parametrize("username", ["ops\x00admin", "ops\ud800"])
def test_bad_characters_in_a_login_are_a_400(client, username):
    response = client.post(
        "/api/v1/auth/login",
        data=json.dumps({"username": username, "password": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_characters"


def test_a_nul_in_a_header_is_a_400(world):
    client = _client(world)
    response = _send(client, "get", "/api/v1/me", HTTP_IDEMPOTENCY_KEY="k\x00")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_characters"


def test_deeply_nested_json_is_a_400_not_a_recursion_error(world):
    client = _client(world)
    response = _send(client, "post", "/api/v1/persons", data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_admin_search_with_a_nul_is_a_400(client, world):
    client.force_login(world.user)
    response = _send(client, "get", "/admin/partners/organisation/?q=%00")
    assert response.status_code == 400


# GraphQL: every field with a text or number argument ----------------------------------------


def _type_name(graphql_type) -> str:
    return str(graphql_type)


def _selection(graphql_type) -> str:
    named = get_named_type(graphql_type)
    return " { __typename }" if isinstance(named, GraphQLObjectType) or hasattr(named, "fields") else ""


def _filler(graphql_type) -> str:
    named = get_named_type(graphql_type)
    return {"Int": "5", "Boolean": "false"}.get(named.name, '"x"')


HOSTILE_TEXT = ["\x00", "a\ud800", "UmVmZXJyYWw6AA==", "YXJyYXljb25uZWN0aW9uOjk5OTk5OTk5OTk5OTk5OTk5OTk5"]
HOSTILE_INT = [2**31, 2**31 - 1, -(2**31), -1, 0]


def _graphql_cases():
    cases = []
    for kind, root in (
        ("query", graphql_schema.graphql_schema.query_type),
        ("mutation", graphql_schema.graphql_schema.mutation_type),
    ):
        for field_name, field in root.fields.items():
            for argument_name, argument in field.args.items():
                named = get_named_type(argument.type)
                if not isinstance(named, GraphQLScalarType) or named.name not in ("String", "ID", "Int"):
                    continue
                values = HOSTILE_INT if named.name == "Int" else HOSTILE_TEXT
                others = ", ".join(
                    f"{name}: {_filler(other.type)}"
                    for name, other in field.args.items()
                    if name != argument_name and isinstance(other.type, GraphQLNonNull)
                )
                arguments = ", ".join(filter(None, [f"{argument_name}: $v", others]))
                document = (
                    f"{kind} Probe($v: {_type_name(argument.type)}) "
                    f"{{ {field_name}({arguments}){_selection(field.type)} }}"
                )
                cases.extend((f"{field_name}.{argument_name}={value!r}", document, value) for value in values)
                if named.name != "Int":
                    literal = document.replace("($v: " + _type_name(argument.type) + ")", "").replace(
                        "$v", '"\\u0000"'
                    )
                    cases.append((f"{field_name}.{argument_name} literal NUL", literal, None))
    return cases


GRAPHQL_CASES = _graphql_cases()


def test_every_graphql_field_with_a_text_or_number_argument_is_walked():
    walked = {case[0].split("=")[0].split(" ")[0] for case in GRAPHQL_CASES}
    expected = {"services.after", "referralInbox.search", "referOnward.idempotencyKey", "nextSteps.service"}
    assert expected <= walked


@pytest.mark.parametrize(("case", "document", "value"), GRAPHQL_CASES, ids=[c[0] for c in GRAPHQL_CASES])
def test_no_graphql_input_answers_5xx_or_an_internal_error(db, client, world, case, document, value):
    variables = {} if value is None else {"v": value}
    with transaction.atomic():
        response = client.post(
            "/graphql",
            data=json.dumps({"query": document, "variables": variables}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {world.token}",
        )
        transaction.set_rollback(True)
    assert response.status_code < 500, f"{case}: {response.status_code}"
    body = response.json()
    for error in body.get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code != "internal_error" and is_registered(code), f"{case}: {error}"
    for payload in (body.get("data") or {}).values():
        for error in (payload or {}).get("errors", []) if isinstance(payload, dict) else []:
            assert error["code"] != "internal_error", f"{case}: {error}"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("[" * 100_000, "request_too_large"),  # over GRAPHQL_MAX_BODY_BYTES before it is even parsed
        (
            '{"query": "{ viewer { username } }", "variables": ' + "[" * 5000 + "]" * 5000 + "}",
            "invalid_json",
        ),
        ('{"query": "{ viewer { username } }", "variables": {"x": 1e400}}', "invalid_json"),
        ('{"query": "{ viewer { username } }", "variables": {"x": "\\u0000"}}', "invalid_characters"),
        ('{"query": "{ viewer { username } }", "variables": {"\\ud800": 1}}', "invalid_characters"),
        # refused by the size limits before the parser is even asked (docs/graphql.md, Limits)
        ('{"query": "{' + "a{" * 400 + "b" + "}" * 401 + '"}', "query_too_large"),
    ],
    ids=["oversized", "deep variables", "infinite number", "NUL", "surrogate key", "deep query"],
)
def test_graphql_bodies_that_used_to_fail_are_4xx_with_a_code(client, world, body, code):
    response = client.post(
        "/graphql", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {world.token}"
    )
    assert 400 <= response.status_code < 500
    assert [error["extensions"]["code"] for error in response.json()["errors"]][:1] == [code]


def test_graphql_get_with_deep_variables_is_a_400_with_a_code(client, world):
    response = client.get(
        "/graphql",
        {"query": "{ viewer { username } }", "variables": "[" * 5000 + "]" * 5000},
        HTTP_AUTHORIZATION=f"Token {world.token}",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "invalid_json"


def test_a_forged_cursor_past_the_range_is_invalid_cursor(gql, world):
    cursor = "YXJyYXljb25uZWN0aW9uOjk5OTk5OTk5OTk5OTk5OTk5OTk5"  # arrayconnection:99999999999999999999
    _status, body = gql(world.user, f'{{ services(first: 5, after: "{cursor}") {{ totalCount }} }}')
    assert body["errors"][0]["extensions"]["code"] == "invalid_cursor"


def test_first_past_int_is_refused_before_execution(gql, world):
    status, body = gql(world.user, "{ services(first: 99999999999) { totalCount } }")
    assert status == 400 and "invalid_query" in {error["extensions"]["code"] for error in body["errors"]}
