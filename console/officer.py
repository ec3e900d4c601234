"""The protection officer's pages: find or register a person, their consents, requests and receipts.

Thin renderings of ``consent.selectors`` and ``consent.services``, the same the REST and GraphQL
APIs use. Who may read or write is theirs to decide: a person or consent outside the viewer's
organisation is simply not in ``person_list_visible`` / ``consent_list_visible`` (→ the one 404
page), and a viewer's attempt to record is refused by the service (shown as a message, 403). Every
page that shows personal data logs the read (``personal_data_read(..., api="console")``).
"""

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, ServiceError
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import PersonReadLog
from consent.receipt import receipt_context
from console.forms import STATUS_LABELS
from console.labels import (
    AGE_BAND_LABELS,
    CHANNEL_LABELS,
    COLLECTION_METHOD_LABELS,
    CONSENT_STATE_LABELS,
    FIELD_LABELS,
    LEGAL_BASIS_LABELS,
    PREFERRED_CHANNEL_LABELS,
    RECIPIENT_SCOPE_LABELS,
    REQUEST_KIND_LABELS,
    SEX_LABELS,
    label,
)
from console.officer_forms import ConsentForm, PersonForm, RequestForm, SearchForm, WithdrawForm
from console.officer_labels import REQUEST_STATUS_LABELS, error_words
from console.shared import not_found, sign_in_required
from partners.models import ServiceCategory
from partners.selectors import location_list_visible, organisation_list_visible
from referrals.selectors import SENT, referral_list

API = PersonReadLog.Api.CONSOLE
SENT_SHOWN = 50


# Fetching (another organisation's object is the same "not found" as a missing one) -------------


def _person_or_none(request, person_id):
    try:
        uuid.UUID(str(person_id))
    except ValueError:
        return None
    return consent_selectors.person_list_visible(user=request.user).filter(pk=person_id).first()


def _consent_or_none(request, consent_id):
    try:
        uuid.UUID(str(consent_id))
    except ValueError:
        return None
    return (
        consent_selectors.consent_list_visible(user=request.user)
        .select_related("person", "supersedes")
        .filter(pk=consent_id)
        .first()
    )


def _refused(form, error: ServiceError) -> int:
    """The service's refusal next to the field it names (or above the form); the status to answer."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error_words(error))
    return error.status


def _logged(request, people, what: str) -> None:
    consent_services.personal_data_read(
        user=request.user, person_ids=[person.pk for person in people], what=what, api=API
    )


def _locations(request):
    return location_list_visible(user=request.user).order_by("name")


# Find a person -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@sign_in_required
def people(request):
    """Search by name or registration number: by POST, so that neither lands in an address."""
    form = SearchForm(request.POST or None)
    found, searched = [], False
    if request.method == "POST" and form.is_valid():
        searched = True
        number = form.cleaned_data["registration_number"].strip()
        name = form.cleaned_data["name"].strip()
        if number:
            rows = consent_selectors.person_find_by_registration_number(
                user=request.user, registration_number=number
            )
            if name:
                rows = rows & consent_selectors.person_find_by_name(user=request.user, name=name)
        else:
            rows = consent_selectors.person_find_by_name(user=request.user, name=name)
        found = list(rows.order_by("-created_at")[:SENT_SHOWN])
        _logged(request, found, PersonReadLog.What.PERSON)
    context = {
        "form": form,
        "searched": searched,
        "found": [(person, label(AGE_BAND_LABELS, person.age_band)) for person in found],
    }
    return render(request, "console/officer/people.html", context, status=400 if form.errors else 200)


# Register and edit -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@sign_in_required
def person_new(request):
    form = PersonForm(request.POST or None, locations=_locations(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                person = consent_services.person_create(actor=request.user, **form.cleaned_data)
            except ServiceError as error:
                status = _refused(form, error)
            else:
                messages.success(request, _("The person is registered."))
                return redirect("console:person", person_id=person.pk)
        else:
            status = 400
    return render(request, "console/officer/person_form.html", {"form": form, "person": None}, status=status)


@require_http_methods(["GET", "POST"])
@sign_in_required
def person_edit(request, person_id):
    person = _person_or_none(request, person_id)
    if person is None:
        return not_found(request)
    initial = PersonForm.initial_for(person)
    form = PersonForm(request.POST or None, initial=initial, locations=_locations(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                consent_services.person_update(actor=request.user, person=person, **changed)
            except NotFound:
                return not_found(request)
            except ServiceError as error:
                status = _refused(form, error)
            else:
                messages.success(request, _("The person's details are saved."))
                return redirect("console:person", person_id=person.pk)
        else:
            status = 400
    else:
        _logged(request, [person], PersonReadLog.What.PERSON)
    return render(
        request, "console/officer/person_form.html", {"form": form, "person": person}, status=status
    )


# The person page ---------------------------------------------------------------------------


def _sent_for(request, person):
    """Referrals the viewer's organisation sent for this person, as the sent list shows them."""
    return list(
        referral_list(user=request.user, direction=SENT)
        .filter(person_id=person.pk)
        .select_related("to_organisation")[:SENT_SHOWN]
    )


def _consent_rows(records, organisations, categories, withdraw_forms):
    rows = []
    for record in records:
        rows.append(
            {
                "record": record,
                "state": label(CONSENT_STATE_LABELS, record.state),
                "method": label(COLLECTION_METHOD_LABELS, record.collection_method),
                "basis": label(LEGAL_BASIS_LABELS, record.legal_basis),
                "purposes": [categories.get(code, code) for code in record.purposes],
                "scope": label(RECIPIENT_SCOPE_LABELS, record.recipient_scope),
                "recipients": [organisations.get(pk, str(pk)) for pk in record.recipients],
                "categories": [label(FIELD_LABELS, code) for code in record.data_categories],
                "withdrawal_channel": label(CHANNEL_LABELS, record.withdrawal_channel),
                # a refused withdrawal keeps its form on the page, to say why
                "may_withdraw": record.status == record.Status.ACTIVE or record.pk in withdraw_forms,
                "withdraw_form": withdraw_forms.get(record.pk)
                or WithdrawForm(prefix=f"w{record.pk.hex[:8]}", auto_id=f"w{record.pk.hex[:8]}-%s"),
            }
        )
    return rows


def _person_page(request, person, *, withdraw_forms=None, request_form=None, status=200):
    records = list(
        consent_selectors.consent_list_visible(user=request.user)
        .filter(person=person)
        .order_by("-obtained_at", "-version")
    )
    requests = list(
        consent_selectors.data_subject_request_list_visible(user=request.user).filter(person=person)
    )
    recipient_ids = {pk for record in records for pk in record.recipients}
    organisations = {
        org.pk: f"{org.name} ({org.acronym})"
        for org in organisation_list_visible(user=request.user).filter(pk__in=recipient_ids)
    }
    codes = {code for record in records for code in record.purposes}
    categories = dict(ServiceCategory.objects.filter(code__in=codes).values_list("code", "name"))
    _logged(request, [person], PersonReadLog.What.PERSON)
    if records:
        _logged(request, [person], PersonReadLog.What.CONSENT)
    if requests:
        _logged(request, [person], PersonReadLog.What.REQUEST)
    sent = _sent_for(request, person)
    context = {
        "person": person,
        "details": [
            (FIELD_LABELS["registration_number"], person.registration_number),
            (FIELD_LABELS["given_name"], person.given_name),
            (FIELD_LABELS["family_name"], person.family_name),
            (FIELD_LABELS["phone"], person.phone),
            (FIELD_LABELS["best_time_to_call"], person.best_time_to_call),
            (FIELD_LABELS["preferred_language"], person.preferred_language),
            (FIELD_LABELS["preferred_channel"], label(PREFERRED_CHANNEL_LABELS, person.preferred_channel)),
            (FIELD_LABELS["sex"], label(SEX_LABELS, person.sex)),
            (FIELD_LABELS["date_of_birth"], person.date_of_birth),
            (FIELD_LABELS["age_band"], label(AGE_BAND_LABELS, person.age_band)),
            (FIELD_LABELS["location"], person.location.name if person.location else ""),
            (_("Address details"), person.location_detail),
            (FIELD_LABELS["household_size"], person.household_size),
            (FIELD_LABELS["specific_needs"], ", ".join(person.specific_needs or [])),
            (FIELD_LABELS["protection_concerns"], person.protection_concerns),
            (FIELD_LABELS["narrative"], person.narrative),
        ],
        "consents": _consent_rows(records, organisations, categories, withdraw_forms or {}),
        "requests": [
            (r, label(REQUEST_KIND_LABELS, r.kind), label(REQUEST_STATUS_LABELS, r.status)) for r in requests
        ],
        "request_form": request_form or RequestForm(auto_id="dsr-%s"),
        "sent": [(r, STATUS_LABELS.get(r.status, r.status)) for r in sent],
    }
    return render(request, "console/officer/person.html", context, status=status)


@require_GET
@sign_in_required
def person_detail(request, person_id):
    person = _person_or_none(request, person_id)
    if person is None:
        return not_found(request)
    return _person_page(request, person)


@require_POST
@sign_in_required
def request_new(request, person_id):
    person = _person_or_none(request, person_id)
    if person is None:
        return not_found(request)
    form = RequestForm(request.POST, auto_id="dsr-%s")
    if not form.is_valid():
        return _person_page(request, person, request_form=form, status=400)
    try:
        consent_services.data_subject_request_create(actor=request.user, person=person, **form.cleaned_data)
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        status = _refused(form, error)
        return _person_page(request, person, request_form=form, status=status)
    messages.success(request, _("The request is recorded."))
    return redirect("console:person", person_id=person.pk)


# Consent -----------------------------------------------------------------------------------


def _consent_form(request, data=None, initial=None):
    purposes = list(ServiceCategory.objects.order_by("name").values_list("code", "name"))
    organisations = [
        (str(org.pk), f"{org.name} ({org.acronym})")
        for org in organisation_list_visible(user=request.user).order_by("name")
    ]
    return ConsentForm(data, initial=initial, purposes=purposes, organisations=organisations)


def _consent_page(request, *, person, previous, form, status=200):
    context = {"person": person, "previous": previous, "form": form}
    return render(request, "console/officer/consent_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@sign_in_required
def consent_new(request, person_id):
    person = _person_or_none(request, person_id)
    if person is None:
        return not_found(request)
    form = _consent_form(
        request,
        request.POST or None,
        initial={"language": person.preferred_language, "legal_basis": "consent"},
    )
    if request.method == "GET":
        return _consent_page(request, person=person, previous=None, form=form)
    if not form.is_valid():
        return _consent_page(request, person=person, previous=None, form=form, status=400)
    try:
        record = consent_services.consent_create(actor=request.user, person=person, **form.service_values())
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        status = _refused(form, error)
        return _consent_page(request, person=person, previous=None, form=form, status=status)
    messages.success(request, _("The consent is recorded. Print the receipt and give it to the person."))
    return redirect("console:receipt", consent_id=record.pk)


@require_http_methods(["GET", "POST"])
@sign_in_required
def consent_version(request, consent_id):
    previous = _consent_or_none(request, consent_id)
    if previous is None:
        return not_found(request)
    person = previous.person
    form = _consent_form(request, request.POST or None, initial=ConsentForm.initial_from(previous))
    if request.method == "GET":
        _logged(request, [person], PersonReadLog.What.CONSENT)
        return _consent_page(request, person=person, previous=previous, form=form)
    if not form.is_valid():
        return _consent_page(request, person=person, previous=previous, form=form, status=400)
    try:
        record = consent_services.consent_new_version(
            actor=request.user, previous=previous, **form.service_values()
        )
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        status = _refused(form, error)
        return _consent_page(request, person=person, previous=previous, form=form, status=status)
    messages.success(request, _("The new version is recorded; the previous one is replaced."))
    return redirect("console:receipt", consent_id=record.pk)


def _resting_on(request, record):
    return {
        r.pk: r
        for r in referral_list(user=request.user, direction=SENT)
        .filter(consent_id__in=record.lineage_ids())
        .select_related("to_organisation")
    }


def _cascade_message(before: dict, after: dict) -> str:
    """What the withdrawal did to the referrals that rested on the consent, read after the fact."""
    withdrawn = [r for pk, r in after.items() if before[pk].status != r.status]
    erased = [r for pk, r in after.items() if before[pk].payload_erased_at is None and r.payload_erased_at]
    if not withdrawn and not erased:
        return _("The consent is withdrawn. No referral rested on it.")
    told = sorted({r.to_organisation.name for r in erased})
    return " ".join(
        [
            _("The consent is withdrawn."),
            ngettext(
                "%(count)d referral that rested on it was withdrawn.",
                "%(count)d referrals that rested on it were withdrawn.",
                len(withdrawn),
            )
            % {"count": len(withdrawn)},
            _(
                "The information shared was erased, and these organisations were told to delete "
                "their copy: %(organisations)s."
            )
            % {"organisations": ", ".join(told)}
            if told
            else "",
        ]
    ).strip()


@require_POST
@sign_in_required
def consent_withdraw(request, consent_id):
    record = _consent_or_none(request, consent_id)
    if record is None:
        return not_found(request)
    prefix = f"w{record.pk.hex[:8]}"
    form = WithdrawForm(request.POST, prefix=prefix, auto_id=f"{prefix}-%s")
    person = record.person
    if not form.is_valid():
        return _person_page(request, person, withdraw_forms={record.pk: form}, status=400)
    before = _resting_on(request, record)
    try:
        consent_services.consent_withdraw(actor=request.user, record=record, **form.cleaned_data)
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        status = _refused(form, error)
        return _person_page(request, person, withdraw_forms={record.pk: form}, status=status)
    messages.success(request, _cascade_message(before, _resting_on(request, record)))
    return redirect("console:person", person_id=person.pk)


@require_GET
@sign_in_required
def receipt(request, consent_id):
    record = _consent_or_none(request, consent_id)
    if record is None:
        return not_found(request)
    _logged(request, [record.person], PersonReadLog.What.CONSENT)
    context = {"receipt": receipt_context(record), "person": record.person}
    return render(request, "console/officer/receipt.html", context)


urlpatterns = [
    path("people", people, name="people"),
    path("people/new", person_new, name="person-new"),
    path("people/<str:person_id>", person_detail, name="person"),
    path("people/<str:person_id>/edit", person_edit, name="person-edit"),
    path("people/<str:person_id>/consent/new", consent_new, name="consent-new"),
    path("people/<str:person_id>/requests", request_new, name="request-new"),
    path("consents/<str:consent_id>/new-version", consent_version, name="consent-version"),
    path("consents/<str:consent_id>/withdraw", consent_withdraw, name="consent-withdraw"),
    path("consents/<str:consent_id>/receipt", receipt, name="receipt"),
]
