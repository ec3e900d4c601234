"""The person's public pages under /check/: plain forms that work without JavaScript.

No rule here: the services decide (codes, limits, sessions, withdrawal, requests) and the
selectors read for the session's one person; these views parse, call and render.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language
from rest_framework.throttling import BaseThrottle

from common.errors import NotFound, ServiceError, TooManyRequests
from community import labels, selectors, services, sheet
from community.forms import CodeForm, RequestForm, StartForm, WithdrawForm
from community.models import DoorEvent
from consent.receipt import DATA_CATEGORY_LABELS, receipt_json

CHALLENGE_KEY = "community.challenge"
SESSION_KEY = "community.person_session"
ERROR_WORDING = {
    "status_check_limited": _("Too many tries. Please wait an hour and try again, or ask at a desk."),
    "status_code_invalid": _(
        "This code does not work. Check the SMS, or ask for a new code. A code works for 10 minutes."
    ),
    "consent_already_withdrawn": _("You have already withdrawn this consent."),
    "person_erased": _("Your information has already been deleted."),
}


def _wording(error: ServiceError) -> str:
    return str(ERROR_WORDING.get(error.code, error.message))


def client_address(request) -> str:
    # DRF's trusted-proxy rule (NUM_PROXIES), the one the login limits follow (hub.auth.client_address)
    return BaseThrottle().get_ident(request) or ""


def not_found(request):
    return render(request, "community/not_found.html", status=404)


def person_required(view):
    """The person's live session, or back to the start (an ended session is not an error)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            session = selectors.person_session_get(session_id=request.session.get(SESSION_KEY))
        except NotFound:
            request.session.pop(SESSION_KEY, None)
            return HttpResponseRedirect(reverse("community:start") + "?ended=1")
        return view(request, session, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "POST"])
def start(request):
    form = StartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            challenge = services.status_code_request(
                reference=form.cleaned_data["reference"],
                phone=form.cleaned_data["phone"],
                client_address=client_address(request),
                language=translation.get_language(),
            )
        except TooManyRequests as error:
            form.add_error(None, _wording(error))
            response = render(request, "community/start.html", {"form": form}, status=429)
            response["Retry-After"] = str(error.extra.get("retry_after", 3600))
            return response
        request.session[CHALLENGE_KEY] = str(challenge.pk)
        # the same redirect, with the same empty body, whether or not anyone will be texted
        return HttpResponseRedirect(reverse("community:code"), status=303)
    if request.method == "POST":
        status = 400
    return render(
        request, "community/start.html", {"form": form, "ended": "ended" in request.GET}, status=status
    )


@require_http_methods(["GET", "POST"])
def code(request):
    challenge_id = request.session.get(CHALLENGE_KEY)
    if not challenge_id:
        return HttpResponseRedirect(reverse("community:start"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                session = services.status_code_verify(
                    challenge_id=challenge_id, code=form.cleaned_data["code"]
                )
            except ServiceError as error:
                form.add_error("code", _wording(error))
            else:
                request.session.cycle_key()  # a new session key once the person is known
                request.session.pop(CHALLENGE_KEY, None)
                request.session[SESSION_KEY] = str(session.pk)
                response = HttpResponseRedirect(reverse("community:status"), status=303)
                language = session.challenge.language
                if language:  # the person's preferred language from now on (they may change it)
                    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
                return response
    return render(request, "community/code.html", {"form": form}, status=status)


@require_GET
@person_required
def status(request, session):
    context = {
        "referrals": selectors.person_referrals(session=session),
        "consents": selectors.person_consents(session=session),
        "requests": selectors.person_requests(session=session),
        "stages": labels.STAGES,
        "next_steps": labels.NEXT_STEPS,
        "request_kinds": labels.REQUEST_KINDS,
        "request_statuses": labels.REQUEST_STATUSES,
        "consent_states": labels.CONSENT_STATES,
    }
    services.person_access_record(session=session, kind=DoorEvent.Kind.STATUS_VIEWED)
    return render(request, "community/status.html", context)


@require_GET
@person_required
def consent(request, session, consent_id):
    try:
        record = selectors.person_consent_get(session=session, consent_id=consent_id)
    except NotFound:
        return not_found(request)
    receipt = receipt_json(record)
    services.person_access_record(session=session, kind=DoorEvent.Kind.RECEIPT_VIEWED, subject_id=record.pk)
    context = {
        "record": record,
        "receipt": receipt,
        "categories": [DATA_CATEGORY_LABELS[code] for code in receipt["piiCategories"]],
        "state": labels.label(labels.CONSENT_STATES, record.state),
        "form": WithdrawForm(),
    }
    return render(request, "community/consent.html", context)


@require_POST
@person_required
def withdraw(request, session, consent_id):
    try:
        record = selectors.person_consent_get(session=session, consent_id=consent_id)
    except NotFound:
        return not_found(request)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.person_consent_withdraw(
                session=session, consent_id=record.pk, reason=form.cleaned_data["reason"]
            )
        except NotFound:
            return not_found(request)
        except ServiceError as error:
            form.add_error(None, _wording(error))
        else:
            return render(request, "community/withdrawn.html", {"record": record})
    receipt = receipt_json(record)
    context = {
        "record": record,
        "receipt": receipt,
        "categories": [DATA_CATEGORY_LABELS[code] for code in receipt["piiCategories"]],
        "state": labels.label(labels.CONSENT_STATES, record.state),
        "form": form,
    }
    return render(request, "community/consent.html", context, status=409 if form.non_field_errors() else 400)


@require_http_methods(["GET", "POST"])
@person_required
def request_new(request, session):
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in labels.REQUEST_KINDS else {}
    form = RequestForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                made = services.person_request_make(
                    session=session, kind=form.cleaned_data["kind"], details=form.cleaned_data["details"]
                )
            except ServiceError as error:
                form.add_error("details" if error.field == "details" else None, _wording(error))
                status = 409 if error.status == 409 else 400
            else:
                return render(
                    request,
                    "community/request_made.html",
                    {"made": made, "kind": labels.label(labels.REQUEST_KINDS, made.kind)},
                )
    return render(request, "community/request.html", {"form": form}, status=status)


@require_POST
def sign_out(request):
    try:
        session = selectors.person_session_get(session_id=request.session.get(SESSION_KEY))
    except NotFound:
        pass
    else:
        services.person_session_end(session=session)
    request.session.flush()
    return HttpResponseRedirect(reverse("community:start"), status=303)


@require_GET
def information_sheet(request, operation_id=None):
    try:
        context = sheet.sheet_context(operation_id=operation_id, status_url=sheet.status_url())
    except NotFound:
        return not_found(request)
    return render(request, "community/sheet.html", context)


urlpatterns = [
    path("", start, name="start"),
    path("code", code, name="code"),
    path("status", status, name="status"),
    path("consents/<uuid:consent_id>", consent, name="consent"),
    path("consents/<uuid:consent_id>/withdraw", withdraw, name="withdraw"),
    path("requests/new", request_new, name="request"),
    path("sign-out", sign_out, name="sign-out"),
    path("language", set_language, name="language"),
    path("sheet", information_sheet, name="sheet"),
    path("sheet/<uuid:operation_id>", information_sheet, name="sheet-operation"),
]
