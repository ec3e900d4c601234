"""Errors raised by services, with stable codes, and the one registry of those codes.

Services in every app raise these. The REST exception handler (``hub.errors``) and GraphQL
(``common.graphql``, ``hub.graphql_view``) render them: the same code, message, field and details.
Every code a surface can answer is declared once in :data:`REGISTRY` with its HTTP status, the app
it belongs to, what it means and the detail fields it carries; the docs' code tables are generated
from it (``python manage.py error_codes``) and a test fails on a code raised anywhere that is not
declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

REST, GRAPHQL = "rest", "graphql"
# Codes only one API answers: DRF's transport and field-validation codes are REST's; GraphQL's own
# request checks are GraphQL's (every service code reaches both).
_REST_ONLY = [
    "not_authenticated",
    "authentication_failed",
    "not_acceptable",
    "unsupported_media_type",
    "parse_error",
    "throttled",
    "login_locked",
    "server_error",
    "null",
    "blank",
    "invalid_choice",
    "max_length",
    "min_length",
    "max_value",
    "min_value",
    "max_string_length",
    "not_a_list",
    "empty",
    "date",
    "make_aware",
    "overflow",
    # accounts: activation and the second factor are REST endpoints (/api/v1/auth/…)
    "account_already_active",
    "activation_token_expired",
    "activation_token_invalid",
    "otp_invalid",
    "otp_required",
    "totp_already_confirmed",
    "totp_not_set_up",
]
_GRAPHQL_ONLY = [
    "unauthenticated",
    "csrf_failed",
    "invalid_json",
    "batch_not_allowed",
    "invalid_query",
    "query_too_deep",
    "query_too_costly",
    "query_too_large",
    "invalid_page_size",
    "internal_error",
]
_ONLY = {**{code: (REST,) for code in _REST_ONLY}, **{code: (GRAPHQL,) for code in _GRAPHQL_ONLY}}


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    area: str  # the app or layer that raises it: referrals, consent, pathways, partners, hsds, common, api
    message: str  # what it means, in the words of the message it comes with
    details: tuple[str, ...] = ()  # detail fields it carries (REST: in the error object; GraphQL: `details`)
    surfaces: tuple[str, ...] = (REST, GRAPHQL)  # where it can be answered


def _code(
    code: str,
    status: int,
    area: str,
    message: str,
    *,
    details: tuple[str, ...] = (),
    surfaces: tuple[str, ...] | None = None,
) -> ErrorCode:
    if surfaces is None:
        surfaces = _ONLY.get(code, (REST, GRAPHQL))
    return ErrorCode(code=code, status=status, area=area, message=message, details=details, surfaces=surfaces)


class ServiceError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, extra=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.extra = extra or {}


@dataclass(frozen=True)
class Problem:
    """One broken rule, found without raising: what a rule's twin returns where the raising path
    raises (``service_data_problems`` beside ``_apply_service_data``). Importers collect these and
    say where in their file the value was; services raise the first one with :meth:`error`."""

    field: str | None
    code: str
    message: str

    def error(self) -> ServiceError:
        return error_for(self.code, self.message, field=self.field)


class NotFound(ServiceError):
    """Also used for objects the caller may not see: not allowed looks exactly like not found."""

    status = 404
    default_code = "not_found"


class PermissionDenied(ServiceError):
    """The caller can see the object but their role does not allow the action."""

    status = 403
    default_code = "permission_denied"


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"


class TooManyRequests(ServiceError):
    """Refused for now; a ``retry_after`` detail (seconds) also goes out as the Retry-After header."""

    status = 429
    default_code = "throttled"


class NotAuthenticated(ServiceError):
    """The credentials are incomplete or wrong (a missing or wrong one-time code)."""

    status = 401
    default_code = "otp_required"


_CODES = (
    _code(
        "account_already_active",
        409,
        "partners",
        "The account is already activated; its owner logs in with the password they chose.",
    ),
    _code(
        "activation_token_expired",
        400,
        "partners",
        "This activation link has expired; ask your focal point (or a platform admin) for a new one.",
    ),
    _code(
        "activation_token_invalid",
        400,
        "partners",
        "This activation link is not valid or has already been used.",
    ),
    _code("age_band_mismatch", 400, "consent", "The age band does not match the date of birth (expected …)."),
    _code("age_required", 400, "consent", "Give the date of birth or, when it is not known, the age band."),
    _code(
        "best_interests_reference_missing",
        400,
        "consent",
        "The best interests of the child as a basis needs the best-interests procedure reference.",
        details=("missing",),
    ),
    _code(
        "child_assent_missing",
        400,
        "consent",
        "The person is a minor: record the child's assent (child_assent: true).",
    ),
    _code(
        "consent_already_superseded",
        409,
        "consent",
        "This version has already been replaced; make the new version from the current one.",
    ),
    _code("consent_already_withdrawn", 409, "consent", "This consent has already been withdrawn."),
    _code("consent_expired", 400, "referrals", "The consent expired.", details=("missing_fields",)),
    _code("consent_expiry_in_past", 400, "consent", "The expiry date is in the past."),
    _code(
        "consent_not_covering_field",
        400,
        "referrals",
        "The consent does not cover: ….",
        details=("missing_fields",),
    ),
    _code(
        "consent_not_covering_purpose",
        400,
        "referrals",
        "The consent does not cover the purpose '…'.",
        details=("missing_fields",),
    ),
    _code(
        "consent_not_covering_recipient",
        400,
        "referrals",
        "The consent does not name … as a recipient.",
        details=("missing_fields",),
    ),
    _code("consent_not_for_person", 400, "referrals", "The consent record is not this person's."),
    _code("consent_not_found", 404, "referrals", "No such consent record."),
    _code(
        "consent_record_immutable",
        409,
        "consent",
        "Consent records cannot be edited; record a new version instead.",
    ),
    _code(
        "consent_superseded",
        409,
        "referrals",
        "The consent has been replaced by a newer version.",
        details=("current", "missing_fields"),
    ),
    _code(
        "consent_withdrawn", 409, "referrals", "The consent has been withdrawn.", details=("missing_fields",)
    ),
    _code("corrections_required", 400, "consent", "Give the corrected values."),
    _code("data_categories_required", 400, "consent", "Name at least one data category."),
    _code(
        "draft_exists",
        409,
        "pathways",
        "Version … of … is already a draft; edit that one.",
        details=("draft_id",),
    ),
    _code("dsa_expiry_before_signature", 400, "partners", "The agreement must expire after it was signed."),
    _code("due_before_received", 400, "consent", "The due date is before the date received."),
    _code("duplicate_acronym", 409, "partners", "An organisation with acronym … exists."),
    _code("duplicate_disclosure_field", 400, "partners", "A field is listed twice."),
    _code("duplicate_key", 409, "pathways", "The key … is taken in this pathway."),
    _code("duplicate_name", 409, "partners", "An organisation named … exists."),
    _code(
        "duplicate_pathway_name",
        409,
        "pathways",
        "The operation already has a pathway named …; make a new version of it instead.",
    ),
    _code(
        "duplicate_registration_number",
        409,
        "consent",
        "A person with this registration number is already registered.",
    ),
    _code("duplicate_service", 409, "partners", "The organisation already has a service named …."),
    _code("duplicate_step", 409, "pathways", "The service is already a step of this pathway."),
    _code("duplicate_username", 409, "partners", "The username … is taken."),
    _code(
        "email_required", 400, "partners", "An e-mail address is needed: the activation link is sent there."
    ),
    _code("expiry_required", 400, "consent", "Give the date until which the consent is valid."),
    _code(
        "field_not_available",
        400,
        "referrals",
        "The referral you received does not carry: ….",
        details=("missing_fields",),
    ),
    _code("field_not_editable", 400, "pathways", "Cannot change: …."),
    _code("field_not_offered", 400, "referrals", "The service does not take: …."),
    _code("field_required_and_optional", 400, "partners", "A field cannot be both required and optional: …."),
    _code(
        "focal_point_cannot_be_deactivated",
        400,
        "partners",
        "The focal point cannot be deactivated; appoint another focal point first.",
    ),
    _code(
        "focal_point_of_organisation_required",
        403,
        "partners",
        "Only the organisation's focal point may do this.",
    ),
    _code("focal_point_required", 403, "referrals", "Only the organisation's focal point may do this."),
    _code(
        "focal_point_role_fixed",
        400,
        "partners",
        "The focal point's role changes only by appointing another focal point.",
    ),
    _code(
        "guardian_consent_missing",
        400,
        "consent",
        "The person is a minor: a parent's or guardian's consent is needed (or, for an unaccompanied or "
        "separated child, the best-interests reference).",
        details=("missing",),
    ),
    _code("hsds_bad_csv", 400, "hsds", "has … values but the header has … columns"),
    _code("hsds_bad_json", 400, "hsds", "not valid JSON: …"),
    _code("hsds_bad_uuid", 400, "hsds", "… is not a UUID"),
    _code("hsds_database_error", 400, "hsds", "the database refused the import: …"),
    _code(
        "hsds_duplicate_link",
        400,
        "hsds",
        "the service is already linked to this location by service_at_location …",
    ),
    _code("hsds_duplicate_name", 400, "hsds", "two …s in this import are named …"),
    _code(
        "hsds_file_too_large",
        400,
        "hsds",
        "the file is … MB; the limit is … MB (HSDS_IMPORT_MAX_BYTES). Split the file and import the parts.",
    ),
    _code("hsds_invalid", 400, "hsds", "A value in the HSDS document is invalid; the message says where."),
    _code(
        "hsds_invalid_profile", 400, "hsds", "The referral_hub profile object of an HSDS service is invalid."
    ),
    _code("hsds_missing_field", 400, "hsds", "A required HSDS field is missing."),
    _code("hsds_not_found", 400, "hsds", "… does not exist"),
    _code("hsds_operation_required", 400, "hsds", "Name the operation the import belongs to."),
    _code("hsds_too_long", 400, "hsds", "is … characters long; at most … are kept"),
    _code("hsds_unknown_category", 400, "hsds", "… is not a service category of this directory"),
    _code(
        "hsds_unknown_document",
        400,
        "hsds",
        "Not an HSDS service, organization, location, service_at_location, taxonomy or taxonomy term "
        "document.",
    ),
    _code(
        "hsds_unknown_format",
        400,
        "hsds",
        "give a .json file, or the folder that holds the tabular package (the .csv files)",
    ),
    _code("hsds_unknown_reference", 400, "hsds", "… … is neither in this import nor in the directory"),
    _code("hsds_wrong_type", 400, "hsds", "expected a JSON object or a list of objects"),
    _code(
        "idempotency_key_mismatch", 400, "referrals", "The … header and the body's idempotency_key differ."
    ),
    _code(
        "idempotency_key_reused",
        409,
        "referrals",
        "This idempotency key was already used for a different referral; use a new key.",
    ),
    _code("internal_error", 500, "api", "Internal error; it has been logged."),
    _code("invalid", 400, "referrals", "The input is invalid; the message and the field say which and why."),
    _code(
        "invalid_assignee", 400, "referrals", "Assign to an active caseworker of the receiving organisation."
    ),
    _code("invalid_channel", 400, "consent", "Channel must be one of: …."),
    _code("invalid_collection_method", 400, "consent", "Collection method must be one of: …."),
    _code("invalid_cursor", 400, "common", "`after` is not a valid cursor."),
    _code("invalid_date_of_birth", 400, "consent", "The date of birth is in the future."),
    _code("invalid_key", 400, "pathways", "A key is 1 to 64 letters, digits, '-' or '_'."),
    _code("invalid_kind", 400, "consent", "Kind must be one of: …."),
    _code(
        "invalid_language",
        400,
        "consent",
        "The preferred language must be an ISO 639 code such as 'ar' or 'fr'.",
    ),
    _code(
        "invalid_language_code",
        400,
        "partners",
        "Not an ISO 639 language code: … (use e.g. 'en', 'ar', 'swh').",
    ),
    _code("invalid_legal_basis", 400, "consent", "Legal basis must be one of: …."),
    _code("invalid_name", 400, "pathways", "A name is 1 to 200 characters."),
    _code("invalid_note", 400, "pathways", "A note is text of at most … characters."),
    _code("invalid_page_size", 400, "common", "`first` must be between 1 and …."),
    _code("invalid_pathway_document", 400, "pathways", "The document is a JSON object."),
    _code("invalid_preference", 400, "pathways", "The preference is a whole number from 1 to …."),
    _code(
        "invalid_profile_value",
        400,
        "pathways",
        "A value of the person profile is invalid; the message names it.",
    ),
    _code("invalid_recipient_scope", 400, "consent", "Recipient scope must be one of: …."),
    _code("invalid_theme", 400, "pathways", "Unknown theme …. Allowed: …."),
    _code(
        "invalid_transition",
        409,
        "referrals",
        "The referral is not in a state the action starts from (also: a lost race).",
    ),
    _code(
        "justification_required",
        400,
        "consent",
        "A legal basis other than consent needs a written justification of at least … characters.",
    ),
    _code(
        "link_condition_not_met",
        400,
        "referrals",
        "The person does not meet the eligibility condition of the pathway link.",
    ),
    _code("link_not_found", 404, "pathways", "No such link in this pathway."),
    _code(
        "link_not_from_service", 400, "referrals", "The pathway link does not start at the referring service."
    ),
    _code("link_not_to_service", 400, "referrals", "The pathway link does not lead to the chosen service."),
    _code("membership_inactive", 400, "partners", "The membership is deactivated."),
    _code("membership_required", 403, "consent", "Only members of an organisation may register persons."),
    _code("no_organisation", 403, "referrals", "You are not an active member of an organisation."),
    _code("no_route", 404, "pathways", "No eligible chain of referrals reaches … from this service."),
    _code(
        "non_consent_basis_not_permitted",
        403,
        "consent",
        "Recording the legal basis '…' needs the permission to record a legal basis other than consent.",
    ),
    _code("not_found", 404, "common", "Not found (also for what you may not see)."),
    _code("note_required", 400, "referrals", "Explain the reason in the note."),
    _code("note_too_long", 400, "referrals", "At most … characters."),
    _code("obtained_in_future", 400, "consent", "Consent cannot be obtained in the future."),
    _code(
        "otp_invalid",
        401,
        "partners",
        "The one-time code is wrong, was already used, or came too soon after a wrong one.",
    ),
    _code(
        "otp_required",
        401,
        "partners",
        "This account needs a one-time code from its authenticator app: send it as `otp`.",
    ),
    _code("organisation_inactive", 400, "referrals", "The receiving organisation is inactive."),
    _code(
        "organisation_without_focal_point", 400, "referrals", "The receiving organisation has no focal point."
    ),
    _code(
        "organisation_without_valid_dsa",
        400,
        "referrals",
        "The receiving organisation has no valid data-sharing agreement.",
    ),
    _code(
        "outcome_required",
        400,
        "referrals",
        "An outcome is required (a referral's outcome code, or why a request is rejected).",
    ),
    _code(
        "pathway_invalid",
        400,
        "pathways",
        "The pathway has problems that stop it being published; they are listed.",
        details=("problems",),
    ),
    _code("pathway_link_not_found", 404, "referrals", "No such link on a published pathway."),
    _code(
        "pathway_not_editable",
        409,
        "pathways",
        "Version … of … is … and cannot be changed; make a new version.",
    ),
    _code("pathway_not_found", 404, "pathways", "No such pathway."),
    _code("pathway_step_not_found", 404, "pathways", "No such step on this pathway."),
    _code("pathway_not_published", 409, "pathways", "Only a published version can be archived."),
    _code("pathway_too_large", 400, "pathways", "At most … steps and … links."),
    _code("payload_erased", 409, "referrals", "The shared data of this referral has been erased."),
    _code("person_erased", 409, "referrals", "This person's data has been erased."),
    _code("person_not_found", 404, "referrals", "No such person."),
    _code("platform_admin_required", 403, "pathways", "Only platform admins may do this."),
    _code("purposes_required", 400, "consent", "Name at least one purpose (service category)."),
    _code(
        "query_too_costly", 400, "api", "Query cost … exceeds the limit of …; ask for fewer items or fields."
    ),
    _code("query_too_deep", 400, "api", "Query depth … exceeds the limit of …."),
    _code(
        "query_too_large",
        400,
        "api",
        "The document is too large to validate: too many tokens, selections (as written or with "
        "fragments spread), brackets nested too deep or one field selected too often; `measure` says "
        "which, `limit` gives the limit.",
    ),
    _code("reason_required", 400, "referrals", "A reason is required: one of …."),
    _code("received_in_future", 400, "consent", "The request cannot be received in the future."),
    _code("recipients_required", 400, "consent", "Name at least one recipient organisation."),
    _code("recipients_with_pathway_scope", 400, "consent", "With the pathway scope, do not name recipients."),
    _code("referral_not_found", 404, "referrals", "No such referral."),
    _code("request_closed", 409, "consent", "This request is already …."),
    _code("role_cannot_act", 403, "referrals", "Viewers cannot act on referrals."),
    _code(
        "role_not_assignable",
        400,
        "partners",
        "Members are added as caseworker or viewer; focal points are appointed by a platform admin.",
    ),
    _code(
        "service_not_accepting",
        400,
        "referrals",
        "… is not accepting referrals; the alternatives are listed.",
        details=("alternatives",),
    ),
    _code("service_not_found", 404, "referrals", "No such service."),
    _code("service_not_on_pathway", 400, "pathways", "The service is not a step of this pathway."),
    _code("service_outside_operation", 400, "pathways", "The service belongs to another operation."),
    _code(
        "status_check_already_locked",
        409,
        "community",
        "Status checks with this reference are already locked.",
    ),
    _code(
        "status_check_limited",
        429,
        "community",
        "Too many requests for a code (per reference, phone number or client address); try again later.",
        details=("retry_after",),
    ),
    _code("status_check_not_locked", 409, "community", "Status checks with this reference are not locked."),
    _code(
        "status_code_invalid",
        400,
        "community",
        "The code is wrong or no longer valid; check the SMS or ask for a new code.",
    ),
    _code("step_not_found", 404, "pathways", "No such step in this pathway."),
    _code("step_outside_pathway", 400, "pathways", "Both ends of a link must be steps of the same pathway."),
    _code("totp_already_confirmed", 409, "partners", "You already have a confirmed authenticator device."),
    _code(
        "totp_not_set_up", 400, "partners", "Start with POST /api/v1/auth/totp/setup, then confirm a code."
    ),
    _code("unexpected_corrections", 400, "consent", "Corrections belong to a correction request."),
    _code("unknown_action", 400, "referrals", "Unknown action …."),
    _code(
        "unknown_data_category",
        400,
        "referrals",
        "Unknown data category: …. Name each category from the disclosure vocabulary (…); there is no 'all'.",
        details=("missing_fields", "values"),
    ),
    _code("unknown_disclosure_field", 400, "partners", "Unknown disclosure field(s): …. Allowed: …."),
    _code("unknown_export_format", 400, "pathways", "Unknown export format …. Allowed: …."),
    _code("unknown_field", 400, "consent", "Unknown person fields: …."),
    _code("unknown_location", 400, "consent", "The location is not in this operation."),
    _code("unknown_operation", 400, "pathways", "Unknown operation …."),
    _code("unknown_parameter", 400, "pathways", "Unknown parameter(s): …. Allowed: …."),
    _code("unknown_purpose", 400, "consent", "Unknown purpose: ….", details=("values",)),
    _code("unknown_recipient", 400, "consent", "Unknown recipient organisation: ….", details=("values",)),
    _code("unknown_user", 400, "partners", "No user named …; send create_user=true to create one."),
    _code(
        "user_in_other_organisation", 409, "partners", "The user is an active member of another organisation."
    ),
    _code("user_inactive", 400, "partners", "A deactivated user cannot be focal point."),
    _code(
        "weak_password",
        400,
        "partners",
        "The password does not meet the password rules.",
        details=("reason",),  # "unchanged": the new password is the old one
    ),
    _code(
        "write_role_required", 403, "consent", "Viewers may read persons and consents but not record them."
    ),
    _code("wrong_side", 403, "referrals", "Only the other side of the referral may take this action."),
    _code("conflict", 409, "common", "The request conflicts with the current state."),
    _code("invalid_date", 400, "consent", "Not a date (YYYY-MM-DD)."),
    _code(
        "registration_number_in_url",
        400,
        "consent",
        "Registration numbers never travel in a URL: POST them to persons/search.",
        surfaces=(REST,),
    ),
    # the transport: authentication, request shape, limits (REST and GraphQL)
    _code(
        "unauthenticated",
        401,
        "api",
        "Authentication credentials were not provided or are invalid (GraphQL).",
    ),
    _code("not_authenticated", 401, "api", "Authentication credentials were not provided (REST)."),
    _code("authentication_failed", 401, "api", "The token is unknown, expired or revoked (REST)."),
    _code("permission_denied", 403, "api", "Your role may not do this."),
    _code("csrf_failed", 403, "api", "A browser session call without a valid CSRF token."),
    _code("method_not_allowed", 405, "api", "The HTTP method is not allowed on this endpoint."),
    _code("not_acceptable", 406, "api", "The requested response format is not available."),
    _code("unsupported_media_type", 415, "api", "Send the body as application/json."),
    _code("parse_error", 400, "api", "The body could not be parsed (malformed JSON)."),
    _code("invalid_json", 400, "api", "The GraphQL request body is not valid JSON."),
    _code(
        "batch_not_allowed", 400, "api", "Batched GraphQL operations are not accepted; send one per request."
    ),
    _code("request_too_large", 413, "api", "The request body is over the size limit."),
    _code("invalid_parameter", 400, "api", "A query parameter has an invalid value; the message names it."),
    _code(
        "invalid_characters",
        400,
        "api",
        "A value holds a NUL character or an unpaired surrogate, which cannot be stored; the message "
        "says where.",
    ),
    _code(
        "invalid_query",
        400,
        "api",
        "The GraphQL document does not parse or does not validate against the schema.",
    ),
    _code("throttled", 429, "api", "Too many requests; try again later."),
    _code(
        "login_locked",
        429,
        "api",
        "Too many failed logins for this account or from this address: login is locked until … (in … "
        "minutes); try again then, or ask your focal point or a platform admin to unlock your account.",
        details=("retry_after",),
    ),
    _code("server_error", 500, "api", "Internal error; it has been logged."),
    # field validation of a request body (REST); the message and `fields` name the field
    _code("required", 400, "api", "A required value is missing; the message names it."),
    _code("null", 400, "api", "A value may not be null."),
    _code("blank", 400, "api", "A value may not be blank."),
    _code("invalid_choice", 400, "api", "The value is not one of the allowed choices."),
    _code("max_length", 400, "api", "The value is too long."),
    _code("min_length", 400, "api", "The value is too short."),
    _code("max_value", 400, "api", "The number is too large."),
    _code("min_value", 400, "api", "The number is too small."),
    _code("max_string_length", 400, "api", "The number has too many digits."),
    _code("not_a_list", 400, "api", "A list was expected."),
    _code("empty", 400, "api", "The list may not be empty."),
    _code("date", 400, "api", "A date was expected, not a date and time."),
    _code("make_aware", 400, "api", "The date and time is not valid in the server's time zone."),
    _code("overflow", 400, "api", "The date is out of range."),
    _code("webhook_delivery_not_dead", 409, "notifications", "Only a dead letter can be replayed."),
    _code("webhook_delivery_not_found", 404, "notifications", "No such webhook delivery."),
    _code("webhook_not_found", 404, "notifications", "No such webhook endpoint."),
    _code(
        "webhook_url_invalid",
        400,
        "notifications",
        "The URL must start with https:// and must not point at a private, link-local, loopback or "
        "reserved address (the message says which).",
    ),
)
REGISTRY: dict[str, ErrorCode] = {entry.code: entry for entry in _CODES}
assert len(REGISTRY) == len(_CODES), "an error code is declared twice"


def error_for(code: str, message: str, **arguments) -> ServiceError:
    """The exception of the status the registry declares for ``code`` (for codes that come from data,
    e.g. a consent check, rather than from a raise site that names its class)."""
    status = REGISTRY[code].status
    kind = {401: NotAuthenticated, 404: NotFound, 403: PermissionDenied, 409: Conflict}.get(
        status, ServiceError
    )
    return kind(message, code=code, **arguments)


def is_registered(code: str) -> bool:
    return code in REGISTRY


def codes_for(surface: str) -> list[ErrorCode]:
    return [entry for entry in _CODES if surface in entry.surfaces]
