"""The console's pages: thin renderings of the same selectors, facts and services as the APIs.

Nothing here decides who sees what or which action is allowed: the inbox is
``referrals.selectors.referral_listing`` with the tab counts of ``referral_tab_counts``, a referral
page shows what ``facts_for`` gives and offers the actions of ``allowed_actions``, and every button
posts to ``referrals.services``. A referral the person may not see answers the same 404 page as one
that does not exist; a refusal is the page again with the service's reason next to its field and
the service's status (400, 403, 409).
"""

import uuid

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, ServiceError
from community.services import status_check_lock_get
from console.forms import (
    DECLINE_REASON_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    InboxFilterForm,
    SignInForm,
)
from console.labels import (
    AGE_BAND_LABELS,
    EVENT_LABELS,
    FIELD_LABELS,
    PREFERRED_CHANNEL_LABELS,
    SEX_LABELS,
    label,
)
from console.partner_forms import (
    ActionForm,
    AssignForm,
    CompleteForm,
    DeclineForm,
    NoteForm,
    ReferOnwardForm,
    WithdrawForm,
)
from console.partner_labels import (
    API_LABELS,
    EVENT_REASON_LABELS,
    REFUSAL_LABELS,
    WITHDRAW_REASON_LABELS,
)
from console.shared import not_found, sign_in_required
from partners.signin import credentials_check
from pathways.models import PathwayLink
from referrals import services
from referrals.models import AccessLog, Referral
from referrals.selectors import (
    RECEIVED,
    access_log_of,
    events_of,
    facts_for,
    referral_assignable_members,
    referral_get,
    referral_listing,
    referral_tab_counts,
)

PAGE_SIZE = 25
ACCESS_LOG_SHOWN = 50
# the actions of a referral page, in the order a person meets them, and the form each one reads
FORMS = {
    "acknowledge": ActionForm,
    "accept": ActionForm,
    "decline": DeclineForm,
    "complete": CompleteForm,
    "refer_onward": ReferOnwardForm,
    "assign": AssignForm,
    "withdraw": WithdrawForm,
    "close": NoteForm,
}
ACTIONS = tuple(FORMS)
# each action's heading and button
ACTION_TEXT = {
    "acknowledge": (gettext_lazy("Acknowledge receipt"), gettext_lazy("Acknowledge")),
    "accept": (gettext_lazy("Accept the referral"), gettext_lazy("Accept")),
    "decline": (gettext_lazy("Decline"), gettext_lazy("Decline")),
    "complete": (gettext_lazy("Record the outcome"), gettext_lazy("Complete")),
    "refer_onward": (gettext_lazy("Refer onward"), gettext_lazy("Refer onward")),
    "assign": (gettext_lazy("Assign to a caseworker"), gettext_lazy("Assign")),
    "withdraw": (gettext_lazy("Withdraw the referral"), gettext_lazy("Withdraw")),
    "close": (gettext_lazy("Close the referral"), gettext_lazy("Close the referral")),
}
SLUGS = {action.replace("_", "-"): action for action in ACTIONS}
# how each value of the shared payload is read (the rest is shown as it is)
VALUE_LABELS = {"sex": SEX_LABELS, "age_band": AGE_BAND_LABELS, "preferred_channel": PREFERRED_CHANNEL_LABELS}
# what an event's reason code means, by the kind of event
REASON_LABELS = {
    "declined": DECLINE_REASON_LABELS,
    "withdrawn": WITHDRAW_REASON_LABELS,
    "completed": OUTCOME_LABELS,
}


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


# the inbox -----------------------------------------------------------------------------------------


def _tabs(data: dict, counts) -> tuple[list[dict], str | None]:
    """The inbox's tabs (all, each status, overdue, assigned to me) with their counts and links, and
    the tab the filters are (None for a mix of them)."""
    keep = {"urgency": data["urgency"]} if data["urgency"] else {}
    tabs = [("all", _("All referrals"), {}, counts.total)]
    tabs += [
        (status, STATUS_LABELS[status], {"status": status}, counts.by_status.get(status, 0))
        for status in Referral.Status.values
    ]
    tabs += [
        ("overdue", _("Overdue"), {"overdue": "on"}, counts.overdue),
        ("mine", _("Assigned to me"), {"mine": "on"}, counts.assigned_to_me),
    ]
    chosen = [name for name in ("status", "overdue", "mine") if data[name]]
    if not chosen:
        current = "all"
    elif len(chosen) > 1:
        current = None
    else:
        current = data["status"] or chosen[0]
    rows = []
    for key, text, query, count in tabs:
        params = QueryDict(mutable=True)
        params.update({**query, **keep})
        rows.append(
            {
                "key": key,
                "label": text,
                "count": count,
                "query": params.urlencode(),
                "current": key == current,
            }
        )
    return rows, current


@require_GET
@sign_in_required
def inbox(request):
    form = InboxFilterForm(request.GET)
    rows, count, next_query, tabs, status = [], 0, None, [], 200
    if not form.is_valid():
        messages.error(
            request, _("These filters cannot be used: %(reason)s") % {"reason": _("unknown value")}
        )
        status = 400
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
            counts = referral_tab_counts(
                user=request.user, direction=RECEIVED, filters={"urgency": filters["urgency"]}
            )
        except ServiceError as error:
            messages.error(request, _("These filters cannot be used: %(reason)s") % {"reason": error.message})
            status = 400
        else:
            tabs, current = _tabs(data, counts)
            # the list's count is its tab's; a mix of filters is counted by the listing itself
            count = next((tab["count"] for tab in tabs if tab["current"]), None)
            if current is None:
                count = listing.count()
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            query = request.GET.copy()
            query["after"] = listing.cursor_of(rows[-1])
            next_query = query.urlencode()
    context = {
        "form": form,
        "tabs": tabs,
        "rows": [(row, STATUS_LABELS.get(row.status), URGENCY_LABELS.get(row.urgency)) for row in rows],
        "count": count,
        "next_query": next_query,
    }
    partial = request.htmx and request.htmx.target == "inbox"
    template = "console/_inbox_list.html" if partial else "console/inbox.html"
    return render(request, template, context, status=status)


# a referral ------------------------------------------------------------------------------------------


def _payload_rows(payload: dict) -> list[tuple[str, str]]:
    """The shared fields in the vocabulary's order, each in words."""
    order = {name: index for index, name in enumerate(FIELD_LABELS)}
    rows = []
    for name in sorted(payload, key=lambda name: (order.get(name, len(order)), name)):
        value = payload[name]
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif name in VALUE_LABELS:
            value = label(VALUE_LABELS[name], value)
        rows.append((label(FIELD_LABELS, name), "" if value is None else value))
    return rows


def _event_rows(referral, facts) -> list[dict]:
    rows = []
    for event in events_of(referral=referral):
        reason = event.reason_code
        if reason:
            if event.kind == "referred_onward":
                reason = _("to %(reference)s") % {"reference": reason}
            else:
                reason = label(REASON_LABELS.get(event.kind, EVENT_REASON_LABELS), reason)
        rows.append(
            {
                "event": event,
                "label": label(EVENT_LABELS, event.kind),
                "reason": reason,
                "organisation": event.organisation.name if event.organisation else "",
                "note": event.note if facts.event_notes and event.note else "",
            }
        )
    return rows


def _access_rows(referral, facts) -> list[dict]:
    """Who read the shared data: as the REST ``access-log`` shows it (a tombstone names no fields)."""
    return [
        {
            "entry": entry,
            "organisation": entry.organisation.name if entry.organisation else "",
            "fields": [] if facts.tombstone else [label(FIELD_LABELS, name) for name in entry.fields],
            "api": label(API_LABELS, entry.api),
        }
        for entry in access_log_of(referral=referral)[:ACCESS_LOG_SHOWN]
    ]


def _action_forms(request, referral, facts) -> dict:
    """An empty form for each action the facts allow (the suggestions and members only when needed)."""
    forms = {}
    for action, form_class in FORMS.items():
        if not facts.can(action):
            continue
        extra = {}
        if action == "assign":
            extra["members"] = referral_assignable_members(user=request.user)
        elif action == "refer_onward":
            extra["offers"] = services.referral_onward_offers(actor=request.user, referral=referral)
        forms[action] = form_class(auto_id=f"{action}-%s", **extra)
    return forms


def _referral_page(request, referral, *, bound=None, status=200):
    facts = facts_for(user=request.user, referral=referral)
    if facts.payload:
        services.payload_read(user=request.user, referrals=[referral], api=AccessLog.Api.CONSOLE)
    forms = _action_forms(request, referral, facts)
    refusal = None
    if bound is not None:
        action, form = bound
        if action in forms:  # still allowed: the form again, its errors next to their fields
            forms[action] = form.described()
        else:  # no longer allowed (someone acted first): the reason, above the actions left
            refusal = " ".join(str(error) for errors in form.errors.values() for error in errors)
    context = {
        "referral": referral,
        "facts": facts,
        "status_label": STATUS_LABELS.get(referral.status),
        "urgency_label": URGENCY_LABELS.get(referral.urgency),
        "outcome_label": OUTCOME_LABELS.get(referral.outcome) if referral.outcome else None,
        "assignee": referral.assigned_to if facts.assigned_to_id else None,
        "payload": _payload_rows(facts.payload) if facts.payload else [],
        # the note travels as the narrative: shown once
        "reason_note": facts.reason_note if "narrative" not in (facts.payload or {}) else None,
        "shared_field_labels": [label(FIELD_LABELS, name) for name in facts.shared_fields],
        "events": _event_rows(referral, facts),
        "access_log": _access_rows(referral, facts),
        "actions": [
            (action, action.replace("_", "-"), forms[action], *ACTION_TEXT[action])
            for action in ACTIONS
            if action in forms
        ],
        "refusal": refusal,
        # the organisation holding the person may stop status checks with this reference
        "status_check_locked": (
            status_check_lock_get(referral=referral) is not None if facts.holds_person else None
        ),
    }
    return render(request, "console/referral.html", context, status=status)


@require_GET
@sign_in_required
def referral_detail(request, referral_id):
    try:
        referral = referral_get(user=request.user, referral_id=referral_id)
    except NotFound:
        return not_found(request)
    return _referral_page(request, referral)


ACTION_DONE = {
    "acknowledge": gettext_lazy("Referral acknowledged."),
    "accept": gettext_lazy("Referral accepted."),
    "decline": gettext_lazy("Referral declined."),
    "complete": gettext_lazy("Outcome recorded; the referral is completed."),
    "withdraw": gettext_lazy("Referral withdrawn; the receiving organisation was told."),
    "close": gettext_lazy("Referral closed."),
    "assign": gettext_lazy("Referral assigned."),
    "refer_onward": gettext_lazy("Referred onward as %(reference)s."),
}


def _refusal(error: ServiceError, referral) -> str:
    """The console's words for the service's refusal (its own English where there are none)."""
    wording = REFUSAL_LABELS.get(error.code)
    if wording is None:
        return error.message
    return str(wording) % {"status": STATUS_LABELS.get(referral.status, referral.status)}


def _carry_out(request, referral, action: str, form) -> Referral | None:
    """Call the service of ``action`` with what the form parsed. Returns the referral onward
    (refer onward), else None."""
    data = form.cleaned_data
    if action == "assign":
        # an unknown choice goes to the service as None: it refuses it after its own checks
        member = None
        if _is_uuid(data["caseworker"]):
            member = referral_assignable_members(user=request.user).filter(pk=data["caseworker"]).first()
        services.referral_assign(
            actor=request.user,
            referral=referral,
            caseworker=member.user if member else None,
            restrict=data["restrict"],
        )
        return None
    if action == "refer_onward":
        offer = form.offer()
        if offer is None:
            raise _FormInvalid
        # a next step follows its pathway link; a service of the same kind is sent to directly
        link = None
        if offer.link_id and str(offer.service.pk) in form.next_steps:
            link = PathwayLink.objects.filter(pk=offer.link_id).first()
        return services.referral_refer_onward(
            actor=request.user,
            referral=referral,
            to_service=offer.service,
            pathway_link=link,
            reason_note=data["reason_note"],
            idempotency_key=data["idempotency_key"],
        )
    services.referral_transition(
        actor=request.user,
        referral=referral,
        action=action,
        reason_code=data.get("reason", ""),
        note=data.get("note", ""),
        outcome=data.get("outcome", ""),
    )
    return None


class _FormInvalid(Exception):
    """The form already holds the error next to its field."""


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


@require_POST
@sign_in_required
def referral_act(request, referral_id, action):
    action = SLUGS.get(action)
    try:
        referral = referral_get(user=request.user, referral_id=referral_id)
    except NotFound:
        return not_found(request)
    if action is None:
        return not_found(request)
    extra = {}
    if action == "assign":
        extra["members"] = referral_assignable_members(user=request.user)
    elif action == "refer_onward":
        extra["offers"] = services.referral_onward_offers(actor=request.user, referral=referral)
    form = FORMS[action](request.POST, auto_id=f"{action}-%s", **extra)
    status = 400
    if form.is_valid():
        try:
            child = _carry_out(request, referral, action, form)
        except _FormInvalid:
            pass
        except NotFound:
            return not_found(request)
        except ServiceError as error:
            try:  # the page as it is now: another person may have acted first
                referral = referral_get(user=request.user, referral_id=referral.pk)
            except NotFound:
                return not_found(request)
            field = error.field if error.field in form.fields else None
            form.add_error(field, _refusal(error, referral))
            status = error.status
        else:
            done = str(ACTION_DONE[action])
            messages.success(request, done % {"reference": child.reference} if child else done)
            return redirect("console:referral", referral_id=referral.pk)
    return _referral_page(request, referral, bound=(action, form), status=status)
