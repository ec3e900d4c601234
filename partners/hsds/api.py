"""Read API following HSDA 3.0 (the OpenAPI description in the HSDS 3.0 specification).

Lists answer the HSDA ``Page`` envelope: total_items, total_pages, page_number, size (items on
this page), first_page, last_page, empty (no items on this page) and contents. Filters are ANDed.
Authenticated like the rest of the API (token or session) unless ``HSDS_PUBLIC`` is set.
"""

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound, ServiceError
from common.limits import MAX_INT
from partners.hsds.exports import DocumentBuilder, effective_status, service_queryset_full
from partners.hsds.mapping import (
    CATEGORY_TAXONOMY,
    CATEGORY_TAXONOMY_ID,
    HSDS_VERSION,
    OPENAPI_URL,
    scalar_row,
    synthetic_id,
)
from partners.hsds.selectors import hsds_organisation_list_visible, hsds_service_list_visible, service_filter
from partners.models import (
    Attribute,
    Contact,
    Phone,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    Taxonomy,
    TaxonomyTerm,
)

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


class HsdsReadPermission(BasePermission):
    """Authenticated callers; anyone when ``settings.HSDS_PUBLIC`` (the directory is not personal data)."""

    def has_permission(self, request, view):
        return bool(getattr(settings, "HSDS_PUBLIC", False) or request.user.is_authenticated)


class PageSerializer(serializers.Serializer):
    total_items = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    page_number = serializers.IntegerField()
    size = serializers.IntegerField()
    first_page = serializers.BooleanField()
    last_page = serializers.BooleanField()
    empty = serializers.BooleanField()
    contents = serializers.ListField(child=serializers.DictField())


class ApiInfoSerializer(serializers.Serializer):
    version = serializers.CharField()
    profile = serializers.URLField()
    openapi_url = serializers.URLField()


def _parameter(name: str, type_, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, required=False, description=description)


PAGE_PARAMETERS = [
    _parameter("page", {"type": "integer", "minimum": 1, "maximum": MAX_INT}, "Page number, from 1."),
    _parameter(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        f"Items per page (default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE}).",
    ),
    _parameter("search", OpenApiTypes.STR, "Text contained in the name, alternate name or description."),
]
SERVICE_PARAMETERS = [
    *PAGE_PARAMETERS,
    _parameter("taxonomy_term_id", OpenApiTypes.UUID, "Only services tagged with this taxonomy term."),
    _parameter("taxonomy_id", OpenApiTypes.UUID, "Only services tagged with a term of this taxonomy."),
    _parameter("organization_id", OpenApiTypes.UUID, "Only services of this organization."),
    _parameter("modified_after", OpenApiTypes.DATETIME, "Only services modified at or after this time."),
]
FULL = _parameter("full", OpenApiTypes.BOOL, "Fully nested objects instead of their one-to-one fields.")


def _bad(name: str, message: str) -> ServiceError:
    return ServiceError(message, code="invalid_parameter", field=name)


class _Query:
    """Typed access to query parameters; a bad value is a 400 that names the parameter."""

    def __init__(self, request):
        self.params = request.query_params

    def text(self, name: str) -> str | None:
        return (self.params.get(name) or "").strip() or None

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad(name, f"{name} must be a whole number.") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise _bad(name, f"{name} must be {bounds}.")
        return value

    def uuid(self, name: str) -> uuid.UUID | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise _bad(name, f"{name} must be a UUID.") from None

    def boolean(self, name: str) -> bool:
        raw = (self.text(name) or "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise _bad(name, f"{name} must be true or false.")
        return raw in ("true", "1")

    def moment(self, name: str) -> datetime | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            value = parse_datetime(raw)
            if value is None and (day := parse_date(raw)) is not None:
                value = datetime.combine(day, time.min)
        except ValueError:
            value = None
        if value is None:
            raise _bad(name, f"{name} must be an ISO 8601 date or date-time.")
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def page(self) -> tuple[int, int]:
        page = self.integer("page", 1, 1, MAX_INT)
        return page, self.integer("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)

    def service_filter(self) -> Q:
        return service_filter(
            search=self.text("search"),
            taxonomy_term_id=self.uuid("taxonomy_term_id"),
            taxonomy_id=self.uuid("taxonomy_id"),
            organization_id=self.uuid("organization_id"),
            modified_after=self.moment("modified_after"),
        )


def page_envelope(*, total: int, page: int, per_page: int, contents: list) -> dict:
    total_pages = math.ceil(total / per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def paginate(queryset, page: int, per_page: int, render: Callable[[list], list]) -> dict:
    total = queryset.count()
    start = (page - 1) * per_page
    items = list(queryset[start : start + per_page]) if start < total else []
    return page_envelope(total=total, page=page, per_page=per_page, contents=render(items))


def paginate_sources(sources: list[tuple[int, Callable[[int, int], list]]], page: int, per_page: int) -> dict:
    """One page over several sources shown one after the other: ``(count, fetch(start, stop))``."""
    start, stop = (page - 1) * per_page, page * per_page
    contents, offset = [], 0
    for count, fetch in sources:
        low, high = max(start, offset), min(stop, offset + count)
        if low < high:
            contents.extend(fetch(low - offset, high - offset))
        offset += count
    return page_envelope(total=offset, page=page, per_page=per_page, contents=contents)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("Not found.") from None


class HsdsView(APIView):
    permission_classes = [HsdsReadPermission]


# Views -------------------------------------------------------------------------------------


class ApiInfoView(HsdsView):
    @extend_schema(
        operation_id="hsds_api_info",
        responses=ApiInfoSerializer,
        summary="HSDS version, profile and OpenAPI description",
    )
    def get(self, request):
        return Response(
            {
                "version": HSDS_VERSION,
                "profile": request.build_absolute_uri("/hsds/profile"),
                "openapi_url": OPENAPI_URL,
            }
        )


class ProfileView(HsdsView):
    @extend_schema(
        operation_id="hsds_profile",
        responses=OpenApiTypes.OBJECT,
        summary="The Referral Hub HSDS profile (JSON merge patches)",
    )
    def get(self, request):
        folder = settings.BASE_DIR / "docs" / "hsds-profile"
        patches = {
            path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))
        }
        return Response(patches)


class ServiceListView(HsdsView):
    @extend_schema(
        operation_id="hsds_services_list",
        parameters=[*SERVICE_PARAMETERS, FULL],
        responses=PageSerializer,
        summary="Services",
    )
    def get(self, request):
        query = _Query(request)
        page, per_page = query.page()
        full = query.boolean("full")
        queryset = hsds_service_list_visible(user=request.user).filter(query.service_filter())
        builder = DocumentBuilder()
        if full:
            queryset = service_queryset_full(queryset)
            render = builder.service
        else:
            queryset = queryset.select_related("organisation")
            render = builder.service_basic
        queryset = queryset.order_by("name", "pk")
        return Response(paginate(queryset, page, per_page, lambda items: [render(s) for s in items]))


class ServiceDetailView(HsdsView):
    @extend_schema(
        operation_id="hsds_service_retrieve", responses=OpenApiTypes.OBJECT, summary="A fully nested service"
    )
    def get(self, request, id):
        queryset = service_queryset_full(hsds_service_list_visible(user=request.user))
        service = queryset.filter(pk=_uuid_or_404(id)).first()
        if service is None:
            raise NotFound("Not found.")
        return Response(DocumentBuilder().service(service))


def _organisation_full_queryset(queryset):
    phones = Phone.objects.prefetch_related("languages")
    return queryset.prefetch_related(
        Prefetch("phones", queryset=phones),
        Prefetch("contacts", queryset=Contact.objects.prefetch_related(Prefetch("phones", queryset=phones))),
        Prefetch("attributes", queryset=Attribute.objects.select_related("taxonomy_term")),
    )


class OrganizationListView(HsdsView):
    @extend_schema(
        operation_id="hsds_organizations_list",
        parameters=[*PAGE_PARAMETERS, FULL],
        responses=PageSerializer,
        summary="Organizations",
    )
    def get(self, request):
        query = _Query(request)
        page, per_page = query.page()
        queryset = hsds_organisation_list_visible(user=request.user)
        if search := query.text("search"):
            queryset = queryset.filter(
                Q(name__icontains=search)
                | Q(alternate_name__icontains=search)
                | Q(description__icontains=search)
            )
        builder = DocumentBuilder()
        render = builder.organization_basic
        if query.boolean("full"):
            queryset = _organisation_full_queryset(queryset)
            render = builder.organization
        queryset = queryset.order_by("name", "pk")
        return Response(paginate(queryset, page, per_page, lambda items: [render(o) for o in items]))


class OrganizationDetailView(HsdsView):
    @extend_schema(
        operation_id="hsds_organization_retrieve",
        parameters=[_parameter("full_service", OpenApiTypes.BOOL, "Fully nested services.")],
        responses=OpenApiTypes.OBJECT,
        summary="An organization with its services",
    )
    def get(self, request, id):
        query = _Query(request)
        queryset = _organisation_full_queryset(hsds_organisation_list_visible(user=request.user))
        organisation = queryset.filter(pk=_uuid_or_404(id)).first()
        if organisation is None:
            raise NotFound("Not found.")
        builder = DocumentBuilder()
        document = builder.organization(organisation)
        services = hsds_service_list_visible(user=request.user).filter(organisation=organisation)
        if query.boolean("full_service"):
            rendered = [builder.service(s) for s in service_queryset_full(services).order_by("name", "pk")]
        else:
            rendered = []
            for service in services.order_by("name", "pk"):
                row = scalar_row("service", service, owners=True)
                row["status"] = effective_status(service)
                row["last_modified"] = service.updated_at.isoformat()
                rendered.append(row)
        document["services"] = rendered
        return Response(document)


class ServiceAtLocationListView(HsdsView):
    @extend_schema(
        operation_id="hsds_service_at_locations_list",
        parameters=SERVICE_PARAMETERS,
        responses=PageSerializer,
        summary="Services at locations",
    )
    def get(self, request):
        query = _Query(request)
        page, per_page = query.page()
        services = hsds_service_list_visible(user=request.user)
        condition = service_filter(
            taxonomy_term_id=query.uuid("taxonomy_term_id"),
            taxonomy_id=query.uuid("taxonomy_id"),
            organization_id=query.uuid("organization_id"),
            modified_after=query.moment("modified_after"),
            prefix="service__",
        )
        if search := query.text("search"):
            # the location's name counts too
            condition &= service_filter(search=search, prefix="service__") | Q(
                location__name__icontains=search
            )
        through = Service.locations.through
        queryset = (
            through.objects.filter(service__in=services)
            .filter(condition)
            .select_related("service", "location")
            .order_by("service__name", "location__name", "pk")
        )

        def render(items):
            links = (
                {
                    (link.service_id, link.location_id): link
                    for link in ServiceAtLocation.objects.filter(
                        Q(
                            *[Q(service_id=i.service_id, location_id=i.location_id) for i in items],
                            _connector=Q.OR,
                        )
                    )
                }
                if items
                else {}
            )
            contents = []
            for item in items:
                link = links.get((item.service_id, item.location_id))
                row = (
                    scalar_row("service_at_location", link, owners=True)
                    if link
                    else {
                        "id": str(synthetic_id("service_at_location", item.service_id, item.location_id)),
                        "service_id": str(item.service_id),
                        "location_id": str(item.location_id),
                    }
                )
                service_row = scalar_row("service", item.service, owners=True)
                service_row["status"] = effective_status(item.service)
                row["service"] = service_row
                row["location"] = scalar_row("location", item.location, owners=False)
                contents.append(row)
            return contents

        return Response(paginate(queryset, page, per_page, render))


class TaxonomyListView(HsdsView):
    @extend_schema(
        operation_id="hsds_taxonomies_list",
        parameters=PAGE_PARAMETERS,
        responses=PageSerializer,
        summary="Taxonomies",
    )
    def get(self, request):
        query = _Query(request)
        page, per_page = query.page()
        search = query.text("search")
        ours = [dict(CATEGORY_TAXONOMY)]
        if search and not any(search.lower() in ours[0][key].lower() for key in ("name", "description")):
            ours = []
        queryset = Taxonomy.objects.order_by("name", "pk")
        if search:
            queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
        builder = DocumentBuilder()
        sources = [
            (len(ours), lambda start, stop: ours[start:stop]),
            (queryset.count(), lambda start, stop: [builder.taxonomy(t) for t in queryset[start:stop]]),
        ]
        return Response(paginate_sources(sources, page, per_page))


class TaxonomyDetailView(HsdsView):
    @extend_schema(operation_id="hsds_taxonomy_retrieve", responses=OpenApiTypes.OBJECT, summary="A taxonomy")
    def get(self, request, id):
        taxonomy_id = _uuid_or_404(id)
        if taxonomy_id == CATEGORY_TAXONOMY_ID:
            return Response(dict(CATEGORY_TAXONOMY))
        taxonomy = Taxonomy.objects.filter(pk=taxonomy_id).first()
        if taxonomy is None:
            raise NotFound("Not found.")
        return Response(DocumentBuilder().taxonomy(taxonomy))


class TaxonomyTermListView(HsdsView):
    @extend_schema(
        operation_id="hsds_taxonomy_terms_list",
        parameters=[
            *PAGE_PARAMETERS,
            _parameter("taxonomy_id", OpenApiTypes.UUID, "Only terms of this taxonomy."),
            _parameter("parent_id", OpenApiTypes.UUID, "Only the children of this term."),
            _parameter("top_only", OpenApiTypes.BOOL, "Only terms without a parent."),
        ],
        responses=PageSerializer,
        summary="Taxonomy terms",
    )
    def get(self, request):
        query = _Query(request)
        page, per_page = query.page()
        search, taxonomy_id, parent_id = (
            query.text("search"),
            query.uuid("taxonomy_id"),
            query.uuid("parent_id"),
        )
        categories = ServiceCategory.objects.select_related(None).order_by("name", "pk")
        terms = TaxonomyTerm.objects.order_by("name", "pk")
        if search:
            text = Q(name__icontains=search) | Q(code__icontains=search) | Q(description__icontains=search)
            categories, terms = categories.filter(text), terms.filter(text)
        if taxonomy_id is not None:
            if taxonomy_id == CATEGORY_TAXONOMY_ID:
                terms = terms.none()
            else:
                categories = categories.none()
                terms = terms.filter(taxonomy_hsds_id=taxonomy_id)
        if parent_id is not None:
            categories, terms = categories.filter(parent_id=parent_id), terms.filter(parent_hsds_id=parent_id)
        if query.boolean("top_only"):
            categories, terms = (
                categories.filter(parent__isnull=True),
                terms.filter(parent_hsds_id__isnull=True),
            )
        builder = DocumentBuilder()
        sources = [
            (
                categories.count(),
                lambda start, stop: [builder.category_term(c) for c in categories[start:stop]],
            ),
            (terms.count(), lambda start, stop: [builder.taxonomy_term(t) for t in terms[start:stop]]),
        ]
        return Response(paginate_sources(sources, page, per_page))


class TaxonomyTermDetailView(HsdsView):
    @extend_schema(
        operation_id="hsds_taxonomy_term_retrieve", responses=OpenApiTypes.OBJECT, summary="A taxonomy term"
    )
    def get(self, request, id):
        term_id = _uuid_or_404(id)
        builder = DocumentBuilder()
        if (category := ServiceCategory.objects.filter(pk=term_id).first()) is not None:
            return Response(builder.category_term(category))
        if (term := TaxonomyTerm.objects.filter(pk=term_id).first()) is not None:
            return Response(builder.taxonomy_term(term))
        raise NotFound("Not found.")
