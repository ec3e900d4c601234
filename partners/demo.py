"""Demo data for the directory: one operation, its organisations, people and services.

Everything goes through the services, as a platform admin would do it, so the demo exercises the
same rules as real use. Running it twice changes nothing.

The one exception is demo-only and says so: real accounts have no password until their owner
chooses one through the activation link, and nobody else ever learns it. A local demo needs people
to log in as at once, so ``_give_demo_password`` sets a known random password on each demo user
directly on the model (``load_demo`` prints them and keeps them in var/demo_logins.json), and the
platform admin gets a confirmed authenticator device whose otpauth URI ``load_demo`` prints.
"""

import json
import secrets
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.errors import NotAuthenticated, NotFound
from partners import services
from partners.models import Location, Membership, Operation, Organisation, ServiceCategory
from partners.selectors import second_factor_required

User = get_user_model()


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(9)


def _give_demo_password(user, logins: dict) -> None:
    """Demo only (never an API or a service): a known random password for a local demo login."""
    password = _password()
    validate_password(password, user)  # the demo's passwords follow the same rules as real ones
    user.set_password(password)
    user.save(update_fields=["password"])
    logins[user.username] = password


def _demo_user(spec: dict, logins: dict, **flags):
    user = User.objects.filter(username=spec["username"]).first()
    if user is None:
        user = User(
            username=spec["username"], first_name=spec["first_name"], last_name=spec["last_name"], **flags
        )
        user.email = f"{spec['username']}@demo.invalid"
        user.set_unusable_password()
        user.save()
        _give_demo_password(user, logins)
    return user


def demo_totp_device(user) -> TOTPDevice:
    """Demo only: the platform admin's authenticator, confirmed, so the admin can be tried at once."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)


def load_directory(spec: dict, logins: dict) -> Operation:
    """Create what ``spec`` (fixtures/demo.json) describes; ``logins`` receives new users' passwords."""
    operation, _ = Operation.objects.get_or_create(
        name=spec["operation"]["name"], defaults={"country_code": spec["operation"]["country_code"]}
    )
    admin = _demo_user(spec["platform_admin"], logins, is_staff=True)
    demo_totp_device(admin)
    admin.user_permissions.add(*Permission.objects.filter(content_type__app_label="partners"))
    admin = User.objects.get(pk=admin.pk)  # fresh permission cache

    for item in spec["locations"]:
        Location.objects.get_or_create(
            operation=operation,
            name=item["name"],
            defaults={
                "kind": item["kind"],
                "pcode": item.get("pcode", ""),
                "parent": Location.objects.filter(operation=operation, name=item.get("parent")).first(),
            },
        )
    for item in sorted(spec["categories"], key=lambda c: "parent" in c):
        ServiceCategory.objects.get_or_create(
            code=item["code"],
            defaults={
                "name": item["name"],
                "parent": ServiceCategory.objects.filter(code=item.get("parent")).first(),
            },
        )

    for item in spec["organisations"]:
        organisation = Organisation.objects.filter(acronym=item["acronym"]).first()
        if organisation is None:
            organisation = services.organisation_create(
                actor=admin,
                name=item["name"],
                acronym=item["acronym"],
                kind=item["kind"],
                operation=operation,
                partnership=item["partnership"],
            )
            signed, expires = (date.fromisoformat(value) for value in item["dsa"])
            services.organisation_record_dsa(
                actor=admin, organisation=organisation, signed_on=signed, expires_on=expires
            )
        focal_user = _demo_user(item["focal_point"], logins)
        if not Membership.objects.filter(user=focal_user, is_active=True).exists():
            services.focal_point_appoint(actor=admin, organisation=organisation, user=focal_user)
        for person in item["caseworkers"]:
            if not User.objects.filter(username=person["username"]).exists():
                # the real path: an account without a password, its activation link mailed (in the
                # demo, to a file in var/mail/); then the demo-only password so the login list works
                membership = services.member_add(
                    actor=focal_user,
                    organisation=organisation,
                    username=person["username"],
                    first_name=person["first_name"],
                    last_name=person["last_name"],
                    email=f"{person['username']}@demo.invalid",
                    role=Membership.Role.CASEWORKER,
                )
                _give_demo_password(membership.user, logins)
        for service in item["services"]:
            if organisation.services.filter(name=service["name"]).exists():
                continue
            data = dict(service)
            locations = Location.objects.filter(operation=operation, name__in=data.pop("locations", []))
            services.service_create(
                actor=focal_user,
                organisation=organisation,
                name=data.pop("name"),
                category=ServiceCategory.objects.get(code=data.pop("category")),
                locations=list(locations),
                **data,
            )
    return operation


# The demo's persona page (console, DEMO_MODE only) -----------------------------------------------

PROTECTION_OFFICER = "protection_officer"
CASEWORKER = "caseworker"
FOCAL_POINT = "focal_point"
PSEA_FOCAL_POINT = "psea_focal_point"
OPERATION_ADMIN = "operation_admin"


def _spec() -> dict:
    return json.loads((Path(settings.BASE_DIR) / "fixtures" / "demo.json").read_text(encoding="utf-8"))


def _holding(spec: dict, *, kind: str | None = None, category: str | None = None) -> dict:
    return next(
        organisation
        for organisation in spec["organisations"]
        if (kind is None or organisation["kind"] == kind)
        and (category is None or any(s["category"] == category for s in organisation["services"]))
    )


def demo_personas(spec: dict | None = None) -> list[tuple[str, str]]:
    """(username, role) of the people the demo guide follows, worked out from fixtures/demo.json: the
    protection officer is the UN agency's first caseworker (the demo referrals are theirs), the
    caseworker and the focal point work at the organisation running GBV case management (the demo's
    referrals go there), the PSEA focal point is the focal point of the organisation running the PSEA
    service, and the operation admin is the platform admin."""
    spec = spec or _spec()
    un_agency = _holding(spec, kind="un_agency")
    gbv = _holding(spec, category="gbv_case_management")
    psea = _holding(spec, category="psea")
    return [
        (un_agency["caseworkers"][0]["username"], PROTECTION_OFFICER),
        (gbv["caseworkers"][0]["username"], CASEWORKER),
        (gbv["focal_point"]["username"], FOCAL_POINT),
        (psea["focal_point"]["username"], PSEA_FOCAL_POINT),
        (spec["platform_admin"]["username"], OPERATION_ADMIN),
    ]


def _demo_mode_required() -> None:
    # outside the demo the page does not exist: the same answer as any unknown address
    if not settings.DEMO_MODE:
        raise NotFound("Not found.")


def demo_persona_list() -> list[tuple[User, str]]:
    """The personas whose accounts the demo created (users of ``@demo.invalid``), in the guide's order."""
    _demo_mode_required()
    personas = demo_personas()
    users = User.objects.filter(
        username__in=[username for username, _ in personas], email__endswith="@demo.invalid", is_active=True
    ).in_bulk(field_name="username")
    return [(users[username], role) for username, role in personas if username in users]


def demo_sign_in(*, username: str):
    """Demo only: the persona to sign in as with one click, no password typed. An account with a second
    factor still passes it: the current code of its demo authenticator goes through the real check
    (``totp_verify``: each code signs in once)."""
    user = next((user for user, _ in demo_persona_list() if user.username == username), None)
    if user is None:
        raise NotFound("Not found.")
    if second_factor_required(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        code = ""
        if device is not None:
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            code = str(totp.token()).zfill(device.digits)
        if not services.totp_verify(user=user, otp=code):
            raise NotAuthenticated(
                "The one-time code of this step was already used; try again in half a minute.",
                code="otp_invalid",
                field="otp",
            )
    return user
