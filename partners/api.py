"""REST adapters for organisations, memberships, services and the caller's own profile."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import PermissionDenied, ServiceError
from common.replicas import replica_safe
from common.serializers import StrictSerializer
from partners import services
from partners.models import Location, Membership, Operation, Organisation, Service, ServiceCategory
from partners.selectors import (
    is_platform_admin,
    membership_active,
    membership_list_visible,
    organisation_list_visible,
    service_list_visible,
)

User = get_user_model()


# Me ----------------------------------------------------------------------------------------


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "acronym"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    organisation = OrganisationRefSerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)
    is_platform_admin = serializers.BooleanField()


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The caller: user, organisation and role")
    def get(self, request):
        membership = membership_active(user=request.user)
        user = request.user
        data = {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "organisation": membership.organisation if membership else None,
            "role": membership.role if membership else None,
            "is_platform_admin": is_platform_admin(user),
        }
        return Response(MeSerializer(data).data)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    email = serializers.CharField(source="user.email")
    organisation = serializers.UUIDField(source="organisation_id")

    class Meta:
        model = Membership
        fields = ["id", "username", "first_name", "last_name", "email", "organisation", "role", "is_active"]


# Organisations -----------------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    operation = serializers.SlugRelatedField(slug_field="name", read_only=True)
    has_focal_point = serializers.BooleanField(read_only=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "acronym",
            "kind",
            "operation",
            "partnership",
            "is_active",
            "dsa_signed_on",
            "dsa_expires_on",
            "has_focal_point",
        ]


class OrganisationCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    acronym = serializers.CharField(max_length=32)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    operation = serializers.SlugRelatedField(slug_field="name", queryset=Operation.objects.all())
    partnership = serializers.ChoiceField(choices=Organisation.Partnership.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class OrganisationUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    acronym = serializers.CharField(max_length=32, required=False)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices, required=False)
    partnership = serializers.ChoiceField(choices=Organisation.Partnership.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class AgreementSerializer(StrictSerializer):
    signed_on = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True, required=False)


class FocalPointSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(
        required=False, allow_blank=True, help_text="With create_user: where the activation link is sent"
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    create_user = serializers.BooleanField(
        default=False, help_text="Create the account; its owner is mailed a link to choose a password"
    )


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind", "partnership", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        focal_point = Membership.objects.filter(
            organisation=OuterRef("pk"), role=Membership.Role.FOCAL_POINT, is_active=True
        )
        return organisation_list_visible(user=self.request.user).annotate(has_focal_point=Exists(focal_point))

    def _respond(self, organisation, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=organisation.pk)).data, status=code)

    @extend_schema(request=OrganisationCreateSerializer, summary="Create an organisation (platform admins)")
    def create(self, request):
        data = _validated(OrganisationCreateSerializer, request.data)
        organisation = services.organisation_create(actor=request.user, **data)
        return self._respond(organisation, status.HTTP_201_CREATED)

    @extend_schema(request=OrganisationUpdateSerializer, summary="Update an organisation (platform admins)")
    def partial_update(self, request, pk=None):
        data = _validated(OrganisationUpdateSerializer, request.data)
        organisation = services.organisation_update(
            actor=request.user, organisation=self.get_object(), **data
        )
        return self._respond(organisation)

    @extend_schema(request=AgreementSerializer, summary="Record the data-sharing agreement (platform admins)")
    @action(detail=True, methods=["post"], url_path="data-sharing-agreement")
    def data_sharing_agreement(self, request, pk=None):
        data = _validated(AgreementSerializer, request.data)
        organisation = services.organisation_record_dsa(
            actor=request.user,
            organisation=self.get_object(),
            signed_on=data["signed_on"],
            expires_on=data.get("expires_on"),
        )
        return self._respond(organisation)

    @extend_schema(
        request=FocalPointSerializer,
        responses={200: MembershipSerializer},
        summary="Appoint the focal point (platform admins); the previous one becomes caseworker",
    )
    @action(detail=True, methods=["post"], url_path="focal-point")
    def focal_point(self, request, pk=None):
        data = _validated(FocalPointSerializer, request.data)
        membership = services.focal_point_appoint_by_username(
            actor=request.user, organisation=self.get_object(), **data
        )
        return Response(MembershipSerializer(membership).data)


# Memberships -------------------------------------------------------------------------------


class MemberAddSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    email = serializers.EmailField(
        required=False, allow_blank=True, help_text="Required: where the member's activation link is sent"
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class RoleSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class MembershipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Members of the caller's organisation. Another organisation's memberships answer 404."""

    serializer_class = MembershipSerializer
    filterset_fields = ["role", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return membership_list_visible(user=self.request.user)

    @extend_schema(request=MemberAddSerializer, summary="Add a member to your organisation (focal point)")
    def create(self, request):
        data = _validated(MemberAddSerializer, request.data)
        membership = membership_active(user=request.user)
        if membership is None:
            raise PermissionDenied(
                "Only an organisation's focal point may add members.", code="focal_point_required"
            )
        created = services.member_add(actor=request.user, organisation=membership.organisation, **data)
        return Response(MembershipSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RoleSerializer, summary="Change a member's role (focal point)")
    def partial_update(self, request, pk=None):
        data = _validated(RoleSerializer, request.data)
        membership = services.membership_set_role(
            actor=request.user, membership=self.get_object(), role=data["role"]
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        request=None, summary="Deactivate a member (focal point); their tokens and sessions end at once"
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        membership = services.membership_deactivate(actor=request.user, membership=self.get_object())
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        request=None,
        summary="Unlock a member's login after too many failed attempts (focal point; a focal point's: "
        "platform admins)",
    )
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        membership = self.get_object()
        services.member_login_unlock(actor=request.user, membership=membership)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Mail a new activation link to a member who has not chosen a password yet (focal point)",
    )
    @action(detail=True, methods=["post"], url_path="activation-link")
    def activation_link(self, request, pk=None):
        services.account_activation_resend(actor=request.user, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# Services ----------------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    locations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "organisation",
            "category",
            "locations",
            "min_age",
            "max_age",
            "sexes",
            "specific_needs",
            "languages",
            "is_active",
            "is_accepting_referrals",
            "response_hours_emergency",
            "response_hours_urgent",
            "response_hours_normal",
            "outcome_due_days",
            "required_fields",
            "optional_fields",
            "updated_at",
        ]


class ServiceWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    category = serializers.SlugRelatedField(slug_field="code", queryset=ServiceCategory.objects.all())
    locations = serializers.PrimaryKeyRelatedField(many=True, queryset=Location.objects.all(), required=False)
    min_age = serializers.IntegerField(min_value=0, max_value=130, allow_null=True, required=False)
    max_age = serializers.IntegerField(min_value=0, max_value=130, allow_null=True, required=False)
    sexes = serializers.ListField(child=serializers.ChoiceField(choices=Service.Sex.choices), required=False)
    specific_needs = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_NEED_CODE), required=False
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_LANGUAGE_CODE), required=False
    )
    is_active = serializers.BooleanField(required=False)
    is_accepting_referrals = serializers.BooleanField(required=False)
    response_hours_emergency = serializers.IntegerField(
        min_value=1, max_value=services.MAX_RESPONSE_HOURS, required=False
    )
    response_hours_urgent = serializers.IntegerField(
        min_value=1, max_value=services.MAX_RESPONSE_HOURS, required=False
    )
    response_hours_normal = serializers.IntegerField(
        min_value=1, max_value=services.MAX_RESPONSE_HOURS, required=False
    )
    outcome_due_days = serializers.IntegerField(
        min_value=1,
        max_value=services.MAX_OUTCOME_DUE_DAYS,
        allow_null=True,
        required=False,
        help_text="Days after acceptance by which an outcome is due, or it is escalated; null: never",
    )
    required_fields = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    optional_fields = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        required=False,
        help_text="Platform admins only; defaults to yours",
    )


class ServiceFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__code")
    organisation = django_filters.UUIDFilter(field_name="organisation_id")
    location = django_filters.UUIDFilter(field_name="locations__id")
    accepting = django_filters.BooleanFilter(field_name="is_accepting_referrals")

    class Meta:
        model = Service
        fields = ["category", "organisation", "location", "accepting", "is_active"]


class ServiceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The shared service directory. Writes: the owning organisation's focal point."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return service_list_visible(user=self.request.user).distinct()

    @replica_safe
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _respond(self, service, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=service.pk)).data, status=code)

    @extend_schema(request=ServiceWriteSerializer, summary="Add a service to your organisation (focal point)")
    def create(self, request):
        data = _validated(ServiceWriteSerializer, request.data)
        organisation = data.pop("organisation", None)
        if organisation is None or not is_platform_admin(request.user):
            membership = membership_active(user=request.user)
            if membership is None:
                raise PermissionDenied("Only a focal point may add services.", code="focal_point_required")
            organisation = membership.organisation
        service = services.service_create(actor=request.user, organisation=organisation, **data)
        return self._respond(service, status.HTTP_201_CREATED)

    @extend_schema(request=ServiceWriteSerializer, summary="Edit a service (its organisation's focal point)")
    def partial_update(self, request, pk=None):
        serializer = ServiceWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "organisation" in data:
            raise ServiceError("A service cannot move to another organisation.", code="field_not_editable")
        service = services.service_update(actor=request.user, service=self.get_object(), **data)
        return self._respond(service)
