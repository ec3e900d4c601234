"""The shape every GraphQL mutation shares: typed errors from the code registry, and one template.

A mutation decodes its ids and fetches through a selector (:meth:`ServiceMutation.node_or_error`:
not found and not allowed answer the same), calls one service, and returns what changed with a list
of errors. An error carries the same code, message and details as the REST API's, its ``field`` in
the argument's camelCase name.
"""

from __future__ import annotations

from collections.abc import Callable

import graphene
from django.core.exceptions import ValidationError as DjangoValidationError
from graphene.utils.str_converters import to_camel_case
from graphene_django.constants import MUTATION_ERRORS_FLAG

from common.errors import GRAPHQL, REGISTRY, NotFound, ServiceError, codes_for
from common.graphql_ids import decode_global_id

ErrorCodeEnum = graphene.Enum(
    "ErrorCode",
    [(entry.code, entry.code) for entry in codes_for(GRAPHQL)],
    description="Stable error codes, the same as the REST API's `error.code` (see docs/graphql.md)",
)


def graphql_field(field: str | None) -> str | None:
    """The argument at fault as GraphQL names it (camelCase): one casing rule for the whole API."""
    return to_camel_case(field) if field else None


class MutationErrorType(graphene.ObjectType):
    class Meta:
        name = "MutationError"

    code = ErrorCodeEnum(
        required=True, description="Stable code, e.g. invalid_transition, referral_not_found"
    )
    message = graphene.String(required=True)
    field = graphene.String(description="The argument at fault, if one is (camelCase)")
    details = graphene.JSONString(
        description="What the code carries, as in REST: e.g. `missing_fields`, `alternatives`; null if none"
    )

    @staticmethod
    def from_error(error: ServiceError) -> MutationErrorType:
        code = error.code if error.code in REGISTRY else "invalid"
        return MutationErrorType(
            code=code,
            message=error.message,
            field=graphql_field(error.field),
            details=dict(error.extra) if error.extra else None,
        )


class ServiceMutation(graphene.Mutation):
    """Base of every mutation: ``errors`` is always there; the rest is null on error."""

    class Meta:
        abstract = True

    errors = graphene.List(graphene.NonNull(MutationErrorType), required=True)

    @staticmethod
    def node_or_error(
        global_id: str, type_name: str, fetch: Callable, *, code: str, field: str = "id", message: str = ""
    ):
        """Decode ``global_id`` of ``type_name`` and fetch it through a selector (``fetch(raw_id)``
        returns the object or None). A malformed id, an id of another type, one that does not exist
        and one the caller may not see all raise the same ``NotFound``."""
        raw = decode_global_id(global_id, type_name)
        try:
            found = fetch(raw) if raw else None
        except (ValueError, DjangoValidationError):  # not a UUID after all
            found = None
        if found is None:
            raise NotFound(message or REGISTRY[code].message, code=code, field=field)
        return found

    @staticmethod
    def perform(info, change: Callable):
        """Run ``change`` (the service call); a ServiceError becomes a typed error and rolls the whole
        operation back (ATOMIC_MUTATIONS acts on this flag). Returns (result, errors)."""
        try:
            return change(), []
        except ServiceError as error:
            setattr(info.context, MUTATION_ERRORS_FLAG, True)
            return None, [MutationErrorType.from_error(error)]
