"""Corrections to the generated OpenAPI schema, so that it says what the API answers.

drf-spectacular documents only the success of each operation and lets every request body carry
unknown keys. The API refuses unknown keys (``StrictSerializer``) and answers its errors in one
shape with registered codes; ``tests/test_fuzz.py`` holds every answer to this schema.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension

from common.errors import REST, codes_for

ERROR_REF = {"$ref": "#/components/schemas/Error"}
# what any operation may answer: bad input anywhere (a parameter, a header, a path segment), no or
# a bad token, a role that may not, a row not there or not yours, an Accept we cannot serve
ANY_OPERATION = {
    "400": "Invalid input; `error.fields` names the fields or parameters at fault.",
    "401": "No token, or a wrong, expired or revoked one.",
    "403": "Your role may not do this.",
    "404": "Not found — also what exists but is not yours to see.",
    "406": "The Accept header asks for a format this operation does not give.",
}
WITH_A_BODY = {
    "409": "Conflicts with the current state (a duplicate, a state the action does not start from).",
    "413": "The body is over DATA_UPLOAD_MAX_MEMORY_SIZE (`request_too_large`).",
    "415": "The body is not application/json.",
}
ONLY_ON = {("/api/v1/auth/login", "post"): {"429": "Too many login attempts; try again later."}}


class StrictSerializerExtension(OpenApiSerializerExtension):
    """Request bodies of ``StrictSerializer``\\s refuse keys they do not declare: say so."""

    target_class = "common.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema


def _error_schema() -> dict:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(entry.code for entry in codes_for(REST))},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
                # some codes carry details beside the message (docs/api.md, the code table)
                "additionalProperties": True,
            }
        },
        "additionalProperties": False,
    }


def document_errors(result, generator, request, public):
    """Postprocessing hook: the error shape, and the error statuses of every operation."""
    result["components"]["schemas"]["Error"] = _error_schema()
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            statuses = dict(ANY_OPERATION)
            if method in ("post", "put", "patch"):
                statuses.update(WITH_A_BODY)
            statuses.update(ONLY_ON.get((path, method), {}))
            content = {"application/json": {"schema": ERROR_REF}}
            success = operation["responses"].get("200", {}).get("content", {})
            if "text/html" in success:  # pages render their errors as pages
                content["text/html"] = {"schema": {"type": "string"}}
            for status, description in statuses.items():
                operation["responses"].setdefault(status, {"description": description, "content": content})
    return result
