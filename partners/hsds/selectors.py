"""What the HSDS read API shows.

The directory holds no personal data, so a setting (``HSDS_PUBLIC``) may open it to anonymous
callers. What it publishes is what referrals can reach: services and organisations of *active*
organisations. Organisations an import brought in stay unpublished until a platform admin
activates them; platform admins see everything.
"""

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from partners.hsds.mapping import CATEGORY_TAXONOMY_ID
from partners.models import Attribute, Organisation, Service
from partners.selectors import is_platform_admin


def hsds_organisation_list_visible(*, user: AbstractBaseUser) -> QuerySet[Organisation]:
    queryset = Organisation.objects.all()
    if is_platform_admin(user):
        return queryset
    return queryset.filter(is_active=True)


def hsds_service_list_visible(*, user: AbstractBaseUser) -> QuerySet[Service]:
    queryset = Service.objects.all()
    if is_platform_admin(user):
        return queryset
    return queryset.filter(organisation__is_active=True)


def service_filter(
    *,
    search: str | None = None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after=None,
    prefix: str = "",
) -> Q:
    """The HSDA service filters, ANDed. ``prefix`` applies them through a relation (``service__``)."""
    condition = Q()
    if search:
        condition &= (
            Q(**{f"{prefix}name__icontains": search})
            | Q(**{f"{prefix}alternate_name__icontains": search})
            | Q(**{f"{prefix}description__icontains": search})
        )
    if taxonomy_term_id is not None:
        tagged = Attribute.objects.filter(service=OuterRef(f"{prefix}pk"), taxonomy_term_id=taxonomy_term_id)
        condition &= Q(**{f"{prefix}category_id": taxonomy_term_id}) | Q(Exists(tagged))
    if taxonomy_id is not None and taxonomy_id != CATEGORY_TAXONOMY_ID:
        # every service has a category, so our own taxonomy filters nothing out
        tagged = Attribute.objects.filter(
            service=OuterRef(f"{prefix}pk"), taxonomy_term__taxonomy_hsds_id=taxonomy_id
        )
        condition &= Q(Exists(tagged))
    if organization_id is not None:
        condition &= Q(**{f"{prefix}organisation_id": organization_id})
    if modified_after is not None:
        condition &= Q(**{f"{prefix}updated_at__gte": modified_after})
    return condition
