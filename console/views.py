"""The console's pages: thin renderings of the same selectors, facts and services as the APIs.

Nothing here decides who sees what or which action is allowed: the inbox is
``referrals.selectors.referral_listing``, a referral page shows what ``facts_for`` gives and offers
the actions of ``allowed_actions``, and every button posts to ``referrals.services``. A referral the
person may not see answers the same 404 page as one that does not exist.
"""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, ServiceError
from console.forms import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    CompleteForm,
    DeclineForm,
    InboxFilterForm,
    SignInForm,
)
from console.shared import not_found, sign_in_required
from partners.signin import credentials_check
from referrals import services
from referrals.models import AccessLog
from referrals.selectors import RECEIVED, events_of, facts_for, referral_get, referral_listing

PAGE_SIZE = 25
# the buttons of a received referral, in the order a caseworker meets them
ACTIONS = ("acknowledge", "accept", "decline", "complete")


def _sign_in_error(error: ServiceError) -> str:
    """The console's words for why a sign-in was refused (the API keeps the service's English)."""
    if error.code == "login_locked":
        minutes = max(1, -(-int(error.extra.get("retry_after", 60)) // 60))
        return _(
            "Too many failed sign-ins for this account or from this address. Try again in %(minutes)s "
            "minutes, or ask your focal point to unlock your account."
        ) % {"minutes": minutes}
    if error.code == "otp_required":
        return _("This account needs the one-time code from its authenticator app.")
    if error.code == "otp_invalid":
        return _("The one-time code is wrong or was already used.")
    return _("Wrong username or password.")


@require_http_methods(["GET", "POST"])
def sign_in(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    form = SignInForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            user = credentials_check(request, **form.cleaned_data)
        except ServiceError as error:
            form.add_error("otp" if error.field == "otp" else None, _sign_in_error(error))
            status = 429 if error.code == "login_locked" else 401
            retry_after = error.extra.get("retry_after")
        else:
            login(request, user)  # a new session key and CSRF token: nothing from before sign-in carries over
            return redirect(target or "console:inbox")
    response = render(request, "console/sign_in.html", {"form": form, "next": target}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def sign_out(request):
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("console:sign-in")


@require_GET
@sign_in_required
def inbox(request):
    form = InboxFilterForm(request.GET)
    rows, count, next_query = [], 0, None
    if not form.is_valid():
        messages.error(
            request, _("These filters cannot be used: %(reason)s") % {"reason": _("unknown value")}
        )
    else:
        data = form.cleaned_data
        filters = {
            "status": data["status"] or None,
            "urgency": data["urgency"] or None,
            "overdue": True if data["overdue"] else None,
        }
        try:
            listing = referral_listing(
                user=request.user, direction=RECEIVED, filters=filters, assigned_to_me=data["mine"]
            )
            after = listing.decode_cursor(data["after"]) if data["after"] else None
            rows = listing.page(first=PAGE_SIZE, after=after)
            count = listing.count()
        except ServiceError as error:
            messages.error(request, _("These filters cannot be used: %(reason)s") % {"reason": error.message})
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            query = request.GET.copy()
            query["after"] = listing.cursor_of(rows[-1])
            next_query = query.urlencode()
    context = {
        "form": form,
        "rows": [(row, STATUS_LABELS.get(row.status), URGENCY_LABELS.get(row.urgency)) for row in rows],
        "count": count,
        "next_query": next_query,
    }
    partial = request.htmx and request.htmx.target == "inbox"
    return render(request, "console/_inbox_list.html" if partial else "console/inbox.html", context)


@require_GET
@sign_in_required
def referral_detail(request, referral_id):
    try:
        referral = referral_get(user=request.user, referral_id=referral_id)
    except NotFound:
        return not_found(request)
    facts = facts_for(user=request.user, referral=referral)
    if facts.payload:
        services.payload_read(user=request.user, referrals=[referral], api=AccessLog.Api.CONSOLE)
    events = list(events_of(referral=referral))
    context = {
        "referral": referral,
        "facts": facts,
        "status_label": STATUS_LABELS.get(referral.status),
        "urgency_label": URGENCY_LABELS.get(referral.urgency),
        "outcome_label": OUTCOME_LABELS.get(referral.outcome) if referral.outcome else None,
        "payload": sorted(facts.payload.items()) if facts.payload else [],
        "events": [(event, STATUS_LABELS.get(event.to_status, event.get_kind_display())) for event in events],
        "actions": [action for action in ACTIONS if facts.can(action)],
        "decline_form": DeclineForm(auto_id="decline-%s"),
        "complete_form": CompleteForm(auto_id="complete-%s"),
    }
    return render(request, "console/referral.html", context)


ACTION_DONE = {
    "acknowledge": gettext_lazy("Referral acknowledged."),
    "accept": gettext_lazy("Referral accepted."),
    "decline": gettext_lazy("Referral declined."),
    "complete": gettext_lazy("Outcome recorded; the referral is completed."),
}


@require_POST
@sign_in_required
def referral_act(request, referral_id, action):
    try:
        referral = referral_get(user=request.user, referral_id=referral_id)
    except NotFound:
        return not_found(request)
    if action not in ACTIONS:
        return not_found(request)
    try:
        # the form's values go to the service as typed: the reason and outcome rules are its own
        services.referral_transition(
            actor=request.user,
            referral=referral,
            action=action,
            reason_code=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
            outcome=request.POST.get("outcome", ""),
        )
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(ACTION_DONE[action]))
    return redirect("console:referral", referral_id=referral.pk)
