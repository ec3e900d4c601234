"""Limits checked before a GraphQL operation executes: depth, cost, introspection, characters.

The rules are added to graphql-core's ``specified_rules``; passing only custom rules would
silently drop the standard validation (unknown fields, fragment cycles, …). Depth is measured
here rather than with graphene's ``depth_limit_validator``, which recurses forever on a fragment
cycle before graphql-core's own rule can report it.
"""

from graphql import GraphQLError, ValidationRule, specified_rules
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    StringValueNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from common.limits import bad_character

PAGE_ARGUMENTS = ("first", "last")


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
    maximum page size when it is missing). Aliases count like any other field."""

    class OperationLimitsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
            depth, cost = self._measure(node.selection_set, frozenset())
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

        def _measure(self, selection_set, fragments_seen: frozenset) -> tuple[int, int]:
            if selection_set is None:
                return 0, 0
            depth = cost = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    if selection.name.value.startswith("__"):
                        continue  # introspection has its own switch
                    inner_depth, inner_cost = self._measure(selection.selection_set, fragments_seen)
                    size = _page_size(selection, variables, default_page_size)
                    depth = max(depth, 1 + inner_depth)
                    cost += 1 + inner_cost * (size if size and size > 0 else 1)
                    continue
                seen = fragments_seen
                if isinstance(selection, InlineFragmentNode):
                    inner = selection.selection_set
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    name = selection.name.value
                    fragment = self.context.get_fragment(name)
                    if fragment is None or name in fragments_seen:
                        continue  # unknown fragments and cycles are reported by the standard rules
                    inner, seen = fragment.selection_set, fragments_seen | {name}
                inner_depth, inner_cost = self._measure(inner, seen)
                depth, cost = max(depth, inner_depth), cost + inner_cost
            return depth, cost

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


def validation_rules(*, variables: dict, max_depth: int, max_cost: int, page_size: int, introspection: bool):
    rules = [
        *specified_rules,
        operation_limits_rule(
            max_depth=max_depth, max_cost=max_cost, variables=variables or {}, default_page_size=page_size
        ),
        StoredCharactersRule,
    ]
    if not introspection:
        # graphql-core's rule keeps __typename (Relay and Apollo clients need it), unlike graphene's
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)
