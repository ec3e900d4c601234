"""Limits checked before a GraphQL operation executes: size, depth, cost, introspection, characters.

Two stages, in this order (``HubGraphQLView`` runs both):

1. :func:`preflight`, before graphql-core's validation, on the raw text and the parsed document:
   tokens and bracket nesting (so that parsing is bounded), the number of selections, and — with
   fragments counted at every spread — the selections a document expands to and how often one
   result field is selected. These bound the standard rules, some of which are quadratic in them.
2. :func:`validation_rules`: graphql-core's ``specified_rules`` plus the depth and cost rule (with
   page sizes). Passing only custom rules would silently drop the standard validation (unknown
   fields, fragment cycles, …). Depth is measured here rather than with graphene's
   ``depth_limit_validator``, which recurses forever on a fragment cycle before graphql-core's own
   rule can report it.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLError, GraphQLSyntaxError, Lexer, Source, TokenKind, ValidationRule, parse
from graphql import specified_rules as standard_rules
from graphql.language import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from common.connections import MAX_PAGE_SIZE
from common.limits import bad_character

PAGE_ARGUMENTS = ("first", "last")
# graphql-core's parser (and several standard rules) recurse once per level of brackets, and
# Python's stack ends a few hundred levels down; no real operation nests more than about twenty
# (ten levels of fields, a few inline fragments and input objects)
MAX_NESTING = 64
# a document may select this many times its selection limit once fragments are spread in place
EXPANSION = 10
_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R})


@dataclass(frozen=True)
class QueryLimits:
    max_tokens: int
    max_selections: int
    max_field_repeats: int
    max_depth: int
    max_cost: int
    page_size: int
    introspection: bool

    @classmethod
    def from_settings(cls, settings) -> QueryLimits:
        return cls(
            max_tokens=settings.GRAPHQL_MAX_TOKENS,
            max_selections=settings.GRAPHQL_MAX_SELECTIONS,
            max_field_repeats=settings.GRAPHQL_MAX_FIELD_REPEATS,
            max_depth=settings.GRAPHQL_MAX_DEPTH,
            max_cost=settings.GRAPHQL_MAX_COST,
            page_size=MAX_PAGE_SIZE,
            introspection=settings.GRAPHQL_INTROSPECTION,
        )


def _too_large(message: str, measure: str, limit: int) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "query_too_large", "measure": measure, "limit": limit})


# Stage 1: before validation ----------------------------------------------------------------------


def preflight(query: str, limits: QueryLimits) -> GraphQLError | None:
    """The first reason to refuse ``query`` before validating it (a syntax error included), or None.

    Every step does work proportional to what the limit before it allowed, so a refusal costs
    about as much as parsing an accepted operation."""
    refusal = _scan(query, limits)
    if refusal is not None:
        return refusal
    try:
        # the scan already stopped at this bound; the parser keeps it on its own as well
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLSyntaxError as error:
        return error
    return _count_selections(document, limits) or _expand(document, limits)


def _scan(query: str, limits: QueryLimits) -> GraphQLError | None:
    lexer = Lexer(Source(query))
    tokens = nesting = 0
    try:
        while (token := lexer.advance()).kind != TokenKind.EOF:
            tokens += 1
            if tokens > limits.max_tokens:
                return _too_large(
                    f"The document has more than {limits.max_tokens} tokens.", "tokens", limits.max_tokens
                )
            if token.kind in _OPENING:
                nesting += 1
                if nesting > MAX_NESTING:
                    return _too_large(
                        f"The document nests brackets more than {MAX_NESTING} levels deep.",
                        "nesting",
                        MAX_NESTING,
                    )
            elif token.kind in _CLOSING:
                nesting -= 1
    except GraphQLSyntaxError:
        return None  # the parser reports it, with the same message
    return None


def _count_selections(document: DocumentNode, limits: QueryLimits) -> GraphQLError | None:
    """Fields (aliased or not, ``__typename`` and introspection included), fragment spreads and
    inline fragments as written: the standard rules do work for each, some of it quadratic."""
    selections = 0
    pending = [d.selection_set for d in document.definitions if isinstance(d, ExecutableDefinitionNode)]
    while pending:
        selection_set = pending.pop()
        selections += len(selection_set.selections)
        if selections > limits.max_selections:
            return _too_large(
                f"The document has more than {limits.max_selections} selections "
                "(fields, aliases and fragments).",
                "selections",
                limits.max_selections,
            )
        pending.extend(
            inner
            for selection in selection_set.selections
            if (inner := getattr(selection, "selection_set", None)) is not None
        )
    return None


def _expand(document: DocumentNode, limits: QueryLimits) -> GraphQLError | None:
    """Walk every operation and fragment with fragments spread in place, as the standard rules
    compare them, counting the selections visited and how often each result field — one response
    name at one place of the result — is selected.

    graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of fields that land on the
    same result field (arguments and sub-selections included), and follows every fragment a
    selection set spreads, transitively: capping the repeats keeps the first linear, capping the
    expanded selections the second — and refuses a fan-out of fragments (A spreads B ten times, B
    spreads C ten times, …) before it is expanded. The walk never takes more steps than that cap."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    max_expanded = EXPANSION * limits.max_selections
    expanded = 0
    for root in (d for d in document.definitions if isinstance(d, ExecutableDefinitionNode)):
        result_fields: dict[tuple[int, str], int] = {}  # (parent result field, response name) → id
        repeats: dict[int, int] = {}
        top = frozenset({root.name.value}) if isinstance(root, FragmentDefinitionNode) else frozenset()
        # (selection set, the result field it selects into, the fragments spread on the way there)
        pending: list[tuple[SelectionSetNode, int, frozenset]] = [(root.selection_set, -1, top)]
        while pending:
            selection_set, parent, spread = pending.pop()
            expanded += len(selection_set.selections)
            if expanded > max_expanded:
                return _too_large(
                    f"Counting fragments at every spread, the document has more than {max_expanded} "
                    "selections.",
                    "expanded_selections",
                    max_expanded,
                )
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = (parent, (selection.alias or selection.name).value)
                    field_id = result_fields.setdefault(key, len(result_fields))
                    repeats[field_id] = repeats.get(field_id, 0) + 1
                    if repeats[field_id] > limits.max_field_repeats:
                        return _too_large(
                            f"The field '{key[1]}' is selected more than {limits.max_field_repeats} times "
                            "at one place (fragments counted at every spread).",
                            "field_repeats",
                            limits.max_field_repeats,
                        )
                    if selection.selection_set is not None:
                        pending.append((selection.selection_set, field_id, spread))
                elif isinstance(selection, InlineFragmentNode):
                    pending.append((selection.selection_set, parent, spread))
                else:
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is not None and name not in spread:
                        # unknown fragments and cycles are left for the standard rules to report
                        pending.append((fragment.selection_set, parent, spread | {name}))
    return None


# Stage 2: with the standard validation -----------------------------------------------------------


def _page_size(field: FieldNode, variables: dict, default: int) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            value = argument.value
            if value.kind == "int_value":
                return int(value.value)
            if value.kind == "variable":
                given = variables.get(value.name.value)
                return int(given) if isinstance(given, int) else default
    return None


def operation_limits_rule(*, max_depth: int, max_cost: int, variables: dict, default_page_size: int):
    """Depth: nesting of fields. Cost: each field is 1, and everything inside a paginated field
    counts once per requested item (``first``/``last``; a variable counts with its value, or the
    maximum page size when it is missing). Aliases, ``__typename`` and introspection fields count
    like any other field; introspection fields add no depth (GraphiQL's schema query follows the
    schema's own type nesting eight levels down, which is no data)."""

    class OperationLimitsRule(ValidationRule):
        def __init__(self, context):
            super().__init__(context)
            # a fragment's depth and cost do not depend on where it is spread: measured once
            self.fragments: dict[str, tuple[int, int]] = {}
            self.measuring: set[str] = set()

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
            depth, cost = self.measure(node.selection_set)
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"Query depth {depth} exceeds the limit of {max_depth}.",
                        node,
                        extensions={"code": "query_too_deep", "depth": depth, "limit": max_depth},
                    )
                )
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"Query cost {cost} exceeds the limit of {max_cost}; ask for fewer items or fields.",
                        node,
                        extensions={"code": "query_too_costly", "cost": cost, "limit": max_cost},
                    )
                )

        def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
            if selection_set is None:
                return 0, 0
            depth = cost = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    inner_depth, inner_cost = self.measure(selection.selection_set)
                    size = _page_size(selection, variables, default_page_size)
                    if not selection.name.value.startswith("__"):
                        depth = max(depth, 1 + inner_depth)
                    cost += 1 + inner_cost * (size if size and size > 0 else 1)
                    continue
                if isinstance(selection, InlineFragmentNode):
                    inner_depth, inner_cost = self.measure(selection.selection_set)
                else:
                    inner_depth, inner_cost = self.measure_fragment(selection.name.value)
                depth, cost = max(depth, inner_depth), cost + inner_cost
            return depth, cost

        def measure_fragment(self, name: str) -> tuple[int, int]:
            if name in self.fragments:
                return self.fragments[name]
            fragment = self.context.get_fragment(name)
            if fragment is None or name in self.measuring:
                return 0, 0  # unknown fragments and cycles are reported by the standard rules
            self.measuring.add(name)
            self.fragments[name] = self.measure(fragment.selection_set)
            self.measuring.discard(name)
            return self.fragments[name]

    return OperationLimitsRule


class StoredCharactersRule(ValidationRule):
    """A string literal may not decode (``"\\u0000"``) to a character PostgreSQL cannot store; the
    same check as for variables and REST bodies (``common.limits``)."""

    def enter_string_value(self, node: StringValueNode, *_args):
        if (problem := bad_character(node.value)) is not None:
            self.report_error(
                GraphQLError(
                    f"A string in the query holds {problem}, which is not accepted.",
                    node,
                    extensions={"code": "invalid_characters"},
                )
            )


def validation_rules(*, variables: dict, limits: QueryLimits) -> tuple[type[ValidationRule], ...]:
    rules = [
        *standard_rules,
        operation_limits_rule(
            max_depth=limits.max_depth,
            max_cost=limits.max_cost,
            variables=variables or {},
            default_page_size=limits.page_size,
        ),
        StoredCharactersRule,
    ]
    if not limits.introspection:
        # graphql-core's rule keeps __typename (Relay and Apollo clients need it), unlike graphene's
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)
