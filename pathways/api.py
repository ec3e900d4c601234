"""REST adapters for pathways under ``/api/v1/pathways/``. Writes call ``pathways.services``;
reads go through ``pathways.selectors`` so a draft answers 404 to anyone but a platform admin."""

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from common.errors import NotFound, ServiceError
from common.serializers import StrictSerializer
from partners.models import Operation, Service
from partners.selectors import service_list_visible
from pathways import services
from pathways.conditions import PROFILE_FIELDS, describe
from pathways.models import Pathway, PathwayLink, PathwayStep
from pathways.selectors import (
    EXPORT_FORMATS,
    Offer,
    pathway_alternatives,
    pathway_export,
    pathway_get_visible,
    pathway_list_visible,
    pathway_next_steps,
    pathway_problems,
    pathway_route,
    with_steps_and_links,
)

# Output ------------------------------------------------------------------------------------


class ServiceRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    organisation = serializers.CharField(source="organisation.acronym")
    category = serializers.CharField(source="category.code")


class StepSerializer(serializers.ModelSerializer):
    service = ServiceRefSerializer()

    class Meta:
        model = PathwayStep
        fields = ["id", "key", "service", "is_entry", "x", "y"]


class LinkSerializer(serializers.ModelSerializer):
    eligibility = serializers.SerializerMethodField()

    class Meta:
        model = PathwayLink
        fields = ["id", "key", "from_step", "to_step", "condition", "eligibility", "preference", "note"]

    def get_eligibility(self, link) -> str:
        return describe(link.condition)


class OperationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Operation
        fields = ["id", "name"]


class PathwaySerializer(serializers.ModelSerializer):
    operation = OperationRefSerializer()

    class Meta:
        model = Pathway
        fields = [
            "id",
            "family",
            "name",
            "theme",
            "description",
            "operation",
            "status",
            "version",
            "created_at",
            "published_at",
        ]


class PathwayDetailSerializer(PathwaySerializer):
    steps = StepSerializer(many=True)
    links = LinkSerializer(many=True)

    class Meta(PathwaySerializer.Meta):
        fields = [*PathwaySerializer.Meta.fields, "steps", "links"]


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["error", "info"])
    message = serializers.CharField()
    step_ids = serializers.ListField(child=serializers.UUIDField())
    link_ids = serializers.ListField(child=serializers.UUIDField())


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    problems = ProblemSerializer(many=True)


class OfferSerializer(serializers.Serializer):
    service = ServiceRefSerializer()
    pathway = serializers.SerializerMethodField()
    step = serializers.UUIDField(source="step_id")
    link = serializers.UUIDField(source="link_id", allow_null=True)
    preference = serializers.IntegerField(allow_null=True)
    distance = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()

    def get_pathway(self, offer: Offer) -> dict:
        return {"id": str(offer.pathway.id), "name": offer.pathway.name, "version": offer.pathway.version}

    def to_representation(self, offer: Offer) -> dict:
        # the fields above, rendered by hand: DRF's field-by-field walk was a large part of a long
        # list of alternatives; tests/pathways/test_alternatives.py proves both renderings equal
        service = offer.service
        return {
            "service": {
                "id": str(service.id),
                "name": service.name,
                "organisation": service.organisation.acronym,
                "category": service.category.code,
            },
            "pathway": self.get_pathway(offer),
            "step": str(offer.step_id),
            "link": None if offer.link_id is None else str(offer.link_id),
            "preference": offer.preference,
            "distance": offer.distance,
            "note": offer.note,
        }


# Input -------------------------------------------------------------------------------------


class PathwayCreateSerializer(StrictSerializer):
    operation = serializers.PrimaryKeyRelatedField(queryset=Operation.objects.all())
    name = serializers.CharField(max_length=services.MAX_NAME)
    theme = serializers.ChoiceField(choices=Pathway.Theme.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class PathwayUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=services.MAX_NAME, required=False)
    theme = serializers.ChoiceField(choices=Pathway.Theme.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class StepWriteSerializer(StrictSerializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.select_related("organisation"))
    key = serializers.CharField(max_length=services.MAX_KEY, required=False)
    is_entry = serializers.BooleanField(required=False)
    x = serializers.FloatField(required=False, allow_null=True)
    y = serializers.FloatField(required=False, allow_null=True)


class StepUpdateSerializer(StrictSerializer):
    key = serializers.CharField(max_length=services.MAX_KEY, required=False)
    is_entry = serializers.BooleanField(required=False)
    x = serializers.FloatField(required=False, allow_null=True)
    y = serializers.FloatField(required=False, allow_null=True)


class LinkWriteSerializer(StrictSerializer):
    from_step = serializers.PrimaryKeyRelatedField(queryset=PathwayStep.objects.all())
    to_step = serializers.PrimaryKeyRelatedField(queryset=PathwayStep.objects.all())
    condition = serializers.JSONField(required=False, help_text="Eligibility rule; see docs/pathways.md")
    preference = serializers.IntegerField(required=False, min_value=1, max_value=services.MAX_PREFERENCE)
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_NOTE)
    key = serializers.CharField(max_length=services.MAX_KEY, required=False)


class ProfileSerializer(StrictSerializer):
    """Checked again, with the rule language's own messages, by the selectors."""

    age = serializers.IntegerField(required=False, allow_null=True)
    sex = serializers.CharField(required=False, allow_null=True)
    specific_needs = serializers.ListField(child=serializers.CharField(), required=False)
    urgency = serializers.CharField(required=False, allow_null=True)
    is_minor = serializers.BooleanField(required=False, allow_null=True)


class QuestionSerializer(StrictSerializer):
    service = serializers.UUIDField()
    category = serializers.CharField(required=False, max_length=64)
    profile = serializers.DictField(required=False)


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


_QUESTION_PARAMETERS = [
    OpenApiParameter("service", OpenApiTypes.UUID, required=True, description="The service the person is at"),
    OpenApiParameter("age", int),
    OpenApiParameter("sex", str, enum=["female", "male", "other"]),
    OpenApiParameter("specific_needs", str, description="Comma-separated codes"),
    OpenApiParameter("urgency", str, enum=["emergency", "urgent", "normal"]),
    OpenApiParameter("is_minor", bool),
]


def _question(request, *, needs_category: bool = False) -> tuple[dict, dict]:
    """``(question, profile)`` from a JSON body (POST) or from query parameters (GET)."""
    if request.method == "POST":
        question = _validated(QuestionSerializer, request.data)
        profile = question.pop("profile", {})
    else:
        allowed = {"service", "category", *PROFILE_FIELDS}
        params = request.query_params
        if unknown := sorted(set(params) - allowed):
            raise ServiceError(
                f"Unknown parameter(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.",
                code="unknown_parameter",
                field=unknown[0],
            )
        question = _validated(
            QuestionSerializer, {k: params[k] for k in ("service", "category") if k in params}
        )
        profile = {}
        if "age" in params:
            try:
                profile["age"] = int(params["age"])
            except ValueError as exc:
                raise ServiceError(
                    "age is a whole number.", code="invalid_profile_value", field="age"
                ) from exc
        for key in ("sex", "urgency"):
            if key in params:
                profile[key] = params[key]
        if "specific_needs" in params:
            profile["specific_needs"] = [
                need.strip()
                for value in params.getlist("specific_needs")
                for need in value.split(",")
                if need.strip()
            ]
        if "is_minor" in params:
            value = params["is_minor"].lower()
            if value not in {"true", "false", "1", "0"}:
                raise ServiceError(
                    "is_minor is true or false.", code="invalid_profile_value", field="is_minor"
                )
            profile["is_minor"] = value in {"true", "1"}
    if needs_category and not question.get("category"):
        raise ServiceError("Give the target service category.", code="required", field="category")
    return question, profile


class ExportNegotiation(DefaultContentNegotiation):
    """``?format=`` names the export format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# Views -------------------------------------------------------------------------------------


class PathwayViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Service pathways. Platform admins write drafts; every signed-in user reads published ones."""

    serializer_class = PathwaySerializer
    filterset_fields = ["status", "theme", "operation"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return pathway_list_visible(user=self.request.user).order_by("name", "-version")

    def get_object(self):
        return pathway_get_visible(user=self.request.user, pathway_id=self.kwargs["pk"])

    def get_serializer_class(self):
        return PathwayDetailSerializer if self.action == "retrieve" else PathwaySerializer

    def _detail(self, pathway, code=status.HTTP_200_OK):
        pathway = with_steps_and_links(Pathway.objects.select_related("operation")).get(pk=pathway.pk)
        return Response(PathwayDetailSerializer(pathway).data, status=code)

    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(request=PathwayCreateSerializer, responses={201: PathwayDetailSerializer})
    def create(self, request):
        data = _validated(PathwayCreateSerializer, request.data)
        return self._detail(services.pathway_create(actor=request.user, **data), status.HTTP_201_CREATED)

    @extend_schema(request=PathwayUpdateSerializer, responses=PathwayDetailSerializer)
    def partial_update(self, request, pk=None):
        data = _validated(PathwayUpdateSerializer, request.data)
        return self._detail(services.pathway_update(actor=request.user, pathway=self.get_object(), **data))

    def destroy(self, request, pk=None):
        services.pathway_delete(actor=request.user, pathway=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    # Lifecycle ---------------------------------------------------------------------------

    @extend_schema(request=None, responses=ValidationResultSerializer, summary="Every problem at once")
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        problems = [problem.as_dict() for problem in pathway_problems(self.get_object())]
        valid = not any(problem["severity"] == "error" for problem in problems)
        return Response({"valid": valid, "problems": problems})

    @extend_schema(
        request=None, responses=PathwayDetailSerializer, summary="Publish (refused with the problems)"
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._detail(services.pathway_publish(actor=request.user, pathway=self.get_object()))

    @extend_schema(request=None, responses=PathwayDetailSerializer, summary="Archive a published version")
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._detail(services.pathway_archive(actor=request.user, pathway=self.get_object()))

    @extend_schema(request=None, responses={201: PathwayDetailSerializer}, summary="Copy into a new draft")
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        copy = services.pathway_new_version(actor=request.user, pathway=self.get_object())
        return self._detail(copy, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_FORMATS))],
        responses={
            (200, media_type): OpenApiTypes.OBJECT if name == "json" else OpenApiTypes.STR
            for name, media_type in EXPORT_FORMATS.items()
        },
        summary="Export as json (default), graphml, dot or svg",
    )
    @action(detail=True, methods=["get"], content_negotiation_class=ExportNegotiation)
    def export(self, request, pk=None):
        pathway = self.get_object()
        export_format = request.query_params.get("format", "json")
        body = pathway_export(pathway=pathway, export_format=export_format)
        if export_format == "json":
            return Response(body)
        response = HttpResponse(body, content_type=f"{EXPORT_FORMATS[export_format]}; charset=utf-8")
        filename = f"{slugify(pathway.name)}-v{pathway.version}.{export_format}"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: PathwayDetailSerializer},
        summary="Import a whole pathway from its JSON export (a new draft)",
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_document(self, request):
        pathway = services.pathway_import(actor=request.user, document=request.data)
        return self._detail(pathway, status.HTTP_201_CREATED)

    # Steps and links ---------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=StepSerializer(many=True))
    @extend_schema(methods=["POST"], request=StepWriteSerializer, responses={201: StepSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def steps(self, request, pk=None):
        pathway = self.get_object()
        if request.method == "GET":
            steps = pathway.steps.select_related("service__organisation", "service__category").order_by("key")
            return Response(StepSerializer(steps, many=True).data)
        data = _validated(StepWriteSerializer, request.data)
        step = services.step_add(actor=request.user, pathway=pathway, **data)
        return Response(StepSerializer(step).data, status=status.HTTP_201_CREATED)

    def _step(self, pathway, step_id) -> PathwayStep:
        step = PathwayStep.objects.filter(pathway=pathway, pk=step_id).select_related("pathway").first()
        if step is None:
            raise NotFound("No such step in this pathway.", code="step_not_found")
        return step

    @extend_schema(methods=["PATCH"], request=StepUpdateSerializer, responses=StepSerializer)
    @action(detail=True, methods=["patch", "delete"], url_path=r"steps/(?P<step_id>[0-9a-f-]{36})")
    def step(self, request, pk=None, step_id=None):
        step = self._step(self.get_object(), step_id)
        if request.method == "DELETE":
            services.step_remove(actor=request.user, step=step)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _validated(StepUpdateSerializer, request.data)
        step = services.step_update(actor=request.user, step=step, **data)
        return Response(StepSerializer(step).data)

    @extend_schema(methods=["GET"], responses=LinkSerializer(many=True))
    @extend_schema(methods=["POST"], request=LinkWriteSerializer, responses={201: LinkSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def links(self, request, pk=None):
        pathway = self.get_object()
        if request.method == "GET":
            return Response(LinkSerializer(pathway.links.order_by("preference", "key"), many=True).data)
        data = _validated(LinkWriteSerializer, request.data)
        link = services.link_add(actor=request.user, pathway=pathway, **data)
        return Response(LinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["PATCH"], request=LinkWriteSerializer, responses=LinkSerializer)
    @action(detail=True, methods=["patch", "delete"], url_path=r"links/(?P<link_id>[0-9a-f-]{36})")
    def link(self, request, pk=None, link_id=None):
        pathway = self.get_object()
        link = PathwayLink.objects.filter(pathway=pathway, pk=link_id).select_related("pathway").first()
        if link is None:
            raise NotFound("No such link in this pathway.", code="link_not_found")
        if request.method == "DELETE":
            services.link_remove(actor=request.user, link=link)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _validated(LinkWriteSerializer, request.data, partial=True)
        return Response(LinkSerializer(services.link_update(actor=request.user, link=link, **data)).data)

    # Questions ---------------------------------------------------------------------------

    def _service(self, service_id) -> Service:
        # the question needs the service's organisation and category, not its locations
        service = (
            service_list_visible(user=self.request.user).prefetch_related(None).filter(pk=service_id).first()
        )
        if service is None:
            raise NotFound("No such service.", code="service_not_found", field="service")
        return service

    @extend_schema(
        methods=["GET"],
        parameters=_QUESTION_PARAMETERS,
        responses=OfferSerializer(many=True),
        summary="Next steps",
    )
    @extend_schema(methods=["POST"], request=QuestionSerializer, responses=OfferSerializer(many=True))
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[], url_path="next-steps"
    )
    def next_steps(self, request, pk=None):
        pathway = self.get_object()
        question, profile = _question(request)
        service = self._service(question["service"])
        offers = pathway_next_steps(pathway=pathway, service_id=service.id, profile=profile)
        return Response(OfferSerializer(offers, many=True).data)

    @extend_schema(
        methods=["GET"],
        parameters=_QUESTION_PARAMETERS,
        responses=OfferSerializer(many=True),
        summary="Alternatives: same pathway first, then any published pathway of the operation",
    )
    @extend_schema(methods=["POST"], request=QuestionSerializer, responses=OfferSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def alternatives(self, request, pk=None):
        pathway = self.get_object()
        question, profile = _question(request)
        offers = pathway_alternatives(
            service=self._service(question["service"]), profile=profile, pathway=pathway
        )
        return Response(OfferSerializer(offers, many=True).data)

    @extend_schema(
        methods=["GET"],
        parameters=_QUESTION_PARAMETERS,
        responses=OfferSerializer(many=True),
        summary="Alternatives on every published pathway of the operation",
        operation_id="v1_pathways_alternatives_anywhere_retrieve",
    )
    @extend_schema(
        methods=["POST"],
        request=QuestionSerializer,
        responses=OfferSerializer(many=True),
        operation_id="v1_pathways_alternatives_anywhere_create",
    )
    @action(
        detail=False,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
        url_path="alternatives",
    )
    def alternatives_anywhere(self, request):
        question, profile = _question(request)
        offers = pathway_alternatives(service=self._service(question["service"]), profile=profile)
        return Response(OfferSerializer(offers, many=True).data)

    @extend_schema(
        methods=["GET"],
        parameters=[*_QUESTION_PARAMETERS, OpenApiParameter("category", str, required=True)],
        responses=OfferSerializer(many=True),
        summary="Shortest eligible chain of referrals to a service category",
    )
    @extend_schema(methods=["POST"], request=QuestionSerializer, responses=OfferSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def route(self, request, pk=None):
        pathway = self.get_object()
        question, profile = _question(request, needs_category=True)
        service = self._service(question["service"])
        hops = pathway_route(
            pathway=pathway, service_id=service.id, target_category=question["category"], profile=profile
        )
        if hops is None:
            raise NotFound(
                f"No eligible chain of referrals reaches {question['category']!r} from this service.",
                code="no_route",
            )
        return Response(OfferSerializer(hops, many=True).data)
