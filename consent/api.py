"""REST adapters for persons, consent records, data-subject requests, receipts and FHIR export.

Every queryset comes from a selector scoped to the caller's organisation, so another
organisation's person or consent answers 404. Every write calls a service. Consent records have
no PUT/PATCH/DELETE: a change of scope is ``POST /consents/{id}/versions``.
"""

import django_filters
from django.db.models import QuerySet
from django.utils.html import escape
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.errors import NotFound, ServiceError
from common.serializers import StrictSerializer
from consent import services
from consent.fhir import consent_to_fhir
from consent.models import (
    AgeBand,
    Channel,
    CollectionMethod,
    ConsentRecord,
    DataSubjectRequest,
    LegalBasis,
    Person,
    PersonReadLog,
    RecipientScope,
)
from consent.receipt import receipt_html, receipt_json
from consent.selectors import (
    consent_list_visible,
    data_subject_request_list_visible,
    person_find_by_registration_number,
    person_list_visible,
)
from partners.models import Location

# Persons -----------------------------------------------------------------------------------


class PersonListSerializer(serializers.ModelSerializer):
    """What a list needs to find the right person; the rest is on the detail."""

    class Meta:
        model = Person
        fields = [
            "id",
            "registration_number",
            "given_name",
            "family_name",
            "sex",
            "age_band",
            "location",
            "erased_at",
        ]


class PersonSerializer(serializers.ModelSerializer):
    registration_number = serializers.CharField(allow_null=True)
    date_of_birth = serializers.DateField(allow_null=True)
    specific_needs = serializers.ListField(child=serializers.CharField(), allow_null=True)
    is_minor = serializers.SerializerMethodField()
    organisation = serializers.UUIDField(source="organisation_id")

    class Meta:
        model = Person
        fields = [
            "id",
            "organisation",
            "registration_number",
            "given_name",
            "family_name",
            "phone",
            "best_time_to_call",
            "preferred_language",
            "preferred_channel",
            "sex",
            "date_of_birth",
            "age_band",
            "is_minor",
            "location",
            "location_detail",
            "specific_needs",
            "protection_concerns",
            "narrative",
            "household_size",
            "created_at",
            "updated_at",
            "erased_at",
        ]

    def get_is_minor(self, person) -> bool:
        return person.is_minor()


class PersonWriteSerializer(StrictSerializer):
    registration_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True
    )
    given_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    best_time_to_call = serializers.CharField(max_length=200, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    preferred_channel = serializers.ChoiceField(
        choices=Person.PreferredChannel.choices, required=False, allow_blank=True
    )
    sex = serializers.ChoiceField(choices=Person.Sex.choices, required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    age_band = serializers.ChoiceField(choices=AgeBand.choices, required=False)
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    location_detail = serializers.CharField(max_length=500, required=False, allow_blank=True)
    specific_needs = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, allow_null=True
    )
    protection_concerns = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    narrative = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    household_size = serializers.IntegerField(min_value=1, max_value=100, required=False, allow_null=True)


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class LogsPersonalReads:
    """Every response that shows a person's data writes one read-log row per person shown (one
    bulk insert per request), before the response leaves: if the log cannot be written, nothing
    is shown. ``read_what`` names what is read; ``person_of`` finds the person of a shown object."""

    read_what = PersonReadLog.What.PERSON

    @staticmethod
    def person_of(obj):
        return obj.person_id

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else kwargs.get("instance")
        if instance is not None:
            self.shown(instance)
        return super().get_serializer(*args, **kwargs)

    def shown(self, instance) -> None:
        items = instance if isinstance(instance, list | tuple | QuerySet) else [instance]
        found = self.__dict__.setdefault("_persons_read", [])
        found.extend(self.person_of(item) for item in items)

    def finalize_response(self, request, response, *args, **kwargs):
        persons = self.__dict__.pop("_persons_read", None)
        if persons and 200 <= response.status_code < 300 and request.user.is_authenticated:
            services.personal_data_read(
                user=request.user, person_ids=persons, what=self.read_what, api="rest"
            )
        return super().finalize_response(request, response, *args, **kwargs)


class PersonFilter(django_filters.FilterSet):
    erased = django_filters.BooleanFilter(field_name="erased_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Person
        fields = ["sex", "age_band", "location", "erased"]


class PersonSearchSerializer(StrictSerializer):
    registration_number = serializers.CharField(max_length=64)


class PersonViewSet(
    LogsPersonalReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Persons held by your organisation. ``POST persons/search`` finds one by its registration
    number, sent in the body so that it never lands in a URL (and so in no access log of a proxy)."""

    filterset_class = PersonFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    @staticmethod
    def person_of(obj):
        return obj.pk

    def get_queryset(self):
        return person_list_visible(user=self.request.user)

    def get_serializer_class(self):
        return PersonListSerializer if self.action in ("list", "search") else PersonSerializer

    def list(self, request, *args, **kwargs):
        if "registration_number" in request.query_params:
            raise ServiceError(
                "Registration numbers never travel in a URL: POST them to persons/search.",
                code="registration_number_in_url",
                field="registration_number",
            )
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=PersonSearchSerializer,
        responses=PersonListSerializer(many=True),
        summary="Find a person of your organisation by registration number (exact, any spelling)",
    )
    @action(detail=False, methods=["post"])
    def search(self, request):
        number = _validated(PersonSearchSerializer, request.data)["registration_number"]
        found = list(person_find_by_registration_number(user=request.user, registration_number=number))
        return Response(self.get_serializer(found, many=True).data)

    @extend_schema(request=PersonWriteSerializer, responses=PersonSerializer, summary="Register a person")
    def create(self, request):
        person = services.person_create(actor=request.user, **_validated(PersonWriteSerializer, request.data))
        return Response(self.get_serializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PersonWriteSerializer, responses=PersonSerializer, summary="Update a person's details"
    )
    def partial_update(self, request, pk=None):
        data = _validated(PersonWriteSerializer, request.data, partial=True)
        person = services.person_update(actor=request.user, person=self.get_object(), **data)
        return Response(self.get_serializer(person).data)


# Consent records ---------------------------------------------------------------------------


class ConsentSerializer(serializers.ModelSerializer):
    person = serializers.UUIDField(source="person_id")
    organisation = serializers.UUIDField(source="organisation_id")
    supersedes = serializers.UUIDField(source="supersedes_id", allow_null=True)
    superseded_by = serializers.SerializerMethodField()
    state = serializers.CharField()
    obtained_by = serializers.CharField(source="obtained_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    withdrawn_by = serializers.CharField(source="withdrawn_by.username", allow_null=True, default=None)
    recipients = serializers.ListField(child=serializers.UUIDField())

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "person",
            "organisation",
            "version",
            "supersedes",
            "superseded_by",
            "state",
            "status",
            "obtained_by",
            "obtained_at",
            "collection_method",
            "language",
            "interpreter_used",
            "legal_basis",
            "justification",
            "decided_by",
            "purposes",
            "recipient_scope",
            "recipients",
            "data_categories",
            "expires_on",
            "subject_is_minor",
            "child_assent",
            "guardian_name",
            "guardian_relationship",
            "unaccompanied_or_separated",
            "best_interests_reference",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_channel",
            "withdrawal_reason",
            "superseded_at",
            "recorded_at",
        ]

    def get_superseded_by(self, record) -> str | None:
        successor = getattr(record, "superseded_by", None)
        return str(successor.pk) if successor else None


class ConsentScopeSerializer(StrictSerializer):
    obtained_at = serializers.DateTimeField(required=False)
    collection_method = serializers.ChoiceField(choices=CollectionMethod.choices)
    language = serializers.CharField(max_length=16)
    interpreter_used = serializers.BooleanField(required=False)
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices, required=False)
    justification = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    purposes = serializers.ListField(child=serializers.CharField(max_length=64), max_length=50)
    recipient_scope = serializers.ChoiceField(choices=RecipientScope.choices)
    recipients = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=200)
    data_categories = serializers.ListField(child=serializers.CharField(max_length=64), max_length=50)
    expires_on = serializers.DateField()
    child_assent = serializers.BooleanField(required=False, allow_null=True)
    guardian_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    guardian_relationship = serializers.CharField(max_length=64, required=False, allow_blank=True)
    unaccompanied_or_separated = serializers.BooleanField(required=False)
    best_interests_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ConsentCreateSerializer(ConsentScopeSerializer):
    person = serializers.UUIDField()


class WithdrawSerializer(StrictSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ConsentFilter(django_filters.FilterSet):
    person = django_filters.UUIDFilter(field_name="person_id")
    state = django_filters.ChoiceFilter(
        choices=[(s, s) for s in ("active", "withdrawn", "expired", "superseded")], field_name="state"
    )

    class Meta:
        model = ConsentRecord
        fields = ["person", "status", "legal_basis", "state"]


class ReceiptHTMLRenderer(renderers.BaseRenderer):
    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode("utf-8")
        # errors arrive as the JSON error body; show them as a minimal page
        message = (data or {}).get("error", {}).get("message", "Error") if isinstance(data, dict) else "Error"
        return f"<!DOCTYPE html><html><body><p>{escape(message)}</p></body></html>".encode()


class ConsentViewSet(
    LogsPersonalReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Consent records held by your organisation. Records are never edited: make a new version."""

    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    read_what = PersonReadLog.What.CONSENT
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return consent_list_visible(user=self.request.user)

    def _respond(self, record, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=code)

    @extend_schema(request=ConsentCreateSerializer, summary="Record consent (or another legal basis)")
    def create(self, request):
        data = _validated(ConsentCreateSerializer, request.data)
        person = person_list_visible(user=request.user).filter(pk=data.pop("person")).first()
        if person is None:
            raise NotFound("Person not found.", field="person")
        record = services.consent_create(actor=request.user, person=person, **data)
        return self._respond(record, status.HTTP_201_CREATED)

    @extend_schema(
        # every field optional: what is left out is copied from the current version
        request=ConsentScopeSerializer(partial=True),
        responses={201: ConsentSerializer},
        summary="Record a new version (changed scope or renewal); the current one is superseded",
    )
    @action(detail=True, methods=["post"])
    def versions(self, request, pk=None):
        data = _validated(ConsentScopeSerializer, request.data, partial=True)
        record = services.consent_new_version(actor=request.user, previous=self.get_object(), **data)
        return self._respond(record, status.HTTP_201_CREATED)

    @extend_schema(request=WithdrawSerializer, summary="Withdraw consent (cascades to referrals)")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = _validated(WithdrawSerializer, request.data)
        record = services.consent_withdraw(actor=request.user, record=self.get_object(), **data)
        return self._respond(record)

    @extend_schema(
        responses={
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="HTML (the default)"),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="JSON (?format=json or Accept: application/json)"
            ),
        },
        summary="Consent receipt in the consent's language",
    )
    @action(detail=True, methods=["get"], renderer_classes=[ReceiptHTMLRenderer, renderers.JSONRenderer])
    def receipt(self, request, pk=None):
        record = self.get_object()
        self.shown(record)
        if request.accepted_renderer.format == "json":
            return Response(receipt_json(record))
        return Response(receipt_html(record), content_type="text/html; charset=utf-8")

    @extend_schema(
        responses={
            (200, "application/fhir+json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="FHIR R4 Consent"
            )
        },
        summary="FHIR R4 Consent",
    )
    @action(detail=True, methods=["get"])
    def fhir(self, request, pk=None):
        record = self.get_object()
        self.shown(record)
        return Response(consent_to_fhir(record), content_type="application/fhir+json")


# Data-subject requests ---------------------------------------------------------------------


class DataSubjectRequestSerializer(serializers.ModelSerializer):
    person = serializers.UUIDField(source="person_id")
    recorded_by = serializers.CharField(source="recorded_by.username")
    handler = serializers.CharField(source="handler.username", allow_null=True, default=None)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "person",
            "kind",
            "channel",
            "received_on",
            "due_on",
            "is_overdue",
            "status",
            "details",
            "recorded_by",
            "handler",
            "outcome",
            "closed_at",
            "created_at",
        ]

    def get_is_overdue(self, request) -> bool:
        return request.is_overdue()


class DataSubjectRequestCreateSerializer(StrictSerializer):
    person = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=DataSubjectRequest.Kind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    received_on = serializers.DateField(required=False)
    due_on = serializers.DateField(required=False)
    details = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class DataSubjectRequestCompleteSerializer(StrictSerializer):
    outcome = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    corrections = PersonWriteSerializer(required=False)


class DataSubjectRequestRejectSerializer(StrictSerializer):
    outcome = serializers.CharField(max_length=5000)


class DataSubjectRequestViewSet(
    LogsPersonalReads, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Access, correction and erasure requests of persons your organisation holds."""

    serializer_class = DataSubjectRequestSerializer
    filterset_fields = ["kind", "status", "person"]
    read_what = PersonReadLog.What.REQUEST
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return data_subject_request_list_visible(user=self.request.user)

    @extend_schema(request=DataSubjectRequestCreateSerializer, summary="Record a data-subject request")
    def create(self, request):
        data = _validated(DataSubjectRequestCreateSerializer, request.data)
        person = person_list_visible(user=request.user).filter(pk=data.pop("person")).first()
        if person is None:
            raise NotFound("Person not found.", field="person")
        created = services.data_subject_request_create(actor=request.user, person=person, **data)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DataSubjectRequestCompleteSerializer,
        responses=inline_serializer(
            "DataSubjectRequestCompleted",
            {
                "request": DataSubjectRequestSerializer(),
                "export": serializers.JSONField(required=False, help_text="Access requests: the data held"),
            },
        ),
        summary="Carry out the request (access: returns the export; erasure: focal point only)",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = _validated(DataSubjectRequestCompleteSerializer, request.data)
        completed, export = services.data_subject_request_complete(
            actor=request.user, request=self.get_object(), **data
        )
        body = {"request": self.get_serializer(completed).data}
        if export is not None:
            body["export"] = export
        return Response(body)

    @extend_schema(request=DataSubjectRequestRejectSerializer, summary="Reject the request, saying why")
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = _validated(DataSubjectRequestRejectSerializer, request.data)
        rejected = services.data_subject_request_reject(actor=request.user, request=self.get_object(), **data)
        return Response(self.get_serializer(rejected).data)
