"""Every signed-in person's own pages: account, password, sessions, second factor, notifications,
and the demo's personas.

Each view parses a form and calls the services the APIs use: ``partners.services`` (activation,
password change, signing out everywhere, the authenticator app), ``notifications.services`` and
``notifications.selectors`` (the person's notices and their preferences), ``partners.demo`` (the
demo's personas, DEMO_MODE only). A refusal is shown next to the field it names.
"""

import uuid
from urllib.parse import parse_qs, urlsplit

import segno
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import NotFound, ServiceError
from console.account_forms import (
    ActivationForm,
    ConfirmPasswordForm,
    OneTimeCodeForm,
    PasswordChangeForm,
    PreferencesForm,
)
from console.account_labels import (
    NOTIFICATION_KIND_LABELS,
    PERSONA_DESCRIPTIONS,
    PERSONA_LABELS,
    REASON_LABELS,
)
from console.labels import ROLE_LABELS, label
from console.shared import not_found, sign_in_required, viewer_of
from notifications import services as notification_services
from notifications.selectors import notification_list_visible, preference_for
from partners import demo, services
from partners.selectors import membership_active, second_factor_required, totp_device_confirmed

NOTIFICATIONS_PER_PAGE = 25


def _status_of(error: ServiceError) -> int:
    return {"conflict": 409, "permission_denied": 403}.get(type(error).default_code, 400)


def _error_words(error: ServiceError) -> str:
    """The console's wording for the account services' codes; the service's own message otherwise
    (a password validator's message is already in the person's language)."""
    words = {
        "activation_token_invalid": _("This activation link is not valid or has already been used."),
        "activation_token_expired": _(
            "This activation link has expired. Ask your focal point (or a platform admin) to send a new one."
        ),
        "authentication_failed": _("This is not your current password."),
        "otp_invalid": _("The code is wrong or was already used. Wait for the next code and try again."),
        "totp_not_set_up": _("Start the set-up first."),
        "totp_already_confirmed": _(
            "You already have an authenticator app. Remove it first to set up another."
        ),
    }
    if error.code == "weak_password" and error.extra.get("reason") == "unchanged":
        return _("The new password must differ from the current one.")
    return str(words.get(error.code, error.message))


def _refuse(form, error: ServiceError, field_names: dict | None = None) -> int:
    """Put the service's refusal next to its field (or above the form) and say which status to answer."""
    field = (field_names or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, _error_words(error))
    return _status_of(error)


# Activation: the one-time link mailed to a new account's owner -------------------------------------


@require_http_methods(["GET", "POST"])
def activate(request):
    """The link is ``/console/activate#token=…``: the fragment never reaches the server or its logs;
    a small script copies it into the form, and without script the person pastes it."""
    form = ActivationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.account_activate(
                token=form.cleaned_data["token"], password=form.cleaned_data["new_password"]
            )
        except ServiceError as error:
            # a token problem is about the link, not a field the person typed: say it above the form
            status = _refuse(form, error, {"token": None, "password": "new_password"})
        else:
            messages.success(
                request, _("Your password is set. Sign in with your username and that password.")
            )
            return redirect("console:sign-in")
    elif request.method == "POST":
        status = 400
    return render(request, "console/account/activate.html", {"form": form}, status=status)


# The account page ----------------------------------------------------------------------------------


def _preferences_initial(user) -> dict:
    preference = preference_for(user)
    return {
        "email_events": preference.email_events,
        "sms_events": preference.sms_events,
        "sms_number": preference.sms_number,
        "quiet_hours_start": preference.quiet_hours_start,
        "quiet_hours_end": preference.quiet_hours_end,
        "time_zone": preference.time_zone,
        "language": preference.language,
    }


def _account_page(request, *, status=200, preferences_form=None, everywhere_form=None):
    viewer = viewer_of(request)
    membership = viewer.membership
    context = {
        "organisation": membership.organisation if membership else None,
        "role": label(ROLE_LABELS, membership.role) if membership else None,
        "platform_admin": viewer.platform_admin,
        "has_authenticator": totp_device_confirmed(user=request.user),
        "second_factor_required": second_factor_required(request.user),
        "preferences_form": preferences_form or PreferencesForm(initial=_preferences_initial(request.user)),
        "everywhere_form": everywhere_form or ConfirmPasswordForm(auto_id="everywhere-%s"),
    }
    return render(request, "console/account/account.html", context, status=status)


@require_GET
@sign_in_required
def landing(request):
    return _account_page(request)


@require_POST
@sign_in_required
def preferences(request):
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            notification_services.notification_preferences_update(user=request.user, **form.cleaned_data)
        except ServiceError as error:
            return _account_page(request, status=_refuse(form, error), preferences_form=form)
        messages.success(request, _("Your notification choices are saved."))
        return redirect("console:account")
    return _account_page(request, status=400, preferences_form=form)


@require_POST
@sign_in_required
def sign_out_everywhere(request):
    form = ConfirmPasswordForm(request.POST, auto_id="everywhere-%s")
    if form.is_valid():
        try:
            services.sessions_end_everywhere(user=request.user, password=form.cleaned_data["password"])
        except ServiceError as error:
            return _account_page(request, status=_refuse(form, error), everywhere_form=form)
        logout(request)
        messages.success(
            request, _("You are signed out everywhere: every browser and every API token of yours.")
        )
        return redirect("console:sign-in")
    return _account_page(request, status=400, everywhere_form=form)


@require_http_methods(["GET", "POST"])
@sign_in_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ServiceError as error:
            status = _refuse(form, error)
        else:
            update_session_auth_hash(request, user)  # this session stays; every other one has ended
            messages.success(request, _("Your password is changed. Your other sessions are signed out."))
            return redirect("console:account")
    elif request.method == "POST":
        status = 400
    return render(request, "console/account/password.html", {"form": form}, status=status)


# The second factor ---------------------------------------------------------------------------------


def _qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=4, title=_("QR code for your authenticator app"))


def _secret_groups(uri: str) -> str:
    secret = parse_qs(urlsplit(uri).query).get("secret", [""])[0]
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _second_factor_page(request, *, status=200, uri=None, form=None):
    context = {
        "has_authenticator": totp_device_confirmed(user=request.user),
        "second_factor_required": second_factor_required(request.user),
        "uri": uri,
        "qr": _qr_svg(uri) if uri else None,
        "secret": _secret_groups(uri) if uri else None,
        "form": form,
    }
    return render(request, "console/account/second_factor.html", context, status=status)


@require_GET
@sign_in_required
def second_factor(request):
    return _second_factor_page(request)


@require_POST
@sign_in_required
def second_factor_setup(request):
    try:
        uri = services.totp_setup(user=request.user)
    except ServiceError as error:
        messages.error(request, _error_words(error))
        return _second_factor_page(request, status=_status_of(error))
    return _second_factor_page(request, uri=uri, form=OneTimeCodeForm())


@require_POST
@sign_in_required
def second_factor_confirm(request):
    form = OneTimeCodeForm(request.POST)
    if form.is_valid():
        try:
            services.totp_confirm(user=request.user, otp=form.cleaned_data["otp"])
        except ServiceError as error:
            return _second_factor_page(request, status=_refuse(form, error), form=form)
        messages.success(
            request, _("Your authenticator app is set up: you will need a code at every sign-in.")
        )
        return redirect("console:second-factor")
    return _second_factor_page(request, status=400, form=form)


@require_POST
@sign_in_required
def second_factor_remove(request):
    services.totp_remove(user=request.user)
    messages.success(request, _("Your authenticator app is removed."))
    return redirect("console:second-factor")


# Notifications -------------------------------------------------------------------------------------


@require_GET
@sign_in_required
def notifications(request):
    listing = notification_list_visible(user=request.user).select_related("referral")
    page = Paginator(listing, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "notification": notice,
            "kind": label(NOTIFICATION_KIND_LABELS, notice.kind),
            "reason": REASON_LABELS.get(notice.reason_code),
        }
        for notice in page
    ]
    return render(request, "console/account/notifications.html", {"page": page, "rows": rows})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@require_POST
@sign_in_required
def notifications_read(request):
    everything = request.POST.get("all") == "on"
    # a value that is not an id at all is ignored, like someone else's notice: nothing to mark
    ids = [value for value in request.POST.getlist("id") if _is_uuid(value)]
    try:
        count = notification_services.notifications_mark_read(
            user=request.user, ids=ids, everything=everything
        )
    except ServiceError:
        messages.error(request, _("Choose a notification to mark read, or mark them all."))
        return redirect("console:notifications")
    if everything:
        messages.success(request, _("Every notification is marked read."))
    elif count:
        messages.success(request, _("The notification is marked read."))
    return redirect("console:notifications")


# The demo's personas (DEMO_MODE only) --------------------------------------------------------------


@require_GET
def demo_personas(request):
    try:
        personas = demo.demo_persona_list()
    except NotFound:
        return not_found(request)
    rows = []
    for user, role in personas:
        membership = membership_active(user=user)
        rows.append(
            {
                "user": user,
                "role": PERSONA_LABELS[role],
                "description": PERSONA_DESCRIPTIONS[role],
                "organisation": membership.organisation.acronym if membership else "",
            }
        )
    return render(request, "console/account/demo.html", {"personas": rows})


@require_POST
def demo_sign_in(request):
    try:
        user = demo.demo_sign_in(username=request.POST.get("username", ""))
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        messages.error(request, _error_words(error))
        return redirect("console:demo")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("console:inbox" if viewer_of(request).member else "console:account")


urlpatterns = [
    path("account", landing, name="account"),
    path("account/preferences", preferences, name="account-preferences"),
    path("account/password", password_change, name="password-change"),
    path("account/sign-out-everywhere", sign_out_everywhere, name="sign-out-everywhere"),
    path("account/second-factor", second_factor, name="second-factor"),
    path("account/second-factor/setup", second_factor_setup, name="second-factor-setup"),
    path("account/second-factor/confirm", second_factor_confirm, name="second-factor-confirm"),
    path("account/second-factor/remove", second_factor_remove, name="second-factor-remove"),
    path("activate", activate, name="activate"),
    path("notifications", notifications, name="notifications"),
    path("notifications/read", notifications_read, name="notifications-read"),
    path("demo", demo_personas, name="demo"),
    path("demo/sign-in", demo_sign_in, name="demo-sign-in"),
]
