"""What a GraphQL document costs before it executes: the worst accepted and the worst refused.

Each document goes through what ``HubGraphQLView`` runs before execution — ``preflight`` (token
scan, bounded parse, selection count, fragment expansion), then graphene-django's parse and
graphql-core's validation with the view's rules — without a request and without the database.
The floor is the same for the shipped inbox operation, measured in the same run. Times are the
median CPU time of this process (other work on a shared machine does not inflate them); every
document must be answered, accepted or refused, within BUDGET_MS.
"""

import os
import statistics
import time
from pathlib import Path

BUDGET_MS = 50
ROUNDS = 15
OPERATIONS = Path(__file__).resolve().parents[1] / "graphql" / "operations"


def _largest(build, limits) -> tuple[int, str]:
    """The largest n for which the document build(n) passes the preflight limits, and that document."""
    from hub.graphql_limits import preflight

    n = 1
    while preflight(build(n + 1), limits) is None:
        n += 1
    return n, build(n)


def _accepted(limits) -> dict[str, str]:
    """Documents just under the limits, each shaped for the most work in the standard rules."""
    from hub.graphql_limits import MAX_NESTING

    repeats = limits.max_field_repeats
    # one response name with arguments, `repeats` times: OverlappingFieldsCanBeMerged compares every
    # pair, printing both argument lists each time; as many such groups as the limits allow
    offer = 'o{}: nextSteps(pathway: "UGF0aDox", service: "U2VydmljZTox", profile: {{age: 30}}) {{ note }}'
    groups, repeated = _largest(
        lambda n: "{ " + " ".join(offer.format(g) for g in range(n) for _ in range(repeats)) + " }", limits
    )
    # one group whose arguments fill the tokens instead: every pair prints both long lists
    needs, long_args = _largest(
        lambda n: (
            "{ "
            + " ".join(
                'o: nextSteps(pathway: "UGF0aDox", service: "U2VydmljZTox", profile: {specificNeeds: ['
                + ", ".join(f'"s{i}"' for i in range(n))
                + "]}) { note }"
                for _ in range(repeats)
            )
            + " }"
        ),
        limits,
    )
    # the same with a short argument, so that the selection limit binds rather than the tokens
    node = 'n{}: node(id: "UmVmZXJyYWw6MQ==") {{ id }}'
    node_groups, nodes = _largest(
        lambda n: "{ " + " ".join(node.format(g) for g in range(n) for _ in range(repeats)) + " }", limits
    )
    # distinct aliases up to the selection limit
    aliases, aliased = _largest(
        lambda n: "{ " + " ".join(f"a{i}: viewer {{ username }}" for i in range(n)) + " }", limits
    )
    # one field as often as allowed, then distinct aliases of it
    typenames, typenamed = _largest(
        lambda n: "{ " + "__typename " * repeats + " ".join(f"t{i}: __typename" for i in range(n)) + " }",
        limits,
    )
    # inline fragments nested to the bracket limit (they add no depth)
    nested = "{ " + "... on Query { " * (MAX_NESTING - 1) + "__typename" + " }" * (MAX_NESTING - 1) + " }"
    # fragments, each spreading the next
    links, chain = _largest(
        lambda n: (
            "{ ...F0 } "
            + " ".join(f"fragment F{i} on Query {{ f{i}: __typename ...F{i + 1} }}" for i in range(n))
            + f" fragment F{n} on Query {{ __typename }}"
        ),
        limits,
    )
    # one field with a long list argument
    values, heavy = _largest(
        lambda n: (
            '{ nextSteps(pathway: "UGF0aDox", service: "U2VydmljZTox", profile: {specificNeeds: ['
            + ", ".join(f'"s{i}"' for i in range(n))
            + "]}) { note } }"
        ),
        limits,
    )
    return {
        f"{groups} x {repeats} repeated nextSteps with arguments": repeated,
        f"{repeats} repeated nextSteps, {needs} strings in each": long_args,
        f"{node_groups} x {repeats} repeated node(id:)": nodes,
        f"{aliases} aliased viewer {{ username }}": aliased,
        f"__typename x {repeats} + {typenames} aliases of it": typenamed,
        f"inline fragments nested {MAX_NESTING - 1} deep": nested,
        f"a chain of {links + 1} fragments": chain,
        f"a list argument of {values} strings": heavy,
    }


def _aliased_spreads(level: int) -> str:
    return " ".join(f"a{i}: viewer {{ ...L{level + 1} }}" for i in range(10))


def _refused(limits) -> dict[str, tuple[str, str]]:
    """Attacks, each with the code it must be refused with."""
    levels = 8  # 10 ** 8 fields once expanded, in under 1 KB
    fan_out = (
        "{ ...L0 } "
        + " ".join(
            f"fragment L{level} on Query {{ {' '.join(f'...L{level + 1}' for _ in range(10))} }}"
            for level in range(levels)
        )
        + f" fragment L{levels} on Query {{ __typename }}"
    )
    # the same under distinct aliases, so that no result field repeats
    aliased_fan_out = (
        "{ ...L0 } "
        + " ".join(f"fragment L{level} on Query {{ {_aliased_spreads(level)} }}" for level in range(levels))
        + f" fragment L{levels} on Viewer {{ username }}"
    )
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(5000)) + " }"
    typenames = "{ " + "__typename " * 5000 + "}"
    flood = "{ " + "viewer " * 9000 + "}"  # a 64 KiB body of names
    deep = "{ " + "viewer { " * 5000 + "username" + " }" * 5000 + " }"  # 55 KiB
    cycle_length, cycle = _largest(
        lambda n: (
            "{ ...C0 } "
            + " ".join(f"fragment C{i} on Query {{ c{i}: __typename ...C{(i + 1) % n} }}" for i in range(n))
        ),
        limits,
    )
    return {
        f"fragment fan-out, 10 spreads x {levels} levels ({len(fan_out)} bytes)": (
            fan_out,
            "query_too_large",
        ),
        f"the same under aliases ({len(aliased_fan_out)} bytes)": (aliased_fan_out, "query_too_large"),
        "5,000 aliased __typename": (aliases, "query_too_large"),
        "5,000 x __typename": (typenames, "query_too_large"),
        "9,000 tokens": (flood, "query_too_large"),
        "fields nested 5,000 deep": (deep, "query_too_large"),
        f"fragment cycle of {cycle_length}": (cycle, "invalid_query"),
    }


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.conf import settings
    from graphene_django.settings import graphene_settings
    from graphql import parse, validate

    from hub.graphql_limits import MAX_NESTING, QueryLimits, preflight, validation_rules
    from hub.schema import schema

    settings.GRAPHQL_INTROSPECTION = False  # as in production
    limits = QueryLimits.from_settings(settings)
    graphql_schema = schema.graphql_schema

    def check(query: str):
        """The view's path up to execution: the first error, or None when the document is accepted."""
        refusal = preflight(query, limits)
        if refusal is not None:
            return refusal
        rules = validation_rules(variables={}, limits=limits)
        errors = validate(graphql_schema, parse(query), rules, graphene_settings.MAX_VALIDATION_ERRORS)
        return errors[0] if errors else None

    def timed(query: str) -> tuple[float, object]:
        check(query)  # warm
        timings = []
        for _ in range(ROUNDS):
            start = time.process_time()
            outcome = check(query)
            timings.append((time.process_time() - start) * 1000)
        return statistics.median(timings), outcome

    print(
        f"limits: {limits.max_tokens} tokens, {limits.max_selections} selections, "
        f"{limits.max_field_repeats} repeats of one field, nesting {MAX_NESTING}, "
        f"depth {limits.max_depth}, cost {limits.max_cost}; median of {ROUNDS}, budget {BUDGET_MS} ms"
    )
    floor, outcome = timed((OPERATIONS / "inbox.graphql").read_text())
    assert outcome is None, outcome
    print(f"  {'floor: inbox.graphql':<62} {floor:7.2f} ms")
    over = []
    for name, query in _accepted(limits).items():
        median, outcome = timed(query)
        assert outcome is None, f"{name}: {outcome}"
        verdict = "ok" if median < BUDGET_MS else "OVER BUDGET"
        print(f"  accepted  {name:<52} {median:7.2f} ms  {median / floor:5.1f} x floor  {verdict}")
        over += [name] if median >= BUDGET_MS else []
    for name, (query, code) in _refused(limits).items():
        median, outcome = timed(query)
        answered = (outcome.extensions or {}).get("code") if outcome is not None else None
        answered = answered or "invalid_query"
        assert outcome is not None and answered == code, f"{name}: {answered} ({outcome}), expected {code}"
        verdict = "ok" if median < BUDGET_MS else "OVER BUDGET"
        print(f"  refused   {name:<52} {median:7.2f} ms  {median / floor:5.1f} x floor  {code}  {verdict}")
        over += [name] if median >= BUDGET_MS else []
    assert not over, f"over {BUDGET_MS} ms: {over}"
