"""REST adapters for referrals under ``/api/v1/referrals/`` and ``/api/v1/information-given``.

Thin: every read goes through ``referrals.selectors`` (a referral the caller may not see answers
404, exactly like one that does not exist), every write calls ``referrals.services``. Every
response that shows a payload logs the read with one ``payload_read`` call per request.

What a caller sees depends on their side, computed from their organisation: the receiving side
sees the shared payload and the note only if it was shared; the organisation that holds the person
also sees the person and consent ids and its own note.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound, ServiceError
from common.limits import MAX_INT
from common.pagination import MAX_LIMIT, ListingPagination
from common.replicas import replica_safe
from common.serializers import StrictSerializer
from consent.selectors import consent_list_visible, person_list_visible
from partners.api import OrganisationRefSerializer
from partners.selectors import service_list_visible
from pathways.models import PathwayLink
from referrals import services, transitions
from referrals.facts import ReferralFacts
from referrals.fhir import REASON_EVENTS, referral_bundle
from referrals.models import AccessLog, InformationGiven, Referral, ReferralEvent
from referrals.selectors import (
    access_log_of,
    events_of,
    facts_for,
    information_given_counts,
    referral_get,
    referral_list,
    referral_listing,
)

User = get_user_model()
IDEMPOTENCY_HEADER = "Idempotency-Key"
SENDING, RECEIVING = "sending", "receiving"

# Output ------------------------------------------------------------------------------------


class ReferralServiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    category = serializers.CharField(source="category.code")


class ReferringServiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ReferralPathwaySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    version = serializers.IntegerField()


def _facts(serializer, referral) -> ReferralFacts:
    return facts_for(user=serializer.context["request"].user, referral=referral)


class ReferralSerializer(serializers.ModelSerializer):
    """Renders the referral facts (``referrals.facts``): every decision about what this caller
    may know is taken there, none here."""

    side = serializers.SerializerMethodField()
    from_organisation = OrganisationRefSerializer()
    from_service = ReferringServiceSerializer(allow_null=True)
    to_organisation = OrganisationRefSerializer()
    to_service = ReferralServiceSerializer()
    pathway = serializers.SerializerMethodField()
    pathway_link = serializers.UUIDField(source="pathway_link_id", allow_null=True)
    shared_fields = serializers.SerializerMethodField()
    payload = serializers.SerializerMethodField()
    has_note = serializers.SerializerMethodField()
    note_shared = serializers.SerializerMethodField()
    reason_note = serializers.SerializerMethodField()
    assigned_to = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField()
    outcome_note = serializers.SerializerMethodField()
    person = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "reference",
            "side",
            "status",
            "urgency",
            "source",
            "from_organisation",
            "from_service",
            "to_organisation",
            "to_service",
            "pathway",
            "pathway_link",
            "shared_fields",
            "payload",
            "payload_erased_at",
            "has_note",
            "note_shared",
            "reason_note",
            "assigned_to",
            "restricted",
            "due_by",
            "is_overdue",
            "escalated_at",
            "escalation_level",
            "outcome_due_by",
            "outcome",
            "outcome_note",
            "person",
            "consent",
            "parent",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=[SENDING, RECEIVING]))
    def get_side(self, referral) -> str:
        return _facts(self, referral).side

    @extend_schema_field(ReferralPathwaySerializer(allow_null=True))
    def get_pathway(self, referral):
        if referral.pathway is None:
            return None
        return {"id": referral.pathway.id, "name": referral.pathway.name, "version": referral.pathway_version}

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text="The fields shared; kept after erasure, empty on a withdrawn referral's tombstone",
        )
    )
    def get_shared_fields(self, referral):
        return list(_facts(self, referral).shared_fields)

    @extend_schema_field(
        serializers.JSONField(
            allow_null=True, help_text="Only the shared fields; null once erased or withdrawn"
        )
    )
    def get_payload(self, referral):
        return _facts(self, referral).payload

    @extend_schema_field(serializers.BooleanField())
    def get_has_note(self, referral) -> bool:
        return _facts(self, referral).has_note

    @extend_schema_field(serializers.BooleanField())
    def get_note_shared(self, referral) -> bool:
        return _facts(self, referral).note_shared

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text="The referrer's note: always for the sending side, for the receiving side if shared",
        )
    )
    def get_reason_note(self, referral):
        return _facts(self, referral).reason_note

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="Username of the assignee (receiving side only)")
    )
    def get_assigned_to(self, referral):
        return referral.assigned_to.username if _facts(self, referral).assigned_to_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_outcome_note(self, referral):
        return _facts(self, referral).outcome_note

    @extend_schema_field(
        serializers.UUIDField(allow_null=True, help_text="Only for the organisation that holds the person")
    )
    def get_person(self, referral):
        return _facts(self, referral).person_id

    @extend_schema_field(
        serializers.UUIDField(allow_null=True, help_text="Only for the organisation that holds the consent")
    )
    def get_consent(self, referral):
        return _facts(self, referral).consent_id

    @extend_schema_field(serializers.UUIDField(allow_null=True, help_text="Only for the sending side"))
    def get_parent(self, referral):
        return _facts(self, referral).parent_id

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=list(transitions.ACTIONS)),
            help_text="What you may do with this referral now (the action endpoints agree)",
        )
    )
    def get_allowed_actions(self, referral):
        allowed = _facts(self, referral).allowed_actions
        return [action for action in transitions.ACTIONS if action in allowed]


class EventSerializer(serializers.ModelSerializer):
    """Context: ``show_notes`` — from the referral's facts (a tombstone shows no notes)."""

    note = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    organisation = OrganisationRefSerializer(allow_null=True)

    class Meta:
        model = ReferralEvent
        fields = [
            "id",
            "kind",
            "from_status",
            "to_status",
            "reason_code",
            "note",
            "actor",
            "organisation",
            "at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_note(self, event):
        return (event.note or None) if self.context.get("show_notes") else None


class AccessLogSerializer(serializers.ModelSerializer):
    """Context: ``show_fields`` — from the referral's facts (a tombstone names no fields)."""

    user = serializers.CharField(source="user.username")
    organisation = OrganisationRefSerializer(allow_null=True)
    fields = serializers.SerializerMethodField(method_name="fields_shown")

    class Meta:
        model = AccessLog
        fields = ["id", "user", "organisation", "fields", "api", "at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def fields_shown(self, entry):
        return list(entry.fields) if self.context.get("show_fields", True) else []


class InformationGivenSerializer(serializers.ModelSerializer):
    service = serializers.UUIDField(source="service_id")
    organisation = serializers.UUIDField(source="organisation_id")

    class Meta:
        model = InformationGiven
        fields = ["id", "service", "channel", "organisation", "at"]


# Input -------------------------------------------------------------------------------------


class ReferralCreateSerializer(StrictSerializer):
    person = serializers.UUIDField()
    consent = serializers.UUIDField()
    to_service = serializers.UUIDField()
    from_service = serializers.UUIDField(required=False, allow_null=True)
    pathway_link = serializers.UUIDField(required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, default=Referral.Urgency.NORMAL)
    source = serializers.ChoiceField(choices=Referral.Source.choices, default=Referral.Source.INTERNAL)
    reason_note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    optional_fields = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, help_text=f"Or the {IDEMPOTENCY_HEADER} header"
    )


class NoteSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, help_text="A reason code")
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="Required when the reason is other"
    )


class CompleteSerializer(StrictSerializer):
    outcome = serializers.CharField(required=False, allow_blank=True, help_text="An outcome code")
    note = serializers.CharField(required=False, allow_blank=True)


class AssignSerializer(StrictSerializer):
    caseworker = serializers.CharField(max_length=150, help_text="Username of a member of your organisation")
    restrict = serializers.BooleanField(
        default=False, help_text="Hide it from everyone else in your organisation"
    )


class ReferOnwardSerializer(StrictSerializer):
    to_service = serializers.UUIDField()
    pathway_link = serializers.UUIDField(required=False, allow_null=True)
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, required=False)
    reason_note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    optional_fields = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    idempotency_key = serializers.CharField(
        required=False, allow_blank=True, help_text=f"Or the {IDEMPOTENCY_HEADER} header"
    )


class InformationGivenCreateSerializer(StrictSerializer):
    service = serializers.UUIDField()
    channel = serializers.CharField(max_length=16, help_text="One of: " + ", ".join(InformationGiven.Channel))


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _idempotency_key(request, data: dict) -> str:
    """From the body or the header; both may be given only if they agree. The service checks it."""
    header = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    body = (data.get("idempotency_key") or "").strip()
    if header and body and header != body:
        raise ServiceError(
            f"The {IDEMPOTENCY_HEADER} header and the body's idempotency_key differ.",
            code="idempotency_key_mismatch",
            field="idempotency_key",
        )
    return header or body


def _service(user, service_id, field: str):
    if service_id is None:
        return None
    service = service_list_visible(user=user).filter(pk=service_id).first()
    if service is None:
        raise NotFound("No such service.", code="service_not_found", field=field)
    return service


def _pathway_link(link_id):
    if link_id is None:
        return None
    link = PathwayLink.objects.filter(pk=link_id).first()
    if link is None:
        raise NotFound("No such pathway link.", code="pathway_link_not_found", field="pathway_link")
    return link


def _call(function, **arguments):
    """Name our input field when the pathway selectors name theirs ``link``."""
    try:
        return function(**arguments)
    except NotFound as exc:
        if exc.field == "link":
            exc.field = "pathway_link"
        raise


# Views -------------------------------------------------------------------------------------


class ReferralListParameters(StrictSerializer):
    """Query parameters of the list: ``direction`` picks the side, the rest is the shared filter
    set of ``referrals.selectors.ReferralFilter``."""

    direction = serializers.ChoiceField(
        choices=[("sent", "Sent by my organisation"), ("received", "Received by my organisation")],
        required=False,
    )
    status = serializers.ChoiceField(choices=Referral.Status.choices, required=False)
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, required=False)
    service = serializers.UUIDField(required=False, help_text="The receiving service")
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    assigned_to_me = serializers.BooleanField(required=False, default=False)
    search = serializers.CharField(
        required=False, allow_blank=True, help_text="Start of the reference, any case: R-7K2, 7k2"
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)
    offset = serializers.IntegerField(required=False, min_value=0, max_value=MAX_INT)
    after = serializers.CharField(
        required=False, help_text="Resume after this cursor (the `next` link carries it); not with offset"
    )


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Referrals the caller's organisation sent or received and may see. Others answer 404."""

    serializer_class = ReferralSerializer
    pagination_class = ListingPagination
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return referral_list(user=self.request.user)

    def _listed(self):
        params = _validated(ReferralListParameters, self.request.query_params.dict())
        filters = {
            name: params[name]
            for name in ("status", "urgency", "service", "overdue", "search")
            if params.get(name) is not None
        }
        return referral_listing(
            user=self.request.user,
            direction=params.get("direction"),
            filters=filters,
            assigned_to_me=params["assigned_to_me"],
        )

    def get_object(self) -> Referral:
        return referral_get(user=self.request.user, referral_id=self.kwargs["pk"])

    def _read(self, referrals: list[Referral]) -> None:
        user = self.request.user
        shown = [referral for referral in referrals if facts_for(user=user, referral=referral).payload]
        services.payload_read(user=user, referrals=shown, api=AccessLog.Api.REST)

    def _show(self, referral: Referral, code=status.HTTP_200_OK) -> Response:
        self._read([referral])
        return Response(self.get_serializer(referral).data, status=code)

    def _respond(self, referral: Referral, code=status.HTTP_200_OK) -> Response:
        """The referral as the caller sees it now, after a write."""
        self.kwargs["pk"] = referral.pk
        return self._show(self.get_object(), code)

    # Reads -------------------------------------------------------------------------------

    @extend_schema(
        parameters=[ReferralListParameters],
        summary="Referrals sent or received by your organisation, newest first",
    )
    @replica_safe
    def list(self, request):
        page = self.paginate_queryset(self._listed())
        self._read(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="One referral (logs the read of its payload)")
    def retrieve(self, request, pk=None):
        return self._show(self.get_object())

    @extend_schema(
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, description="Instead of idempotency_key"
            )
        ],
        request=ReferralCreateSerializer,
        responses={
            201: ReferralSerializer,
            200: OpenApiResponse(
                ReferralSerializer, description="The key was used before: the first referral"
            ),
        },
        summary="Send a referral",
    )
    def create(self, request):
        data = _validated(ReferralCreateSerializer, request.data)
        user = request.user
        person = person_list_visible(user=user).filter(pk=data["person"]).first()
        if person is None:
            raise NotFound("No such person.", code="person_not_found", field="person")
        consent = consent_list_visible(user=user).filter(pk=data["consent"]).first()
        if consent is None:
            raise NotFound("No such consent record.", code="consent_not_found", field="consent")
        referral = _call(
            services.referral_send,
            actor=user,
            person=person,
            consent=consent,
            to_service=_service(user, data["to_service"], "to_service"),
            from_service=_service(user, data.get("from_service"), "from_service"),
            pathway_link=_pathway_link(data.get("pathway_link")),
            urgency=data["urgency"],
            source=data["source"],
            reason_note=data.get("reason_note", ""),
            optional_fields=data.get("optional_fields", ()),
            idempotency_key=_idempotency_key(request, data),
        )
        replayed = getattr(referral, "replayed", False)
        return self._respond(referral, status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=EventSerializer(many=True), summary="Every event, oldest first")
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, pk=None):
        referral = self.get_object()
        show_notes = facts_for(user=request.user, referral=referral).event_notes
        events = events_of(referral=referral)
        return Response(EventSerializer(events, many=True, context={"show_notes": show_notes}).data)

    @extend_schema(
        request=None,
        responses=AccessLogSerializer(many=True),
        summary="Who read the payload, newest first (both sides of the referral)",
    )
    @action(detail=True, methods=["get"], url_path="access-log")
    def access_log(self, request, pk=None):
        referral = self.get_object()
        show_fields = not facts_for(user=request.user, referral=referral).tombstone
        page = self.paginate_queryset(access_log_of(referral=referral))
        return self.get_paginated_response(
            AccessLogSerializer(page, many=True, context={"show_fields": show_fields}).data
        )

    @extend_schema(
        request=None,
        responses={
            (200, "application/fhir+json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="FHIR R4 Bundle (collection)"
            )
        },
        summary="FHIR R4 Bundle: ServiceRequest + Task + Patient from the shared payload",
    )
    @action(detail=True, methods=["get"])
    def fhir(self, request, pk=None):
        referral = self.get_object()
        reason_event = None
        if referral.status in (Referral.Status.DECLINED, Referral.Status.WITHDRAWN):
            reason_event = events_of(referral=referral).filter(kind__in=REASON_EVENTS).last()
        self._read([referral])
        return Response(
            referral_bundle(
                referral,
                reason_event=reason_event,
                facts=facts_for(user=request.user, referral=referral),
            ),
            content_type="application/fhir+json",
        )

    # Transitions -------------------------------------------------------------------------

    def _transition(self, request, action: str, serializer_class) -> Response:
        referral = self.get_object()  # not visible → 404 before the body is even read
        data = _validated(serializer_class, request.data)
        referral = services.referral_transition(
            actor=request.user,
            referral=referral,
            action=action,
            reason_code=data.get("reason", ""),
            note=data.get("note", ""),
            outcome=data.get("outcome", ""),
        )
        return self._respond(referral)

    @extend_schema(request=NoteSerializer, summary="Acknowledge receipt (receiving side)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, "acknowledge", NoteSerializer)

    @extend_schema(request=NoteSerializer, summary="Accept (receiving side)")
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._transition(request, "accept", NoteSerializer)

    @extend_schema(
        request=ReasonSerializer,
        summary="Decline with a reason: " + ", ".join(transitions.DECLINE_REASONS) + " (receiving side)",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._transition(request, "decline", ReasonSerializer)

    @extend_schema(
        request=CompleteSerializer,
        summary="Record the outcome: " + ", ".join(Referral.Outcome.values) + " (receiving side)",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(request, "complete", CompleteSerializer)

    @extend_schema(request=NoteSerializer, summary="Close a completed referral (sending side)")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, "close", NoteSerializer)

    @extend_schema(
        request=ReasonSerializer,
        summary="Withdraw with a reason: " + ", ".join(transitions.WITHDRAW_REASONS) + " (sending side)",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(request, "withdraw", ReasonSerializer)

    @extend_schema(request=AssignSerializer, summary="Assign to a caseworker (receiving focal point)")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        referral = self.get_object()
        data = _validated(AssignSerializer, request.data)
        # an unknown username goes to the service as None: it checks who may assign first, then
        # refuses the assignee exactly as it refuses someone outside the organisation
        caseworker = User.objects.filter(username=data["caseworker"]).first()
        referral = services.referral_assign(
            actor=request.user, referral=referral, caseworker=caseworker, restrict=data["restrict"]
        )
        return self._respond(referral)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, description="Instead of idempotency_key"
            )
        ],
        request=ReferOnwardSerializer,
        responses={
            201: ReferralSerializer,
            200: OpenApiResponse(
                ReferralSerializer, description="The key was used before: the first referral"
            ),
        },
        summary="Refer an accepted referral onward: a new child referral (receiving side)",
    )
    @action(detail=True, methods=["post"], url_path="refer-onward")
    def refer_onward(self, request, pk=None):
        parent = self.get_object()
        data = _validated(ReferOnwardSerializer, request.data)
        child = _call(
            services.referral_refer_onward,
            actor=request.user,
            referral=parent,
            to_service=_service(request.user, data["to_service"], "to_service"),
            pathway_link=_pathway_link(data.get("pathway_link")),
            urgency=data.get("urgency"),
            reason_note=data.get("reason_note", ""),
            optional_fields=data.get("optional_fields", ()),
            idempotency_key=_idempotency_key(request, data),
        )
        replayed = getattr(child, "replayed", False)
        return self._respond(child, status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


class InformationGivenCountSerializer(serializers.Serializer):
    service = serializers.UUIDField()
    service_name = serializers.CharField()
    channel = serializers.CharField()
    count = serializers.IntegerField()


class InformationGivenView(APIView):
    """A person was given a service's contact details: counted, with no personal data."""

    @extend_schema(
        request=InformationGivenCreateSerializer,
        responses={201: InformationGivenSerializer},
        summary="Record that contact details of a service were given (no personal data)",
    )
    def post(self, request):
        data = _validated(InformationGivenCreateSerializer, request.data)
        record = services.information_given(
            actor=request.user,
            service=_service(request.user, data["service"], "service"),
            channel=data["channel"],
        )
        return Response(InformationGivenSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("since", OpenApiTypes.DATE, description="Count from this day on")],
        responses=InformationGivenCountSerializer(many=True),
        summary="How often your organisation gave out each service's contact details, by channel",
    )
    def get(self, request):
        since = request.query_params.get("since")
        if since:
            try:
                since = serializers.DateField().to_internal_value(since)
            except serializers.ValidationError as exc:
                raise ServiceError("Give the date as YYYY-MM-DD.", code="invalid", field="since") from exc
        rows = information_given_counts(user=request.user, since=since or None)
        return Response(
            [
                {
                    "service": row["service_id"],
                    "service_name": row["service__name"],
                    "channel": row["channel"],
                    "count": row["count"],
                }
                for row in rows
            ]
        )
