"""The operation admin's pages: organisations, agreements, focal points, HSDS import.

Only a platform admin (``partners.selectors.is_platform_admin``: staff with the platform permission,
signed in with a second factor) reaches them; anyone else gets the console's one 404 page, the same
as for an address that does not exist, so the pages do not tell others they are there. Every change
is a call to the services the REST API uses (``partners.services``, ``partners.hsds``); a refusal is
shown next to the field it concerns, with the service's status (400, 403, 409).
"""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, ServiceError
from console.labels import label
from console.operation_forms import (
    AgreementForm,
    FocalPointForm,
    ImportForm,
    ImportRunForm,
    OrganisationCreateForm,
    OrganisationForm,
)
from console.operation_labels import (
    DSA_STATE_LABELS,
    ERROR_WORDS,
    HSDS_TABLE_LABELS,
    KIND_LABELS,
    PARTNERSHIP_LABELS,
)
from console.shared import not_found, sign_in_required, viewer_of
from partners import selectors, services
from partners.hsds import imports, uploads
from partners.models import Organisation


def platform_admin_required(view):
    """Signed out: the sign-in page. Signed in but not a platform admin: the one 404 page."""

    @sign_in_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not viewer_of(request).platform_admin:
            return not_found(request)
        return view(request, *args, **kwargs)

    return wrapped


def _refusal(form, error: ServiceError, field: str | None = None) -> int:
    """Put the service's refusal next to its field (or above the form); returns the HTTP status."""
    field = field or error.field
    if field not in form.fields:
        field = None
    form.add_error(field, str(ERROR_WORDS.get(error.code, error.message)))
    return error.status


def _organisation(request, organisation_id):
    try:
        return selectors.organisation_admin_list(user=request.user).get(pk=organisation_id)
    except (Organisation.DoesNotExist, ValidationError):
        return None


def _row(organisation) -> dict:
    return {
        "organisation": organisation,
        "kind": label(KIND_LABELS, organisation.kind),
        "partnership": label(PARTNERSHIP_LABELS, organisation.partnership),
        "dsa_state": label(DSA_STATE_LABELS, selectors.dsa_state(organisation)),
    }


# Organisations -------------------------------------------------------------------------------


@require_GET
@platform_admin_required
def landing(request):
    rows = [_row(organisation) for organisation in selectors.organisation_admin_list(user=request.user)]
    return render(request, "console/operation/organisations.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@platform_admin_required
def organisation_new(request):
    form = OrganisationCreateForm(request.POST) if request.method == "POST" else OrganisationCreateForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                organisation = services.organisation_create(actor=request.user, **form.cleaned_data)
            except ServiceError as error:
                status = _refusal(form, error)
            else:
                messages.success(
                    request, _("Organisation created. Record its agreement and appoint its focal point.")
                )
                return redirect("console:operation-organisation", organisation_id=organisation.pk)
    return render(request, "console/operation/organisation_new.html", {"form": form}, status=status)


def _detail(request, organisation, status=200, **forms):
    focal_point = selectors.focal_point_of(user=request.user, organisation=organisation)
    context = {
        **_row(organisation),
        "focal_point": focal_point,
        "focal_point_activated": focal_point is not None and focal_point.user.has_usable_password(),
        "edit_form": forms.get("edit_form")
        or OrganisationForm(
            auto_id="edit-%s",
            initial={
                field: getattr(organisation, field) for field in ("name", "acronym", "kind", "partnership")
            },
        ),
        "agreement_form": forms.get("agreement_form")
        or AgreementForm(
            auto_id="dsa-%s",
            initial={"signed_on": organisation.dsa_signed_on, "expires_on": organisation.dsa_expires_on},
        ),
        "focal_point_form": forms.get("focal_point_form") or FocalPointForm(auto_id="fp-%s"),
        "state_error": forms.get("state_error"),
    }
    return render(request, "console/operation/organisation.html", context, status=status)


@require_GET
@platform_admin_required
def organisation_detail(request, organisation_id):
    organisation = _organisation(request, organisation_id)
    if organisation is None:
        return not_found(request)
    return _detail(request, organisation)


def _organisation_form_post(request, organisation_id, *, form_class, auto_id, slot, perform, field_of=None):
    """One of the organisation page's forms posted: parse it, call the service, and either go back to
    the page with the service's words of success, or show the page again with the refusal next to
    its field (``field_of(error)`` names the field when the service calls it otherwise)."""
    organisation = _organisation(request, organisation_id)
    if organisation is None:
        return not_found(request)
    form = form_class(request.POST, auto_id=auto_id)
    if not form.is_valid():
        return _detail(request, organisation, 400, **{slot: form})
    try:
        done = perform(organisation, form.cleaned_data)
    except ServiceError as error:
        organisation.refresh_from_db()  # a half-applied change must not show as saved
        status = _refusal(form, error, field_of(error) if field_of else None)
        return _detail(request, organisation, status, **{slot: form})
    messages.success(request, done)
    return redirect("console:operation-organisation", organisation_id=organisation.pk)


@require_POST
@platform_admin_required
def organisation_edit(request, organisation_id):
    def perform(organisation, data):
        services.organisation_update(actor=request.user, organisation=organisation, **data)
        return _("The organisation's details are saved.")

    return _organisation_form_post(
        request,
        organisation_id,
        form_class=OrganisationForm,
        auto_id="edit-%s",
        slot="edit_form",
        perform=perform,
    )


@require_POST
@platform_admin_required
def organisation_agreement(request, organisation_id):
    def perform(organisation, data):
        services.organisation_record_dsa(actor=request.user, organisation=organisation, **data)
        return _("The data-sharing agreement is recorded.")

    return _organisation_form_post(
        request,
        organisation_id,
        form_class=AgreementForm,
        auto_id="dsa-%s",
        slot="agreement_form",
        perform=perform,
        # the database's own check (expiry after signature) names no field: it is the expiry's
        field_of=lambda error: error.field or "expires_on",
    )


@require_POST
@platform_admin_required
def organisation_focal_point(request, organisation_id):
    def perform(organisation, data):
        membership = services.focal_point_appoint_by_username(
            actor=request.user, organisation=organisation, **data
        )
        names = {"username": membership.user.get_username()}
        if data["create_user"]:
            return _("%(username)s is the focal point. The activation link was e-mailed to them.") % names
        return _("%(username)s is the focal point.") % names

    return _organisation_form_post(
        request,
        organisation_id,
        form_class=FocalPointForm,
        auto_id="fp-%s",
        slot="focal_point_form",
        perform=perform,
        # the service names the account "user"; here it is typed as a username
        field_of=lambda error: "username" if error.field == "user" else None,
    )


@require_POST
@platform_admin_required
def organisation_activation_resend(request, organisation_id):
    organisation = _organisation(request, organisation_id)
    if organisation is None:
        return not_found(request)
    focal_point = selectors.focal_point_of(user=request.user, organisation=organisation)
    if focal_point is None:
        return not_found(request)
    try:
        services.account_activation_resend(actor=request.user, membership=focal_point)
    except ServiceError as error:
        message = str(ERROR_WORDS.get(error.code, error.message))
        return _detail(request, organisation, error.status, state_error=message)
    messages.success(request, _("A new activation link was e-mailed to the focal point."))
    return redirect("console:operation-organisation", organisation_id=organisation.pk)


@require_POST
@platform_admin_required
def organisation_active(request, organisation_id):
    """Deactivate (``active=off``) or reactivate (``active=on``) the organisation."""
    organisation = _organisation(request, organisation_id)
    if organisation is None:
        return not_found(request)
    wanted = request.POST.get("active")
    if wanted not in ("on", "off"):
        return _detail(request, organisation, 400, state_error=_("Choose to deactivate or to reactivate."))
    try:
        services.organisation_update(actor=request.user, organisation=organisation, is_active=wanted == "on")
    except ServiceError as error:
        organisation.refresh_from_db()
        message = str(ERROR_WORDS.get(error.code, error.message))
        return _detail(request, organisation, error.status, state_error=message)
    if wanted == "on":
        messages.success(request, _("The organisation is active again."))
    else:
        messages.success(request, _("The organisation is deactivated: it receives no referrals."))
    return redirect("console:operation-organisation", organisation_id=organisation.pk)


# HSDS import ---------------------------------------------------------------------------------


def _report_rows(report: imports.ImportReport) -> list[dict]:
    tables = sorted(
        set(report.created) | set(report.updated) | set(report.unchanged) | set(report.skipped),
        key=lambda table: list(HSDS_TABLE_LABELS).index(table) if table in HSDS_TABLE_LABELS else 99,
    )
    return [
        {
            "table": label(HSDS_TABLE_LABELS, table),
            "created": report.created[table],
            "updated": report.updated[table],
            "unchanged": report.unchanged[table],
            "skipped": report.skipped[table],
        }
        for table in tables
    ]


def _report_context(report: imports.ImportReport) -> dict:
    return {
        "report": report,
        "report_rows": _report_rows(report),
        "not_kept": sorted(report.not_kept.items()),
    }


def _import_problem(error: ServiceError) -> dict:
    """The importer stops at the first problem and says where: file, row (or place), field."""
    return {
        "file": getattr(error, "file", None),
        "row": getattr(error, "row", None),
        "field": error.field if error.field not in ImportForm.base_fields else None,
        "text": getattr(error, "problem", None) or str(ERROR_WORDS.get(error.code, error.message)),
    }


def _import_refusal(form, error: ServiceError) -> None:
    field = "operation" if error.code == "hsds_operation_required" else "files"
    form.add_error(
        field, str(ERROR_WORDS.get(error.code, _("The file cannot be imported; nothing was saved.")))
    )


GONE = gettext_lazy("This upload is no longer available; upload the file again.")


@require_http_methods(["GET", "POST"])
@platform_admin_required
def import_upload(request):
    """Upload, then the dry run: what would be created, updated, skipped — nothing is saved."""
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    context, status = {"form": form}, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            token = None
            try:
                token = uploads.hsds_upload_stage(actor=request.user, files=form.cleaned_data["files"])
                folder = uploads.hsds_upload_path(actor=request.user, token=token)
                report = imports.hsds_import(
                    path=folder, actor=request.user, operation=form.cleaned_data["operation"], dry_run=True
                )
            except ServiceError as error:
                if token:
                    uploads.hsds_upload_discard(actor=request.user, token=token)
                _import_refusal(form, error)
                status, context["problem"] = error.status, _import_problem(error)
            else:
                run_form = ImportRunForm(
                    initial={"upload": token, "operation": form.cleaned_data["operation"]}
                )
                context = {
                    **_report_context(report),
                    "run_form": run_form,
                    "files": uploads.hsds_upload_files(actor=request.user, token=token),
                }
                return render(request, "console/operation/import_preview.html", context)
    return render(request, "console/operation/import.html", context, status=status)


@require_POST
@platform_admin_required
def import_run(request):
    """Import what the dry run showed, from the same staged files; then they are discarded."""
    form = ImportRunForm(request.POST)
    if not form.is_valid():
        return _import_page(request, {"text": str(GONE)}, 400)
    token = form.cleaned_data["upload"]
    try:
        folder = uploads.hsds_upload_path(actor=request.user, token=token)
        report = imports.hsds_import(
            path=folder, actor=request.user, operation=form.cleaned_data["operation"]
        )
    except NotFound:
        return _import_page(request, {"text": str(GONE)}, 404)
    except ServiceError as error:
        uploads.hsds_upload_discard(actor=request.user, token=token)
        return _import_page(request, _import_problem(error), error.status)
    uploads.hsds_upload_discard(actor=request.user, token=token)
    return render(request, "console/operation/import_done.html", _report_context(report))


def _import_page(request, problem: dict, status: int):
    return render(
        request, "console/operation/import.html", {"form": ImportForm(), "problem": problem}, status=status
    )


urlpatterns = [
    path("operation", landing, name="operation"),
    path("operation/organisations/new", organisation_new, name="operation-organisation-new"),
    path("operation/organisations/<str:organisation_id>", organisation_detail, name="operation-organisation"),
    path(
        "operation/organisations/<str:organisation_id>/edit",
        organisation_edit,
        name="operation-organisation-edit",
    ),
    path(
        "operation/organisations/<str:organisation_id>/agreement",
        organisation_agreement,
        name="operation-organisation-agreement",
    ),
    path(
        "operation/organisations/<str:organisation_id>/focal-point",
        organisation_focal_point,
        name="operation-organisation-focal-point",
    ),
    path(
        "operation/organisations/<str:organisation_id>/activation-link",
        organisation_activation_resend,
        name="operation-organisation-activation",
    ),
    path(
        "operation/organisations/<str:organisation_id>/active",
        organisation_active,
        name="operation-organisation-active",
    ),
    path("operation/import", import_upload, name="operation-import"),
    path("operation/import/run", import_run, name="operation-import-run"),
]
