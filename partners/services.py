"""Writes for organisations, memberships, accounts and services. Every rule is checked here."""

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from functools import partial

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from common.errors import Conflict, NotAuthenticated, PermissionDenied, Problem, ServiceError
from common.saving import save_with_history
from partners import hooks
from partners.models import ActivationToken, Membership, Operation, Organisation, Service, ServiceCategory
from partners.selectors import is_platform_admin, membership_active
from partners.vocabulary import DISCLOSURE_FIELDS, LANGUAGE_CODE, unknown_fields

User = get_user_model()
log = logging.getLogger(__name__)

ROLES_A_FOCAL_POINT_MAY_GIVE = (Membership.Role.CASEWORKER, Membership.Role.VIEWER)
SERVICE_EDITABLE_FIELDS = (
    "name",
    "description",
    "category",
    "min_age",
    "max_age",
    "sexes",
    "specific_needs",
    "languages",
    "is_active",
    "is_accepting_referrals",
    "response_hours_emergency",
    "response_hours_urgent",
    "response_hours_normal",
    "outcome_due_days",
    "required_fields",
    "optional_fields",
)
URGENCIES = ("emergency", "urgent", "normal")
# a response target beyond a year is a typo, not a promise
MAX_RESPONSE_HOURS = 24 * 365
# an outcome due after acceptance: within a year, or never (None)
MAX_OUTCOME_DUE_DAYS = 365
# the columns' sizes: a longer code or need could not be stored
MAX_LANGUAGE_CODE = Service._meta.get_field("languages").base_field.max_length
MAX_NEED_CODE = Service._meta.get_field("specific_needs").base_field.max_length


def _require_platform_admin(actor) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins may do this.", code="platform_admin_required")


def _require_focal_point_of(actor, organisation: Organisation) -> None:
    """Platform admins and the organisation's own focal point manage its members and services."""
    if is_platform_admin(actor):
        return
    membership = membership_active(user=actor)
    if membership is None or membership.organisation_id != organisation.id:
        raise PermissionDenied(
            "Only the organisation's focal point may do this.", code="focal_point_of_organisation_required"
        )
    if membership.role != Membership.Role.FOCAL_POINT:
        raise PermissionDenied(
            "Only the organisation's focal point may do this.", code="focal_point_required"
        )


def _forget_membership_cache(user) -> None:
    if hasattr(user, "_active_membership_cache"):
        del user._active_membership_cache


# Organisations -----------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    actor,
    name: str,
    acronym: str,
    kind: str,
    operation: Operation,
    partnership: str = Organisation.Partnership.NONE,
    is_active: bool = True,
) -> Organisation:
    from django.contrib.auth.models import Group

    _require_platform_admin(actor)
    if Organisation.objects.filter(acronym__iexact=acronym).exists():
        raise Conflict(
            f"An organisation with acronym {acronym!r} exists.", code="duplicate_acronym", field="acronym"
        )
    if Organisation.objects.filter(name__iexact=name).exists():
        raise Conflict(f"An organisation named {name!r} exists.", code="duplicate_name", field="name")
    organisation = Organisation(
        name=name,
        acronym=acronym,
        kind=kind,
        operation=operation,
        partnership=partnership,
        is_active=is_active,
    )
    organisation.group = Group.objects.create(name=f"organisation:{organisation.id}")
    save_with_history(organisation, actor)
    return organisation


@transaction.atomic
def organisation_update(*, actor, organisation: Organisation, **fields) -> Organisation:
    _require_platform_admin(actor)
    allowed = {"name", "acronym", "kind", "partnership", "is_active"}
    if unexpected := set(fields) - allowed:
        raise ServiceError(f"Cannot change: {', '.join(sorted(unexpected))}.", code="field_not_editable")
    for key, value in fields.items():
        setattr(organisation, key, value)
    save_with_history(organisation, actor)
    return organisation


@transaction.atomic
def organisation_record_dsa(
    *, actor, organisation: Organisation, signed_on: date, expires_on: date | None
) -> Organisation:
    _require_platform_admin(actor)
    if expires_on is not None and expires_on <= signed_on:
        raise ServiceError(
            "The agreement must expire after it was signed.",
            code="dsa_expiry_before_signature",
            field="expires_on",
        )
    organisation.dsa_signed_on = signed_on
    organisation.dsa_expires_on = expires_on
    save_with_history(organisation, actor)
    return organisation


# Accounts ----------------------------------------------------------------------------------
# Nobody sets or learns another person's password: an account is created without one, and its
# owner chooses it through a one-time link mailed to them (``account_activate``).


def _token_hash(token: str) -> str:
    # the token is 256 random bits: a fast hash cannot be reversed, and lookups stay one index probe
    return hashlib.sha256(token.encode()).hexdigest()


def _activation_mail_send(*, email: str, link: str) -> None:
    # a notification carries no personal data: the link alone, not even the username
    send_mail(
        subject=gettext("Activate your Referral Hub account"),
        message=gettext(
            "Open this link to choose your password. It works once and expires in %(hours)d hours.\n\n"
            "%(link)s\n"
        )
        % {"hours": settings.ACCOUNT_ACTIVATION_TTL_HOURS, "link": link},
        from_email=None,
        recipient_list=[email],
    )


def _activation_issue(user) -> None:
    """Replace any unused link of ``user`` by a new one, mailed to them once the transaction commits."""
    ActivationToken.objects.filter(user=user, used_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    ActivationToken.objects.create(
        user=user,
        token_hash=_token_hash(token),
        expires_at=timezone.now() + timedelta(hours=settings.ACCOUNT_ACTIVATION_TTL_HOURS),
    )
    link = settings.ACCOUNT_ACTIVATION_URL.format(token=token)
    # after commit: a rolled-back account is mailed nothing; robust: a mail server that is down does
    # not turn a committed appointment into a 500 (the link can be sent again)
    transaction.on_commit(partial(_activation_mail_send, email=user.email, link=link), robust=True)


def _account_create(*, username: str, email: str, first_name: str, last_name: str):
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.", code="duplicate_username", field="username")
    if not email:
        raise ServiceError(
            "An e-mail address is needed: the activation link is sent there.",
            code="email_required",
            field="email",
        )
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError("Enter a valid e-mail address.", code="invalid", field="email") from exc
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save()
    _activation_issue(user)
    return user


@transaction.atomic
def account_activate(*, token: str, password: str):
    """The owner of a new account chooses its password with the link mailed to them; the link is spent."""
    now = timezone.now()
    row = (
        ActivationToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if row is None or row.used_at is not None or not row.user.is_active:
        raise ServiceError(
            "This activation link is not valid or has already been used.",
            code="activation_token_invalid",
            field="token",
        )
    if not row.is_usable(now):
        raise ServiceError(
            "This activation link has expired; ask your focal point (or a platform admin) for a new one.",
            code="activation_token_expired",
            field="token",
        )
    user = row.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), code="weak_password", field="password") from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    row.used_at = now
    row.save(update_fields=["used_at"])
    return user


@transaction.atomic
def account_activation_resend(*, actor, membership: Membership) -> None:
    """A new link (the old one stops working) for a member who has not chosen a password yet."""
    _require_focal_point_of(actor, membership.organisation)
    if not membership.is_active:
        raise ServiceError("The membership is deactivated.", code="membership_inactive")
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if user.has_usable_password():
        raise Conflict(
            "The account is already activated; its owner logs in with the password they chose.",
            code="account_already_active",
        )
    _activation_issue(user)


def _password_confirm(user, password: str, *, field: str) -> None:
    if not user.check_password(password):
        raise NotAuthenticated("The password is not right.", code="authentication_failed", field=field)


@transaction.atomic
def password_change(*, user, old_password: str, new_password: str):
    """The person changes their own password: the old one first, then Django's validators.

    Every other browser session of theirs ends with it: a session holds a hash of the password
    (Django's session auth hash), so a new password voids them all at their next request, without
    reading the session table. The caller keeps its own session with ``update_session_auth_hash``."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _password_confirm(user, old_password, field="old_password")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), code="weak_password", field="new_password") from exc
    if user.check_password(new_password):
        raise ServiceError(
            "The new password must differ from the old one.",
            code="weak_password",
            field="new_password",
            extra={"reason": "unchanged"},
        )
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def sessions_end_everywhere(*, user, password: str) -> int:
    """Sign the person out everywhere (a lost phone, a shared computer): every browser session ends,
    this one included, and their API tokens are revoked, as a deactivation does (docs/security.md).

    The password is asked again, so an unlocked screen is not enough. It is stored again under a new
    salt: the session auth hash of every session changes, so none of them signs in any more, and no
    session is decoded. Returns the number of API tokens revoked."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _password_confirm(user, password, field="password")
    user.set_password(password)
    user.save(update_fields=["password"])
    revoked, _ = AuthToken.objects.filter(user=user).delete()
    return revoked


def _credentials_revoke(user) -> None:
    """End every way ``user`` is signed in: API tokens, browser sessions and unused activation links."""
    AuthToken.objects.filter(user=user).delete()
    ActivationToken.objects.filter(user=user, used_at__isnull=True).delete()
    # Sessions live in the database (SESSION_ENGINE db, a system check holds it there) and carry the
    # user id only inside their encoded data, so each live session is decoded: they are the admin's
    # and browser callers', a few per person, not the API clients' (those use tokens).
    user_id = str(user.pk)
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == user_id
    ]
    Session.objects.filter(session_key__in=keys).delete()


@transaction.atomic
def credentials_purge(*, before) -> int:
    """Retention: delete sign-in credentials that can no longer be used and ended before ``before``
    (TOKEN_RETENTION_DAYS): expired API tokens, spent or expired activation links, expired sessions.
    Nothing usable is touched: a live token, link or session stays whatever its age."""
    now = timezone.now()
    tokens, _ = AuthToken.objects.filter(expiry__lt=min(before, now)).delete()
    links, _ = ActivationToken.objects.filter(
        Q(used_at__lt=before) | Q(used_at__isnull=True, expires_at__lt=min(before, now))
    ).delete()
    sessions, _ = Session.objects.filter(expire_date__lt=min(before, now)).delete()
    return tokens + links + sessions


@transaction.atomic
def user_deactivate(*, actor, user) -> None:
    """Close an account (platform admins): it leaves its organisation and is signed out everywhere at once."""
    _require_platform_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    membership = Membership.objects.select_for_update().filter(user=user, is_active=True).first()
    if membership is not None:
        if membership.role == Membership.Role.FOCAL_POINT:
            raise ServiceError(
                "The focal point cannot be deactivated; appoint another focal point first.",
                code="focal_point_cannot_be_deactivated",
            )
        membership.is_active = False
        save_with_history(membership, actor)
        user.groups.remove(membership.organisation.group)
    user.is_active = False
    user.save(update_fields=["is_active"])
    _forget_membership_cache(user)
    _credentials_revoke(user)


# Second factor (TOTP) ------------------------------------------------------------------------


@transaction.atomic
def totp_setup(*, user) -> str:
    """Start enrolling an authenticator app: a new unconfirmed device. Its otpauth:// URI, which holds
    the secret, is returned this once and never shown again."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("You already have a confirmed authenticator device.", code="totp_already_confirmed")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False).config_url


def totp_confirm(*, user, otp: str) -> None:
    """Confirm the device started by ``totp_setup`` with a code from it; from now on logins need one."""
    # not one atomic block: a wrong code must stay counted (django-otp's throttling) after the 401
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        )
        if device is None:
            raise ServiceError(
                "Start with POST /api/v1/auth/totp/setup, then confirm a code.", code="totp_not_set_up"
            )
        verified = device.verify_token(otp)
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    if not verified:
        raise NotAuthenticated(
            "The one-time code is wrong, was already used, or came too soon after a wrong one.",
            code="otp_invalid",
            field="otp",
        )


@transaction.atomic
def totp_remove(*, user) -> int:
    """Forget the user's authenticator devices (a lost phone); they enrol a new one before signing in."""
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted


def totp_verify(*, user, otp: str) -> bool:
    """Whether ``otp`` is a fresh code of the user's confirmed device. A code verifies once; a wrong
    one is counted and slows the next attempts (django-otp's throttling), so it commits either way."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device is not None and device.verify_token(otp)


# Memberships -------------------------------------------------------------------------------


@transaction.atomic
def focal_point_appoint(*, actor, organisation: Organisation, user) -> Membership:
    """Make ``user`` the organisation's one focal point; the previous one becomes a caseworker.

    Both changes commit together or not at all. The user must not be active in another organisation.
    """
    _require_platform_admin(actor)
    # lock the organisation: two admins appointing at once must not both demote and promote
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not user.is_active:
        raise ServiceError("A deactivated user cannot be focal point.", code="user_inactive", field="user")
    other = Membership.objects.filter(user=user, is_active=True).exclude(organisation=organisation).first()
    if other is not None:
        raise Conflict(
            "The user is an active member of another organisation.",
            code="user_in_other_organisation",
            field="user",
        )
    current = Membership.objects.filter(
        organisation=organisation, role=Membership.Role.FOCAL_POINT, is_active=True
    ).first()
    if current is not None and current.user_id == user.id:
        return current
    if current is not None:
        current.role = Membership.Role.CASEWORKER
        save_with_history(current, actor)
    membership = Membership.objects.filter(organisation=organisation, user=user, is_active=True).first()
    if membership is None:
        membership = Membership(organisation=organisation, user=user)
    membership.role = Membership.Role.FOCAL_POINT
    save_with_history(membership, actor)
    user.groups.add(organisation.group)
    _forget_membership_cache(user)
    hooks.run_focal_point_handlers(
        organisation=organisation, previous=current.user if current else None, new=user, actor=actor
    )
    return membership


@transaction.atomic
def focal_point_appoint_by_username(
    *,
    actor,
    organisation: Organisation,
    username: str,
    create_user: bool = False,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Appoint an existing user by username, or create the account first when ``create_user``: it has
    no password until its owner opens the activation link mailed to ``email``."""
    _require_platform_admin(actor)
    if create_user:
        user = _account_create(username=username, email=email, first_name=first_name, last_name=last_name)
    else:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise ServiceError(
                f"No user named {username!r}; send create_user=true to create one.",
                code="unknown_user",
                field="username",
            )
    return focal_point_appoint(actor=actor, organisation=organisation, user=user)


@transaction.atomic
def member_add(
    *,
    actor,
    organisation: Organisation,
    username: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Create an account for a new member of the organisation, with a role below focal point. It has
    no password until its owner opens the activation link mailed to ``email``."""
    _require_focal_point_of(actor, organisation)
    if role not in ROLES_A_FOCAL_POINT_MAY_GIVE:
        raise ServiceError(
            "Members are added as caseworker or viewer; focal points are appointed by a platform admin.",
            code="role_not_assignable",
            field="role",
        )
    user = _account_create(username=username, email=email, first_name=first_name, last_name=last_name)
    membership = Membership(organisation=organisation, user=user, role=role)
    save_with_history(membership, actor)
    user.groups.add(organisation.group)
    return membership


@transaction.atomic
def membership_set_role(*, actor, membership: Membership, role: str) -> Membership:
    _require_focal_point_of(actor, membership.organisation)
    if not membership.is_active:
        raise ServiceError("The membership is deactivated.", code="membership_inactive")
    if membership.role == Membership.Role.FOCAL_POINT:
        raise ServiceError(
            "The focal point's role changes only by appointing another focal point.",
            code="focal_point_role_fixed",
            field="role",
        )
    if role not in ROLES_A_FOCAL_POINT_MAY_GIVE:
        raise ServiceError(
            "Only caseworker or viewer can be set; focal points are appointed by a platform admin.",
            code="role_not_assignable",
            field="role",
        )
    # API tokens stay: the role is read from the database on every request (membership_active),
    # so a token carries no powers of its own and the new role holds from the next request on
    membership.role = role
    save_with_history(membership, actor)
    return membership


@transaction.atomic
def membership_deactivate(*, actor, membership: Membership) -> Membership:
    """The member leaves the organisation and is signed out everywhere in the same transaction."""
    _require_focal_point_of(actor, membership.organisation)
    membership = (
        Membership.objects.select_for_update().select_related("user", "organisation").get(pk=membership.pk)
    )
    if membership.role == Membership.Role.FOCAL_POINT and membership.is_active:
        raise ServiceError(
            "The focal point cannot be deactivated; appoint another focal point first.",
            code="focal_point_cannot_be_deactivated",
        )
    membership.is_active = False
    save_with_history(membership, actor)
    membership.user.groups.remove(membership.organisation.group)
    hooks.run_deactivation_handlers(membership=membership, actor=actor)
    _forget_membership_cache(membership.user)
    _credentials_revoke(membership.user)
    return membership


@transaction.atomic
def member_login_unlock(*, actor, membership: Membership) -> int:
    """End the lockout of a member's account after too many failed logins, before its cool-off.

    The organisation's focal point unlocks its caseworkers and viewers; a focal point's account is
    unlocked by a platform admin. This clears the failures counted against the username; a lock on a
    client address (many accounts tried from it) stays until its own cool-off ends. Returns the number
    of failure records cleared (0: the account was not locked).
    """
    _require_focal_point_of(actor, membership.organisation)
    if membership.role == Membership.Role.FOCAL_POINT and not is_platform_admin(actor):
        raise PermissionDenied(
            "A focal point's login is unlocked by a platform admin.", code="platform_admin_required"
        )
    if not membership.is_active:
        raise ServiceError("The membership is deactivated.", code="membership_inactive")
    username = membership.user.get_username()
    cleared = axes_reset(username=username)
    log.info("Login of %s unlocked by %s (%d failure records cleared).", username, actor, cleared)
    return cleared


# Services ----------------------------------------------------------------------------------


def service_data_problems(data: Mapping, *, current: Service | None = None) -> list[Problem]:
    """Every rule ``data`` (a service's editable fields, by name) breaks, in the order they are checked.

    The twin of :func:`_apply_service_data`, which raises the first of these: importers call it so a
    file is held to the same rules, limits and wording as an edit. Only the fields in ``data`` are
    checked; a rule that relates two fields (required vs optional, minimum vs maximum age) reads the
    one ``data`` leaves out from ``current``, the service being edited, when there is one.
    """
    problems: list[Problem] = []

    def add(field: str | None, *, code: str, message: str) -> None:
        problems.append(Problem(field=field, code=code, message=message))

    def value(name: str):
        return data[name] if name in data else getattr(current, name, None)

    if unexpected := set(data) - set(SERVICE_EDITABLE_FIELDS):
        add(None, code="field_not_editable", message=f"Cannot change: {', '.join(sorted(unexpected))}.")
    for key in ("required_fields", "optional_fields"):
        names = list(data.get(key) or [])
        if bad := unknown_fields(names):
            allowed = ", ".join(DISCLOSURE_FIELDS)
            message = f"Unknown disclosure field(s): {', '.join(map(str, bad))}. Allowed: {allowed}."
            add(key, code="unknown_disclosure_field", message=message)
        if len(set(names)) != len(names):
            add(key, code="duplicate_disclosure_field", message="A field is listed twice.")
    languages = [str(code) for code in data.get("languages") or []]
    if bad := [code for code in languages if not LANGUAGE_CODE.match(code)]:
        message = f"Not an ISO 639 language code: {', '.join(bad)} (use e.g. 'en', 'ar', 'swh')."
        add("languages", code="invalid_language_code", message=message)
    elif bad := [code for code in languages if len(code) > MAX_LANGUAGE_CODE]:
        message = f"A language code is at most {MAX_LANGUAGE_CODE} characters: {', '.join(bad)}."
        add("languages", code="invalid_language_code", message=message)
    both = set(value("required_fields") or ()) & set(value("optional_fields") or ())
    if both and ("required_fields" in data or "optional_fields" in data):
        message = f"A field cannot be both required and optional: {', '.join(sorted(both))}."
        add("optional_fields", code="field_required_and_optional", message=message)
    for urgency in URGENCIES:
        key = f"response_hours_{urgency}"
        if key in data and not _whole_number_from(1, MAX_RESPONSE_HOURS, data[key]):
            message = f"A response target is a whole number of hours from 1 to {MAX_RESPONSE_HOURS}."
            add(key, code="invalid", message=message)
    days = data.get("outcome_due_days")
    if days is not None and not _whole_number_from(1, MAX_OUTCOME_DUE_DAYS, days):
        message = f"Outcome due days are a whole number from 1 to {MAX_OUTCOME_DUE_DAYS}, or null (never)."
        add("outcome_due_days", code="invalid", message=message)
    if bad := [sex for sex in data.get("sexes") or [] if sex not in Service.Sex.values]:
        allowed = ", ".join(Service.Sex.values)
        add(
            "sexes",
            code="invalid",
            message=f"Unknown sex(es): {', '.join(map(str, bad))}. Allowed: {allowed}.",
        )
    needs = data.get("specific_needs") or []
    if not all(isinstance(need, str) and len(need) <= MAX_NEED_CODE for need in needs):
        message = f"A specific need is a code of at most {MAX_NEED_CODE} characters."
        add("specific_needs", code="invalid", message=message)
    low, high = value("min_age"), value("max_age")
    if ("min_age" in data or "max_age" in data) and low is not None and high is not None and low > high:
        add("max_age", code="invalid", message="The maximum age is below the minimum age.")
    return problems


def _whole_number_from(low: int, high: int, value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _apply_service_data(service: Service, data: dict) -> None:
    if problems := service_data_problems(data, current=service):
        raise problems[0].error()
    for key, value in data.items():
        setattr(service, key, value)


@transaction.atomic
def service_create(
    *, actor, organisation: Organisation, name: str, category: ServiceCategory, locations=(), **data
) -> Service:
    _require_focal_point_of(actor, organisation)
    if Service.objects.filter(organisation=organisation, name__iexact=name).exists():
        raise Conflict(f"The organisation already has a service named {name!r}.", code="duplicate_service")
    service = Service(organisation=organisation, name=name, category=category)
    _apply_service_data(service, data)
    save_with_history(service, actor)
    if locations:
        service.locations.set(locations)
    return service


@transaction.atomic
def service_update(*, actor, service: Service, locations=None, **data) -> Service:
    _require_focal_point_of(actor, service.organisation)
    service = Service.objects.select_for_update().get(pk=service.pk)
    _apply_service_data(service, data)
    try:
        with transaction.atomic():
            save_with_history(service, actor)
    except IntegrityError as exc:
        raise Conflict(
            "The organisation already has a service with that name.", code="duplicate_service"
        ) from exc
    if locations is not None:
        service.locations.set(locations)
    return service
