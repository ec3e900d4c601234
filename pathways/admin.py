"""Django admin for pathways: drafts edited inline (through the services), a drawing page per
version showing the SVG and every validation problem, and publish / new-version actions."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from common.errors import ServiceError
from partners.selectors import is_platform_admin
from pathways import services
from pathways.conditions import describe
from pathways.models import Pathway, PathwayLink, PathwayStep
from pathways.selectors import pathway_export, pathway_problems


def _editable(obj) -> bool:
    return obj is None or obj.status == Pathway.Status.DRAFT


class _PlatformAdminOnly:
    """Staff may look; only platform admins change pathways, and only drafts."""

    def has_module_permission(self, request):
        return is_platform_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_platform_admin(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return is_platform_admin(request.user) and _editable(obj)

    def has_change_permission(self, request, obj=None):
        pathway = getattr(obj, "pathway", obj)
        return is_platform_admin(request.user) and _editable(pathway)

    def has_delete_permission(self, request, obj=None):
        pathway = getattr(obj, "pathway", obj)
        return is_platform_admin(request.user) and _editable(pathway)


class PathwayStepInline(_PlatformAdminOnly, admin.TabularInline):
    model = PathwayStep
    fields = ["key", "service", "is_entry", "x", "y"]
    autocomplete_fields = ["service"]
    extra = 0


class PathwayLinkInline(_PlatformAdminOnly, admin.TabularInline):
    model = PathwayLink
    fk_name = "pathway"
    fields = ["key", "from_step", "to_step", "condition", "eligibility", "preference", "note"]
    readonly_fields = ["eligibility"]
    extra = 0

    @admin.display(description="Eligibility")
    def eligibility(self, link):
        return describe(link.condition) if link.pk else ""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("from_step", "to_step"):
            object_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = PathwayStep.objects.filter(pathway_id=object_id).select_related(
                "service__organisation"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Pathway)
class PathwayAdmin(_PlatformAdminOnly, SimpleHistoryAdmin):
    list_display = ["name", "theme", "operation", "version", "status", "published_at", "drawing_link"]
    list_filter = ["status", "theme", "operation"]
    search_fields = ["name"]
    fields = [
        "operation",
        "name",
        "theme",
        "description",
        "status",
        "version",
        "published_at",
        "drawing_link",
    ]
    readonly_fields = ["status", "version", "published_at", "drawing_link"]
    inlines = [PathwayStepInline, PathwayLinkInline]
    actions = ["publish", "make_new_version"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "operation"] if obj is not None else self.readonly_fields

    def get_urls(self):
        drawing = path(
            "<uuid:object_id>/drawing/",
            self.admin_site.admin_view(self.drawing_view),
            name="pathways_pathway_drawing",
        )
        return [drawing, *super().get_urls()]

    @admin.display(description="Drawing")
    def drawing_link(self, pathway):
        if pathway is None or pathway.pk is None:
            return ""
        return format_html(
            '<a href="{}">Drawing and validation</a>',
            reverse("admin:pathways_pathway_drawing", args=[pathway.pk]),
        )

    def drawing_view(self, request, object_id):
        pathway = get_object_or_404(Pathway.objects.select_related("operation"), pk=object_id)
        if not self.has_view_permission(request, pathway):
            raise PermissionDenied
        problems = pathway_problems(pathway)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": pathway,
            "title": f"{pathway.name} — version {pathway.version} ({pathway.get_status_display()})",
            # the drawing escapes every name it contains (pathways.drawing.export_svg)
            "svg": mark_safe(pathway_export(pathway=pathway, export_format="svg")),  # noqa: S308
            "errors": [p for p in problems if p.severity == "error"],
            "infos": [p for p in problems if p.severity == "info"],
        }
        return TemplateResponse(request, "admin/pathways/pathway/drawing.html", context)

    # Writes go through the services, like every other client -------------------------------

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data[key] for key in ("name", "theme", "description")}
        if change:
            services.pathway_update(actor=request.user, pathway=obj, **data)
        else:
            created = services.pathway_create(
                actor=request.user, operation=form.cleaned_data["operation"], **data
            )
            obj.pk, obj.family, obj._state.adding = created.pk, created.family, False
            obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.pathway_delete(actor=request.user, pathway=obj)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # collects new, changed and deleted rows without writing them
        pathway = form.instance
        for item in formset.deleted_objects:
            if isinstance(item, PathwayStep):
                self._apply(request, services.step_remove, step=item)
            else:
                self._apply(request, services.link_remove, link=item)
        for item in formset.new_objects:
            if isinstance(item, PathwayStep):
                self._apply(
                    request, services.step_add, pathway=pathway, service=item.service, **_step_fields(item)
                )
            else:
                self._apply(request, services.link_add, pathway=pathway, **_link_fields(item))
        for item, _changed in formset.changed_objects:
            if isinstance(item, PathwayStep):
                self._apply(request, services.step_update, step=item, **_step_fields(item))
            else:
                self._apply(request, services.link_update, link=item, **_link_fields(item))

    def _apply(self, request, service_function, **kwargs):
        try:
            service_function(actor=request.user, **kwargs)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Publish (after validation)")
    def publish(self, request, queryset):
        for pathway in queryset:
            try:
                services.pathway_publish(actor=request.user, pathway=pathway)
                self.message_user(request, f"Published {pathway.name} v{pathway.version}.")
            except ServiceError as exc:
                self.message_user(
                    request, f"{pathway.name} v{pathway.version}: {exc.message}", messages.ERROR
                )

    @admin.action(description="Make a new draft version")
    def make_new_version(self, request, queryset):
        for pathway in queryset:
            try:
                copy = services.pathway_new_version(actor=request.user, pathway=pathway)
                self.message_user(request, f"Draft {copy.name} v{copy.version} created.")
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)


def _step_fields(step: PathwayStep) -> dict:
    return {key: getattr(step, key) for key in ("key", "is_entry", "x", "y")}


def _link_fields(link: PathwayLink) -> dict:
    return {
        key: getattr(link, key) for key in ("key", "from_step", "to_step", "condition", "preference", "note")
    }
