"""``/graphql``: the partner API, authenticated by the same API tokens as REST, with limits."""

import logging
import re
from contextlib import nullcontext

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
)
from rest_framework.exceptions import AuthenticationFailed

from common import limits as input_limits
from common import replicas
from common.errors import ServiceError
from common.graphql import graphql_field
from hub.auth import authenticate_api_request
from hub.authentication import session_is_acceptable
from hub.graphql_limits import QueryLimits, preflight, validation_rules

logger = logging.getLogger("hub.graphql")
# graphql-core 3.2 has no switch for its suggestions; they always end the message
_SUGGESTION = re.compile(r" Did you mean [^?]*\?$")


def _graphql_error(message: str, code: str, status: int) -> JsonResponse:
    response = JsonResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Token"
    return response


def _too_deep() -> GraphQLError:
    return GraphQLError("The document nests too deeply to be parsed.", extensions={"code": "invalid_query"})


def _root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> set[str]:
    """The names of the root fields an operation selects, through its fragments (unvalidated: a
    fragment cycle is walked once; an unknown fragment is left to the validation rules)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                if selection.name.value in fragments:
                    walk(fragments[selection.name.value].selection_set)

    walk(operation.selection_set)
    return names


def replica_safe_query(schema: GraphQLSchema, document: DocumentNode, operation) -> bool:
    """A query whose every root field is marked ``@replica_safe`` (``__typename`` aside) may read
    from a replica as a whole: nested fields resolve after their root resolver has returned."""
    if operation is None or operation.operation != OperationType.QUERY:
        return False
    fields = schema.query_type.fields
    names = _root_fields(document, operation) - {"__typename"}
    return bool(names) and all(
        replicas.is_replica_safe(getattr(fields.get(n), "resolve", None)) for n in names
    )


@method_decorator(csrf_exempt, name="dispatch")
class HubGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("graphiql", settings.GRAPHIQL_ENABLED)
        super().__init__(**kwargs)

    # the body size (GRAPHQL_MAX_BODY_BYTES) and NUL characters in the URL are checked before this,
    # by hub.middleware.RequestLimitsMiddleware
    def dispatch(self, request, *args, **kwargs):
        try:
            token_user = authenticate_api_request(request)
        except AuthenticationFailed as exc:
            return _graphql_error(str(exc.detail), "unauthenticated", 401)
        if token_user is not None:
            request.user = token_user
        elif (
            request.user.is_authenticated
            and request.method == "POST"
            # session callers (GraphiQL in the browser) get the CSRF protection tokens don't need
            and CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None
        ):
            return _graphql_error("CSRF check failed.", "csrf_failed", 403)
        if (
            not request.user.is_authenticated
            or not request.user.is_active
            or (token_user is None and not session_is_acceptable(request.user))
        ):
            return _graphql_error("Authentication credentials were not provided.", "unauthenticated", 401)
        if request.method == "POST" and request.content_type == "application/json":
            try:
                body = input_limits.loads(request.body or b"{}")
            except input_limits.InputRejected as exc:
                if exc.code == "invalid_characters":
                    return _graphql_error(exc.message, "invalid_characters", 400)
                return _graphql_error(f"The body is not valid JSON: {exc.message}", "invalid_json", 400)
            if isinstance(body, list):
                return _graphql_error(
                    "Batched operations are not accepted; send one operation per request.",
                    "batch_not_allowed",
                    400,
                )
        return super().dispatch(request, *args, **kwargs)

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        # variables of a GET, or given as a JSON string inside the body, were not checked in dispatch
        try:
            input_limits.check_document(variables, where="variables")
            if isinstance(query, str):
                input_limits.check_text(query, where="The query")
        except input_limits.InputRejected as exc:
            code = "invalid_characters" if exc.code == "invalid_characters" else "invalid_json"
            return ExecutionResult(data=None, errors=[GraphQLError(exc.message, extensions={"code": code})])
        limits = QueryLimits.from_settings(settings)
        if isinstance(query, str) and query:
            # bounded parse and the size limits, before the standard rules (some are quadratic) run;
            # graphene-django then parses the document again, which its token bound keeps cheap, and
            # keeps its own handling (GET, atomic mutations) instead of a copy of it here
            refusal = preflight(query, limits)
            if refusal is not None:
                return ExecutionResult(data=None, errors=[refusal])
        reads = nullcontext()
        if settings.DATABASE_REPLICAS and isinstance(query, str) and query:
            # one more parse (well under a millisecond for the inbox), only when replicas may serve
            document = parse(query, max_tokens=limits.max_tokens)  # preflight parsed it: it parses
            operation = get_operation_ast(document, operation_name)
            if operation is not None and operation.operation == OperationType.QUERY:
                replicas.mark_read_only()  # a query writes nothing its caller would read back
            if replica_safe_query(self.schema.graphql_schema, document, operation):
                reads = replicas.replica_reads()
        # the view is instantiated per request, so the rules can carry this request's variables
        self.validation_rules = validation_rules(
            variables=variables if isinstance(variables, dict) else {}, limits=limits
        )
        # resolvers may register work for the end of the request (the payload access log: one bulk
        # insert for every payload read); if that work fails, no data leaves without its record
        request.graphql_on_complete = []
        try:
            with reads:
                result = super().execute_graphql_request(
                    request, data, query, variables, operation_name, show_graphiql
                )
        except RecursionError:
            return ExecutionResult(data=None, errors=[_too_deep()])
        try:
            for callback in request.graphql_on_complete:
                callback()
        except Exception:
            logger.exception("GraphQL end-of-request work failed; the answer is withheld")
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError("Internal error; it has been logged.", extensions={"code": "internal_error"})
                ],
            )
        return result

    @staticmethod
    def format_error(error):
        if isinstance(error, RecursionError):  # graphene-django hands on the parser's own
            error = _too_deep()
        if isinstance(error, HttpError):
            # graphene-django's own refusals (no query, variables not JSON, a mutation over GET):
            # client errors with their status already set, not failures to log
            status = error.response.status_code
            code = "method_not_allowed" if status == 405 else "invalid_json" if "JSON" in str(error) else ""
            return {"message": str(error), "extensions": {"code": code or "invalid_query"}}
        original = getattr(error, "original_error", None)
        if isinstance(original, ServiceError):
            formatted = error.formatted
            formatted["message"] = original.message
            formatted["extensions"] = {
                "code": original.code,
                **({"field": graphql_field(original.field)} if original.field else {}),
                **({"details": dict(original.extra)} if original.extra else {}),
            }
            return formatted
        if isinstance(original, DjangoValidationError):
            formatted = error.formatted
            formatted["message"] = "; ".join(original.messages)
            formatted["extensions"] = {"code": "invalid"}
            return formatted
        if original is not None and not isinstance(original, GraphQLError):
            # never send stack traces, SQL or internals to the client; keep them in the log
            logger.error("GraphQL resolver failed", exc_info=original)
            formatted = error.formatted if isinstance(error, GraphQLError) else {}
            return {
                "message": "Internal error; it has been logged.",
                "locations": formatted.get("locations"),
                "path": formatted.get("path"),
                "extensions": {"code": "internal_error"},
            }
        if isinstance(error, GraphQLError):
            formatted = error.formatted
            if not (formatted.get("extensions") or {}).get("code"):
                # syntax and validation errors of graphql-core: one stable code for all of them
                formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": "invalid_query"}
            if not settings.GRAPHQL_INTROSPECTION:
                # "Did you mean 'payloadErased'?" would hand out the schema introspection keeps closed
                formatted["message"] = _SUGGESTION.sub("", formatted["message"])
            return formatted
        logger.error("GraphQL request failed", exc_info=error)
        return {"message": "Internal error; it has been logged.", "extensions": {"code": "internal_error"}}
