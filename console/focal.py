"""The focal point's pages: the organisation, its members, its services and its webhooks.

Thin renderings of the partners and notifications services and selectors, as the REST API is: the
organisation a person manages is ``partners.selectors.organisation_managed`` (anyone but its active
focal point is refused, 403), its services ``service_list_managed``, its members
``membership_list_visible``, its webhooks ``webhook_endpoint_list_visible``. Another organisation's
member, service, endpoint or delivery is the same 404 page as a missing one. A service's refusal is
shown next to the field it names, with the service's status (400, 403, 409).
"""

import uuid
from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, PermissionDenied, ServiceError
from console import focal_forms as forms
from console.focal_labels import (
    DELIVERY_STATUS_LABELS,
    ENDPOINT_STATUS_LABELS,
    NOTIFICATION_KIND_LABELS,
    ORGANISATION_KIND_LABELS,
    RECEIVE_REFUSAL_LABELS,
    error_words,
)
from console.labels import FIELD_LABELS, ROLE_LABELS, SEX_LABELS, label
from console.shared import not_found, sign_in_required
from notifications import services as notification_services
from notifications.selectors import (
    webhook_delivery_get_visible,
    webhook_delivery_list,
    webhook_endpoint_get_visible,
    webhook_endpoint_list_visible,
)
from partners import services as partner_services
from partners.models import Service
from partners.selectors import (
    location_list_visible,
    membership_list_visible,
    organisation_can_receive_referrals,
    organisation_managed,
    service_category_list,
    service_list_managed,
)

DELIVERIES_SHOWN = 20
# refusals whose service names no field, shown next to the field they are about
FIELD_OF_CODE = {"duplicate_service": "name"}


def focal_point_page(view):
    """The organisation the viewer manages goes to the view; anyone else reads why they cannot."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            organisation = organisation_managed(user=request.user)
        except PermissionDenied as error:
            return _refused(request, error)
        try:
            return view(request, organisation, *args, **kwargs)
        except NotFound:
            return not_found(request)
        except PermissionDenied as error:
            return _refused(request, error)

    return sign_in_required(wrapped)


def _refused(request, error: ServiceError):
    message = error_words(error.code, error.field, error.message)
    return render(request, "console/focal/refused.html", {"message": message}, status=403)


def _pk(value: str) -> uuid.UUID:
    """A well-formed id, or the same 404 as an unknown one."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such object.") from None


def _show_error(form, error: ServiceError) -> int:
    """The service's refusal, next to the field it names; the status to answer with."""
    field = error.field or FIELD_OF_CODE.get(error.code)
    form.add_error(
        field if field in form.fields else None, error_words(error.code, error.field, error.message)
    )
    return error.status


def _attempt(call, **arguments):
    """Call a service: ``(result, None)``, or ``(None, error)`` for a refusal the page shows. Not
    found and not allowed go on up to ``focal_point_page`` (the 404 page, the refusal page)."""
    try:
        return call(**arguments), None
    except (NotFound, PermissionDenied):
        raise
    except ServiceError as error:
        return None, error


def _message_error(request, error: ServiceError) -> None:
    messages.error(request, error_words(error.code, error.field, error.message))


# The organisation ------------------------------------------------------------------------------


@require_GET
@focal_point_page
def overview(request, organisation):
    can_receive, reason = organisation_can_receive_referrals(organisation=organisation)
    context = {
        "organisation": organisation,
        "kind_label": label(ORGANISATION_KIND_LABELS, organisation.kind),
        "dsa_valid": organisation.has_valid_dsa(),
        "can_receive": can_receive,
        "refusal": label(RECEIVE_REFUSAL_LABELS, reason),
    }
    return render(request, "console/focal/overview.html", context)


# Members ------------------------------------------------------------------------------------------


def _member(request, membership_id):
    membership = membership_list_visible(user=request.user).filter(pk=_pk(membership_id)).first()
    if membership is None:
        raise NotFound("No such member.")
    return membership


@require_GET
@focal_point_page
def members(request, organisation):
    rows = membership_list_visible(user=request.user).order_by("-is_active", "user__username")
    context = {
        "organisation": organisation,
        "rows": [(membership, label(ROLE_LABELS, membership.role)) for membership in rows],
    }
    return render(request, "console/focal/members.html", context)


@require_http_methods(["GET", "POST"])
@focal_point_page
def member_invite(request, organisation):
    form = forms.MemberInviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            membership, error = _attempt(
                partner_services.member_add,
                actor=request.user,
                organisation=organisation,
                **form.cleaned_data,
            )
            if error:
                status = _show_error(form, error)
            else:
                messages.success(
                    request,
                    _("%(username)s is invited: an activation link was mailed to them.")
                    % {"username": membership.user.get_username()},
                )
                return redirect("console:focal-member", membership_id=membership.pk)
    return render(request, "console/focal/member_invite.html", {"form": form}, status=status)


def _member_page(request, membership, *, role_form=None, status=200):
    context = {
        "membership": membership,
        "role_label": label(ROLE_LABELS, membership.role),
        "role_form": role_form or forms.RoleForm(initial={"role": membership.role}),
    }
    return render(request, "console/focal/member.html", context, status=status)


@require_http_methods(["GET", "POST"])
@focal_point_page
def member_detail(request, organisation, membership_id):
    """The member's page; a POST changes the role."""
    membership = _member(request, membership_id)
    if request.method == "GET":
        return _member_page(request, membership)
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        return _member_page(request, membership, role_form=form, status=400)
    _result, error = _attempt(
        partner_services.membership_set_role,
        actor=request.user,
        membership=membership,
        role=form.cleaned_data["role"],
    )
    if error:
        return _member_page(request, membership, role_form=form, status=_show_error(form, error))
    messages.success(
        request,
        _("%(username)s is now: %(role)s.")
        % {"username": membership.user.get_username(), "role": label(ROLE_LABELS, form.cleaned_data["role"])},
    )
    return redirect("console:focal-member", membership_id=membership.pk)


@require_http_methods(["GET", "POST"])
@focal_point_page
def member_deactivate(request, organisation, membership_id):
    """A confirmation page first: deactivating signs the member out everywhere at once."""
    membership = _member(request, membership_id)
    status = 200
    if request.method == "POST":
        _result, error = _attempt(
            partner_services.membership_deactivate, actor=request.user, membership=membership
        )
        if error:
            _message_error(request, error)
            status = error.status
        else:
            messages.success(
                request,
                _("%(username)s is deactivated and signed out everywhere.")
                % {"username": membership.user.get_username()},
            )
            return redirect("console:focal-members")
    context = {"membership": membership, "role_label": label(ROLE_LABELS, membership.role)}
    return render(request, "console/focal/member_deactivate.html", context, status=status)


def _member_action(request, membership_id, act, done):
    membership = _member(request, membership_id)
    result, error = _attempt(act, actor=request.user, membership=membership)
    if error:
        _message_error(request, error)
        return _member_page(request, membership, status=error.status)
    messages.success(request, done(membership, result))
    return redirect("console:focal-member", membership_id=membership.pk)


@require_POST
@focal_point_page
def member_unlock(request, organisation, membership_id):
    def done(membership, cleared):
        name = {"username": membership.user.get_username()}
        if cleared:
            return _("%(username)s can sign in again.") % name
        return _("%(username)s was not locked out: nothing to unlock.") % name

    return _member_action(request, membership_id, partner_services.member_login_unlock, done)


@require_POST
@focal_point_page
def member_activation_resend(request, organisation, membership_id):
    def done(membership, _result):
        return _("A new activation link was mailed to %(username)s; the previous one no longer works.") % {
            "username": membership.user.get_username()
        }

    return _member_action(request, membership_id, partner_services.account_activation_resend, done)


# Services -----------------------------------------------------------------------------------------


def _service_form(request, data=None, initial=None):
    return forms.ServiceForm(
        data,
        initial=initial,
        categories=service_category_list(),
        locations=location_list_visible(user=request.user),
    )


def _service_saved(form, save, *, current) -> int | None:
    """Check the form's data against the service's rules (every problem next to its field), then
    save; the status to answer with when something is wrong, None when saved."""
    if not form.is_valid():
        return 400
    problems = partner_services.service_data_problems(form.service_data(), current=current)
    for problem in problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, error_words(problem.code, problem.field, problem.message))
    if problems:
        return 400
    _result, error = _attempt(
        save,
        name=form.cleaned_data["name"],
        category=form.cleaned_data["category"],
        locations=list(form.cleaned_data["locations"]),
        **form.service_data(),
    )
    return _show_error(form, error) if error else None


@require_GET
@focal_point_page
def services(request, organisation):
    rows = [
        (service, [label(FIELD_LABELS, name) for name in service.required_fields])
        for service in service_list_managed(user=request.user)
    ]
    return render(request, "console/focal/services.html", {"organisation": organisation, "rows": rows})


@require_http_methods(["GET", "POST"])
@focal_point_page
def service_new(request, organisation):
    # a new service starts from the model's defaults (the response targets the hub proposes)
    form = _service_form(request, request.POST or None, initial=forms.ServiceForm.initial_of(Service()))
    status, created = 200, []
    if request.method == "POST":

        def save(**data):
            created.append(
                partner_services.service_create(actor=request.user, organisation=organisation, **data)
            )

        status = _service_saved(form, save, current=None)
        if status is None:
            messages.success(request, _("The service is created."))
            return redirect("console:focal-service", service_id=created[0].pk)
    context = {"form": form, "service": None}
    return render(request, "console/focal/service_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@focal_point_page
def service_edit(request, organisation, service_id):
    service = service_list_managed(user=request.user).filter(pk=_pk(service_id)).first()
    if service is None:
        return not_found(request)
    form = _service_form(request, request.POST or None, initial=forms.ServiceForm.initial_of(service))
    status = 200
    if request.method == "POST":
        status = _service_saved(
            form,
            lambda **data: partner_services.service_update(actor=request.user, service=service, **data),
            current=service,
        )
        if status is None:
            messages.success(request, _("The service is saved."))
            return redirect("console:focal-service", service_id=service.pk)
    context = {
        "form": form,
        "service": service,
        "sexes": [label(SEX_LABELS, sex) for sex in service.sexes],
    }
    return render(request, "console/focal/service_form.html", context, status=status)


# Webhooks -----------------------------------------------------------------------------------------


def _endpoint(request, endpoint_id):
    endpoint = webhook_endpoint_get_visible(user=request.user, endpoint_id=_pk(endpoint_id))
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def _events(endpoint) -> list[str]:
    return [label(NOTIFICATION_KIND_LABELS, kind) for kind in endpoint.events]


@require_GET
@focal_point_page
def webhooks(request, organisation):
    rows = [
        (endpoint, _events(endpoint), label(ENDPOINT_STATUS_LABELS, endpoint.last_status))
        for endpoint in webhook_endpoint_list_visible(user=request.user)
    ]
    return render(request, "console/focal/webhooks.html", {"organisation": organisation, "rows": rows})


def _secret_page(request, endpoint, *, created: bool):
    """The secret, this once: it is never shown again (the page is not cached: no-store)."""
    context = {"endpoint": endpoint, "events": _events(endpoint), "created": created}
    return render(request, "console/focal/webhook_secret.html", context, status=201 if created else 200)


@require_http_methods(["GET", "POST"])
@focal_point_page
def webhook_new(request, organisation):
    webhook_endpoint_list_visible(user=request.user)  # the webhooks' own focal point check
    form = forms.WebhookForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            endpoint, error = _attempt(
                notification_services.webhook_endpoint_register, actor=request.user, **form.cleaned_data
            )
            if not error:
                return _secret_page(request, endpoint, created=True)
            status = _show_error(form, error)
    return render(request, "console/focal/webhook_new.html", {"form": form}, status=status)


def _deliveries(endpoint):
    return [
        (
            delivery,
            label(NOTIFICATION_KIND_LABELS, delivery.kind),
            label(DELIVERY_STATUS_LABELS, delivery.status),
        )
        for delivery in webhook_delivery_list(endpoint=endpoint)[:DELIVERIES_SHOWN]
    ]


@require_http_methods(["GET", "POST"])
@focal_point_page
def webhook_detail(request, organisation, endpoint_id):
    """The endpoint, its last deliveries; a POST changes its address, events or pauses it."""
    endpoint = _endpoint(request, endpoint_id)
    initial = {"url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active}
    form = forms.WebhookUpdateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            _result, error = _attempt(
                notification_services.webhook_endpoint_update,
                actor=request.user,
                endpoint=endpoint,
                **form.cleaned_data,
            )
            if not error:
                messages.success(request, _("The webhook is saved."))
                return redirect("console:focal-webhook", endpoint_id=endpoint.pk)
            status = _show_error(form, error)
    context = {
        "endpoint": endpoint,
        "events": _events(endpoint),
        "status_label": label(ENDPOINT_STATUS_LABELS, endpoint.last_status),
        "form": form,
        "deliveries": _deliveries(endpoint),
        "shown": DELIVERIES_SHOWN,
    }
    return render(request, "console/focal/webhook.html", context, status=status)


@require_POST
@focal_point_page
def webhook_rotate(request, organisation, endpoint_id):
    endpoint = notification_services.webhook_secret_rotate(
        actor=request.user, endpoint=_endpoint(request, endpoint_id)
    )
    return _secret_page(request, endpoint, created=False)


@require_http_methods(["GET", "POST"])
@focal_point_page
def webhook_delete(request, organisation, endpoint_id):
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "POST":
        notification_services.webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
        messages.success(request, _("The webhook is deleted: nothing more is sent to it."))
        return redirect("console:focal-webhooks")
    return render(request, "console/focal/webhook_delete.html", {"endpoint": endpoint})


@require_POST
@focal_point_page
def webhook_delivery_replay(request, organisation, delivery_id):
    delivery = webhook_delivery_get_visible(user=request.user, delivery_id=_pk(delivery_id))
    if delivery is None:
        return not_found(request)
    _result, error = _attempt(
        notification_services.webhook_delivery_replay, actor=request.user, delivery=delivery
    )
    if error:
        _message_error(request, error)
    else:
        messages.success(request, _("The delivery is sent again, with the same webhook-id."))
    return redirect("console:focal-webhook", endpoint_id=delivery.endpoint_id)


urlpatterns = [
    path("organisation", overview, name="organisation"),
    path("organisation/members", members, name="focal-members"),
    path("organisation/members/invite", member_invite, name="focal-member-invite"),
    path("organisation/members/<str:membership_id>", member_detail, name="focal-member"),
    path(
        "organisation/members/<str:membership_id>/deactivate",
        member_deactivate,
        name="focal-member-deactivate",
    ),
    path("organisation/members/<str:membership_id>/unlock", member_unlock, name="focal-member-unlock"),
    path(
        "organisation/members/<str:membership_id>/activation-link",
        member_activation_resend,
        name="focal-member-activation",
    ),
    path("organisation/services", services, name="focal-services"),
    path("organisation/services/new", service_new, name="focal-service-new"),
    path("organisation/services/<str:service_id>", service_edit, name="focal-service"),
    path("organisation/webhooks", webhooks, name="focal-webhooks"),
    path("organisation/webhooks/new", webhook_new, name="focal-webhook-new"),
    path("organisation/webhooks/<str:endpoint_id>", webhook_detail, name="focal-webhook"),
    path(
        "organisation/webhooks/<str:endpoint_id>/rotate-secret", webhook_rotate, name="focal-webhook-rotate"
    ),
    path("organisation/webhooks/<str:endpoint_id>/delete", webhook_delete, name="focal-webhook-delete"),
    path(
        "organisation/webhook-deliveries/<str:delivery_id>/replay",
        webhook_delivery_replay,
        name="focal-webhook-replay",
    ),
]
