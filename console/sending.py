"""The officer's send flow (need → next steps or directory → preview of what travels → send) and
the referrals the organisation sent (status, due-by, overdue, outcome), with "information given".

Every step is a GET page whose choices travel in the query; the send is a POST. Nothing here
decides what may be sent: the next steps are ``pathways.selectors.pathway_next_steps``, the preview
is ``referrals.services.referral_disclosure_preview`` and ``referral_send_check`` (the very code of
the send), and the send is ``referral_send`` with the idempotency key made when the preview was
shown, so a double click or a resubmitted form sends once.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, ServiceError
from consent.selectors import consent_list_visible, person_list_visible
from console.forms import OUTCOME_LABELS, STATUS_LABELS, URGENCY_LABELS
from console.labels import FIELD_LABELS, LEGAL_BASIS_LABELS, label
from console.sending_forms import (
    DIRECTORY,
    INFORMATION_CHANNEL_LABELS,
    SEND_ERROR_FIELDS,
    SEND_ERROR_LABELS,
    WITHHELD_LABELS,
    ChoicesForm,
    InformationGivenForm,
    NeedForm,
    RouteForm,
    SendForm,
    SentFilterForm,
)
from console.shared import not_found, sign_in_required, viewer_of
from partners.selectors import service_list_visible
from partners.vocabulary import DISCLOSURE_FIELDS
from pathways.selectors import (
    need_list,
    pathway_alternatives,
    pathway_get_visible,
    pathway_link_to,
    pathway_list_for_need,
    pathway_next_steps,
    pathway_start_of,
)
from referrals import services
from referrals.selectors import SENT, information_given_counts, referral_listing

PAGE_SIZE = 25
# refusals after which the person is offered other services of the same kind
OFFER_ALTERNATIVES = ("service_not_accepting", "link_condition_not_met")


def _person(request, person_id):
    try:
        return person_list_visible(user=request.user).get(pk=person_id)
    except (ValueError, ValidationError, person_list_visible(user=request.user).model.DoesNotExist):
        return None


def _service(request, service_id):
    try:
        return service_list_visible(user=request.user).filter(pk=service_id).first()
    except (ValueError, ValidationError):
        return None


def _send_url(person, **query) -> str:
    query = {name: value for name, value in query.items() if value}
    return reverse("console:send", args=[person.pk]) + ("?" + urlencode(query) if query else "")


def _consent_label(record) -> str:
    return _("Version %(version)s, %(basis)s, obtained on %(obtained)s, valid until %(expires)s") % {
        "version": record.version,
        "basis": label(LEGAL_BASIS_LABELS, record.legal_basis),
        "obtained": record.obtained_at.date().isoformat(),
        "expires": record.expires_on.isoformat(),
    }


def _error_message(error: ServiceError) -> str:
    return str(SEND_ERROR_LABELS.get(error.code, error.message))


@require_http_methods(["GET", "POST"])
@sign_in_required
def send(request, person_id):
    person = _person(request, person_id)
    if person is None:
        return not_found(request)
    if request.method == "POST" or "service" in request.GET:
        return _preview(request, person)
    organisation = viewer_of(request).membership.organisation
    needs = list(need_list(user=request.user))
    need_form = NeedForm(request.GET or None, needs=needs)
    context = {"person": person, "need_form": need_form, "step": "need"}
    if not request.GET:
        return render(request, "console/sending/need.html", context)
    if not need_form.is_valid():
        return render(request, "console/sending/need.html", context, status=400)
    need = next(need for need in needs if need.code == need_form.cleaned_data["need"])
    urgency = need_form.cleaned_data["urgency"]
    pathways = list(
        pathway_list_for_need(user=request.user, organisation=organisation, category_code=need.code)
    )
    context.update(need=need, urgency=urgency, urgency_label=URGENCY_LABELS.get(urgency))
    if pathways and "route" not in request.GET:
        context.update(step="route", route_form=RouteForm(pathways=pathways))
        return render(request, "console/sending/route.html", context)
    route_form = RouteForm(request.GET if pathways else {"route": DIRECTORY}, pathways=pathways)
    if not route_form.is_valid():
        context.update(step="route", route_form=route_form)
        return render(request, "console/sending/route.html", context, status=400)
    route = route_form.cleaned_data["route"]
    context["step"] = "choose"
    if route == DIRECTORY:
        directory = service_list_visible(user=request.user).filter(category__code=need.code)
        context["directory"] = [
            (service, _send_url(person, need=need.code, urgency=urgency, service=service.pk))
            for service in directory.order_by("organisation__name", "name")
        ]
        return render(request, "console/sending/choose.html", context)
    pathway = next(pathway for pathway in pathways if str(pathway.pk) == route)
    start = pathway_start_of(pathway=pathway, organisation=organisation)
    profile = services.person_profile(person, urgency)
    offers = pathway_next_steps(pathway=pathway, service_id=start.pk, profile=profile)
    context.update(
        pathway=pathway,
        start=start,
        offers=[
            (
                offer,
                offer.service.category_id == need.pk,
                _send_url(
                    person, need=need.code, urgency=urgency, service=offer.service.pk, pathway=pathway.pk
                ),
            )
            for offer in offers
        ],
        directory_url=_send_url(person, need=need.code, urgency=urgency, route=DIRECTORY),
    )
    return render(request, "console/sending/choose.html", context)


def _preview(request, person):
    """The preview (GET) and the send (POST): the same choices, the same checks, the same page."""
    posting = request.method == "POST"
    data = (request.POST if posting else request.GET).copy()
    to_service = _service(request, data.get("service"))
    if to_service is None:
        return not_found(request)
    consents = list(
        consent_list_visible(user=request.user).filter(person=person).in_force().order_by("-obtained_at")
    )
    for record in consents:
        record.label = _consent_label(record)
    if consents:
        data.setdefault("consent", str(consents[0].pk))
    data.setdefault("urgency", "normal")
    offered = [name for name in DISCLOSURE_FIELDS if name in to_service.optional_fields]
    offered = [name for name in offered if name not in to_service.required_fields]
    form = (SendForm if posting else ChoicesForm)(data, consents=consents, offered=offered)
    context = {"person": person, "service": to_service, "form": form, "step": "preview", "consents": consents}
    if not consents:
        return render(request, "console/sending/preview.html", context, status=409)
    if not form.is_valid():
        return render(request, "console/sending/preview.html", context, status=400)
    choices = form.cleaned_data
    consent = next(record for record in consents if str(record.pk) == choices["consent"])
    urgency, optional = choices["urgency"], choices["optional"]
    organisation = viewer_of(request).membership.organisation
    pathway, from_service, link = None, None, None
    if choices["pathway"]:
        try:
            pathway = pathway_get_visible(user=request.user, pathway_id=choices["pathway"])
        except NotFound:
            return not_found(request)
        from_service = pathway_start_of(pathway=pathway, organisation=organisation)
        if from_service is not None:
            link = pathway_link_to(
                pathway=pathway,
                from_service=from_service,
                to_service=to_service,
                profile=services.person_profile(person, urgency),
            )
        if link is None:
            from_service = None
    arguments = {
        "actor": request.user,
        "person": person,
        "consent": consent,
        "to_service": to_service,
        "from_service": from_service,
        "pathway_link": link,
        "urgency": urgency,
        "optional_fields": optional,
    }
    preview = services.referral_disclosure_preview(
        consent=consent, to_service=to_service, optional_fields=optional
    )
    context.update(
        consent=consent,
        preview=preview,
        travels=[(name, FIELD_LABELS.get(name, name)) for name in preview.travels],
        withheld=[
            (FIELD_LABELS.get(name, name), WITHHELD_LABELS.get(reason, reason))
            for name, reason in preview.withheld
        ],
        narrative_travels="narrative" in preview.travels,
        pathway=pathway if link is not None else None,
        link=link,
        urgency_label=URGENCY_LABELS.get(urgency),
    )
    status = 200
    try:
        if posting:
            referral = services.referral_send(
                **arguments, reason_note=choices["note"], idempotency_key=choices["idempotency_key"]
            )
        else:
            context["plan"] = services.referral_send_check(**arguments)
            context["plan_urgency_label"] = URGENCY_LABELS.get(context["plan"].urgency)
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        form.add_error(SEND_ERROR_FIELDS.get(error.field), _error_message(error))
        status = error.status
        context["alternatives"] = _alternatives(person, to_service, pathway, urgency, error)
    else:
        if posting:
            if getattr(referral, "replayed", False):
                messages.info(request, _("This referral was already sent; here it is."))
            else:
                messages.success(request, _("Referral sent."))
            return redirect("console:referral", referral_id=referral.pk)
    if posting:
        send_form = form
    else:
        # the choices as the officer made them (a refused field has left ``cleaned_data``)
        initial = {name: data.get(name, "") for name in ("need", "service", "pathway", "consent", "urgency")}
        initial.update(optional=optional, idempotency_key=uuid.uuid4().hex)
        send_form = SendForm(initial=initial, consents=consents, offered=offered, auto_id="send-%s")
    # after a refusal the officer changes the choices and looks again; only a refused note keeps the send
    context.update(send_form=send_form, can_send=status == 200 or (posting and form.has_error("note")))
    return render(request, "console/sending/preview.html", context, status=status)


def _alternatives(person, to_service, pathway, urgency, error: ServiceError) -> list:
    """Other services of the same kind, each one click from its own preview."""
    if error.code not in OFFER_ALTERNATIVES:
        return []
    if "alternatives" in error.extra:
        offers = [
            (offer["name"], offer["organisation"], offer["service"], offer["pathway"])
            for offer in error.extra["alternatives"]
        ]
    else:
        found = pathway_alternatives(
            service=to_service, profile=services.person_profile(person, urgency), pathway=pathway
        )
        offers = [(o.service.name, o.service.organisation.acronym, o.service.pk, o.pathway.pk) for o in found]
    return [
        (name, acronym, _send_url(person, service=service_id, pathway=pathway_id, urgency=urgency))
        for name, acronym, service_id, pathway_id in offers
    ]


# Referrals sent --------------------------------------------------------------------------------


def _sent_context(request, information_form=None) -> tuple[dict, int]:
    form = SentFilterForm(request.GET)
    rows, count, next_query, status = [], 0, None, 200
    if not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data
        filters = {
            "status": data["status"] or None,
            "urgency": data["urgency"] or None,
            "overdue": True if data["overdue"] else None,
        }
        try:
            listing = referral_listing(user=request.user, direction=SENT, filters=filters)
            after = listing.decode_cursor(data["after"]) if data["after"] else None
            rows = listing.page(first=PAGE_SIZE, after=after)
            count = listing.count()
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            status = 400
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            query = request.GET.copy()
            query["after"] = listing.cursor_of(rows[-1])
            next_query = query.urlencode()
    directory = list(service_list_visible(user=request.user).order_by("name", "organisation__acronym"))
    context = {
        "form": form,
        "rows": [
            (
                row,
                STATUS_LABELS.get(row.status),
                URGENCY_LABELS.get(row.urgency),
                OUTCOME_LABELS.get(row.outcome) if row.outcome else "",
            )
            for row in rows
        ],
        "count": count,
        "next_query": next_query,
        "information_form": information_form or InformationGivenForm(services=directory, auto_id="info-%s"),
        "information_counts": [
            (
                row["service__name"],
                INFORMATION_CHANNEL_LABELS.get(row["channel"], row["channel"]),
                row["count"],
            )
            for row in information_given_counts(user=request.user)
        ],
    }
    return context, status


@require_GET
@sign_in_required
def sent(request):
    context, status = _sent_context(request)
    partial = request.htmx and request.htmx.target == "sent"
    template = "console/sending/_sent_list.html" if partial else "console/sending/sent.html"
    return render(request, template, context, status=status)


@require_POST
@sign_in_required
def information(request):
    directory = list(service_list_visible(user=request.user).order_by("name", "organisation__acronym"))
    form = InformationGivenForm(request.POST, services=directory, auto_id="info-%s")
    status = 400
    if form.is_valid():
        service = next(service for service in directory if str(service.pk) == form.cleaned_data["service"])
        try:
            services.information_given(
                actor=request.user, service=service, channel=form.cleaned_data["channel"]
            )
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, _error_message(error))
            status = error.status
        else:
            messages.success(
                request, _("Counted: information given about %(service)s.") % {"service": service.name}
            )
            return redirect("console:sent")
    context, _status = _sent_context(request, information_form=form)
    return render(request, "console/sending/sent.html", context, status=status)


urlpatterns = [
    path("sent", sent, name="sent"),
    path("sent/information", information, name="information-given"),
    path("people/<str:person_id>/send", send, name="send"),
]
