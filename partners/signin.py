"""The one sign-in sequence, for every surface that signs a person in (the API's token login, the
console's session login): password through Django's ``authenticate`` (so django-axes counts the
failure and locks the account or address), then the second factor where one is required.

It answers with the user or raises a :class:`common.errors.ServiceError` with a stable code:
``login_locked`` (with ``retry_after``), ``authentication_failed``, ``otp_required``, ``otp_invalid``.
"""

import math
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.db.models import Max
from django.utils import timezone

from common.errors import NotAuthenticated, TooManyRequests
from partners import services
from partners.selectors import second_factor_required


def lockout_ends(request, credentials: dict) -> datetime:
    """When the lock on this account or address lifts by itself: the latest failure that still counts
    plus the cool-off (``AXES_COOLOFF_TIME``). Never earlier than the true moment, and it holds:
    attempts during a lockout are not counted (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``).
    """
    counted = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    latest = [at for attempts in counted if (at := attempts.aggregate(at=Max("attempt_time"))["at"])]
    return (max(latest) if latest else timezone.now()) + get_cool_off(request)


def lockout_text(ends: datetime) -> tuple[str, int]:
    """The message a locked-out person reads, and the seconds until they may retry."""
    seconds = max(0, math.ceil((ends - timezone.now()).total_seconds()))
    minutes = max(1, math.ceil(seconds / 60))
    shown = (ends + timedelta(seconds=59)).replace(second=0, microsecond=0)  # never earlier than `ends`
    return (
        "Too many failed logins for this account or from this address: login is locked until "
        f"{shown:%Y-%m-%d %H:%M} UTC (in {minutes} minute{'s' if minutes != 1 else ''}); try again then, "
        "or ask your focal point or a platform admin to unlock your account.",
        seconds,
    )


def login_locked(request, credentials: dict) -> TooManyRequests:
    """The answer to a locked account or address: 429 ``login_locked``."""
    message, seconds = lockout_text(lockout_ends(request, credentials))
    return TooManyRequests(message, code="login_locked", extra={"retry_after": seconds})


def credentials_check(request, *, username: str, password: str, otp: str = ""):
    """The user these credentials sign in, or the error that refuses them."""
    credentials = {"username": username, "password": password}
    user = authenticate(request, **credentials)
    # set by axes when the account or address was locked already (the password was not even
    # checked) or when this failure reached the limit
    if getattr(request, "axes_locked_out", False):
        raise login_locked(request, credentials)
    if user is None or not user.is_active:
        raise NotAuthenticated("Wrong username or password.", code="authentication_failed")
    # the second factor is asked only after the password passed, so it says nothing to a guesser
    if second_factor_required(user):
        if not otp:
            raise NotAuthenticated(
                "This account needs a one-time code from its authenticator app: send it as `otp` "
                "(no app enrolled yet? an operator runs `manage.py totp_enrol` with you).",
                code="otp_required",
                field="otp",
            )
        if not services.totp_verify(user=user, otp=otp):
            raise NotAuthenticated(
                "The one-time code is wrong, was already used, or came too soon after a wrong one.",
                code="otp_invalid",
                field="otp",
            )
    return user
