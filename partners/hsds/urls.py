"""HSDA 3.0 read API, mounted at ``/hsds/``. Paths answer with or without a trailing slash."""

from django.urls import re_path

from partners.hsds import api

urlpatterns = [
    re_path(r"^$", api.ApiInfoView.as_view(), name="hsds-root"),
    re_path(r"^profile/?$", api.ProfileView.as_view(), name="hsds-profile"),
    re_path(r"^services/?$", api.ServiceListView.as_view(), name="hsds-services"),
    re_path(r"^services/(?P<id>[^/]+)/?$", api.ServiceDetailView.as_view(), name="hsds-service"),
    re_path(r"^organizations/?$", api.OrganizationListView.as_view(), name="hsds-organizations"),
    re_path(
        r"^organizations/(?P<id>[^/]+)/?$", api.OrganizationDetailView.as_view(), name="hsds-organization"
    ),
    re_path(
        r"^service_at_locations/?$", api.ServiceAtLocationListView.as_view(), name="hsds-service-at-locations"
    ),
    re_path(r"^taxonomies/?$", api.TaxonomyListView.as_view(), name="hsds-taxonomies"),
    re_path(r"^taxonomies/(?P<id>[^/]+)/?$", api.TaxonomyDetailView.as_view(), name="hsds-taxonomy"),
    re_path(r"^taxonomy_terms/?$", api.TaxonomyTermListView.as_view(), name="hsds-taxonomy-terms"),
    re_path(
        r"^taxonomy_terms/(?P<id>[^/]+)/?$", api.TaxonomyTermDetailView.as_view(), name="hsds-taxonomy-term"
    ),
]
