"""A person's own pages, through the Django test client and the real URLs: activation by the
one-time link, password change, signing out everywhere, the authenticator app, notifications and
their preferences, and the demo's persona page (DEMO_MODE only)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from common.errors import ServiceError
from notifications.models import NotificationPreference
from partners import demo, services
from partners.models import ActivationToken, Membership
from referrals.models import Notification
from tests.conftest import PASSWORD, token_for
from tests.factories import PlatformAdminFactory, UserFactory, confirmed_totp_device, totp_code

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "plum-orbit-candle-42"
ACCOUNT_PAGES = [
    "/console/account",
    "/console/account/password",
    "/console/account/second-factor",
    "/console/notifications",
]


def page(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    return page(response).split('<main id="main"', 1)[1]


def signed_in_as(user) -> Client:
    client = Client()
    response = client.post("/console/sign-in", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, page(response)[:2000]
    return client


def is_signed_in(client) -> bool:
    return client.get("/console/account").status_code == 200


def error_next_to(response, field_id: str) -> str:
    """The error printed after the field, which the field names in aria-describedby."""
    html = page(response)
    assert re.search(rf'id="{field_id}"[^>]*aria-describedby="{field_id}-error"', html) or re.search(
        rf'aria-describedby="{field_id}-error"[^>]*id="{field_id}"', html
    ), f"{field_id} does not point at its error"
    match = re.search(rf'<span class="error" id="{field_id}-error">([^<]*)</span>', html)
    assert match, f"no error next to {field_id}"
    return match.group(1)


@pytest.mark.parametrize("url", ACCOUNT_PAGES)
def test_a_signed_out_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == f"/console/sign-in?next={url}"


# Activation ----------------------------------------------------------------------------------------


@pytest.fixture
def new_member(world, mailoutbox, django_capture_on_commit_callbacks):
    """A member the focal point just added: no password, and the activation mail in the outbox."""
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.member_add(
            actor=world.b.focal_point,
            organisation=world.b,
            username="newcomer",
            email="newcomer@example.org",
            role=Membership.Role.CASEWORKER,
        )
    [mail] = mailoutbox
    [token] = re.findall(r"/console/activate#token=([\w-]+)", mail.body)
    return membership.user, token


def activate(client, token, password=NEW_PASSWORD, again=None):
    return client.post(
        "/console/activate",
        {
            "token": token,
            "new_password": password,
            "new_password_again": password if again is None else again,
        },
    )


def test_the_activation_mail_links_to_the_console_page(client, new_member):
    response = client.get("/console/activate")
    assert response.status_code == 200
    assert 'id="id_token"' in page(response) and "console/activate.js" in page(response)


def test_activation_sets_the_password_and_the_person_signs_in(client, new_member):
    user, token = new_member
    response = activate(client, token)
    assert response.status_code == 302 and response["Location"] == "/console/sign-in"
    response = client.post("/console/sign-in", {"username": user.username, "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_a_used_activation_link_says_so(client, new_member):
    _, token = new_member
    assert activate(client, token).status_code == 302
    response = activate(client, token, password="another-long-pass-77")
    assert response.status_code == 400
    assert "not valid or has already been used" in main_of(response)


def test_an_expired_activation_link_says_so(client, new_member):
    user, token = new_member
    ActivationToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = activate(client, token)
    assert response.status_code == 400
    assert "has expired" in main_of(response)
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_a_weak_password_is_refused_next_to_its_field(client, new_member):
    _, token = new_member
    response = activate(client, token, password="short")
    assert response.status_code == 400
    assert "too short" in error_next_to(response, "id_new_password")


def test_two_different_passwords_are_refused_next_to_the_second(client, new_member):
    _, token = new_member
    response = activate(client, token, again="plum-orbit-candle-43")
    assert response.status_code == 400
    assert "not the same" in error_next_to(response, "id_new_password_again")
    assert ActivationToken.objects.get(token_hash__isnull=False).used_at is None


# Password and sessions -----------------------------------------------------------------------------


def change_password(client, old=PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(
        "/console/account/password",
        {"old_password": old, "new_password": new, "new_password_again": new if again is None else again},
    )


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(world):
    user = world.b.caseworker
    here, elsewhere = signed_in_as(user), signed_in_as(user)
    response = change_password(here)
    assert response.status_code == 302 and response["Location"] == "/console/account"
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    assert (
        Client().post("/console/sign-in", {"username": user.username, "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_a_wrong_current_password_is_refused_next_to_it(world):
    client = signed_in_as(world.b.caseworker)
    response = change_password(client, old="not-my-password")
    assert response.status_code == 400
    assert "not your current password" in error_next_to(response, "id_old_password")


def test_the_password_rules_apply_next_to_the_new_password(world):
    client = signed_in_as(world.b.caseworker)
    response = change_password(client, new="123456789012345")
    assert response.status_code == 400
    assert "entirely numeric" in error_next_to(response, "id_new_password")
    response = change_password(client, new=PASSWORD)
    assert "must differ" in error_next_to(response, "id_new_password")


def test_the_page_follows_the_password_service(world, monkeypatch):
    client = signed_in_as(world.b.caseworker)

    def refuse(**kwargs):
        raise ServiceError("Passwords are frozen today.", code="invalid", field="new_password")

    monkeypatch.setattr(services, "password_change", refuse)
    response = change_password(client)
    assert response.status_code == 400
    assert error_next_to(response, "id_new_password") == "Passwords are frozen today."


def test_signing_out_everywhere_ends_every_session_and_the_api_tokens(world, api):
    user = world.b.caseworker
    here, elsewhere = signed_in_as(user), signed_in_as(user)
    token = token_for(user)
    response = here.post("/console/account/sign-out-everywhere", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/sign-in"
    assert not is_signed_in(here) and not is_signed_in(elsewhere)
    assert api(token=token).get("/api/v1/me").status_code == 401


def test_signing_out_everywhere_needs_the_password(world):
    user = world.b.caseworker
    here, elsewhere = signed_in_as(user), signed_in_as(user)
    response = here.post("/console/account/sign-out-everywhere", {"password": "guess"})
    assert response.status_code == 400
    assert "not your current password" in error_next_to(response, "everywhere-password")
    assert is_signed_in(here) and is_signed_in(elsewhere)


# The second factor ---------------------------------------------------------------------------------


def test_an_authenticator_app_is_set_up_and_then_asked_at_sign_in(world):
    user = world.b.caseworker
    client = signed_in_as(user)
    response = client.post("/console/account/second-factor/setup")
    assert response.status_code == 200
    [uri] = re.findall(r'<code class="uri">(otpauth://[^<]+)</code>', page(response))
    assert "<svg" in main_of(response)  # the QR code, drawn on the server
    device = user.totpdevice_set.get(confirmed=False)
    assert "secret=" in uri

    response = client.post("/console/account/second-factor/confirm", {"otp": totp_code(device)})
    assert response.status_code == 302
    assert "is set up" in main_of(client.get("/console/account/second-factor"))

    client.post("/console/sign-out")
    refused = client.post("/console/sign-in", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 401 and "one-time code" in main_of(refused)
    device.refresh_from_db()
    response = client.post(
        "/console/sign-in",
        {"username": user.username, "password": PASSWORD, "otp": totp_code(device, steps_ahead=1)},
    )
    assert response.status_code == 302


def test_a_wrong_code_leaves_the_app_unconfirmed_and_says_so_next_to_the_field(world):
    user = world.b.caseworker
    client = signed_in_as(user)
    client.post("/console/account/second-factor/setup")
    response = client.post("/console/account/second-factor/confirm", {"otp": "000000"})
    assert response.status_code == 400
    assert "wrong" in error_next_to(response, "id_otp")
    assert not user.totpdevice_set.filter(confirmed=True).exists()


def test_the_authenticator_app_is_removed(world):
    user = world.b.caseworker
    confirmed_totp_device(user)
    client = Client()
    client.force_login(user)
    response = client.post("/console/account/second-factor/remove")
    assert response.status_code == 302
    assert not user.totpdevice_set.exists()


# Notifications -------------------------------------------------------------------------------------


def test_notifications_are_the_persons_own_and_link_to_the_referral(world):
    referral = world.send()
    focal = signed_in_as(world.b.focal_point)
    response = focal.get("/console/notifications")
    assert response.status_code == 200
    body = main_of(response)
    assert "New referral" in body and "new_referral" not in body
    assert f'href="/console/referrals/{referral.pk}"' in body
    assert "1 unread" in page(response)  # the header's badge
    other = signed_in_as(world.c.focal_point)
    assert referral.reference not in main_of(other.get("/console/notifications"))


def test_marking_one_and_all_read(world):
    world.send()
    world.send(idempotency_key="second")
    mine = list(Notification.objects.filter(recipient=world.b.focal_point))
    assert len(mine) == 2
    foreign = Notification.objects.create(
        recipient=world.c.focal_point, organisation=world.c, kind="new_referral", reference="X", link="/"
    )
    client = signed_in_as(world.b.focal_point)
    response = client.post(
        "/console/notifications/read", {"id": [str(mine[0].pk), str(foreign.pk), "nonsense"]}
    )
    assert response.status_code == 302
    assert Notification.objects.filter(read_at__isnull=False).count() == 1
    foreign.refresh_from_db()
    assert foreign.read_at is None  # someone else's notice is ignored like a missing one
    assert "1 unread" in page(client.get("/console/notifications"))
    client.post("/console/notifications/read", {"all": "on"})
    assert not Notification.objects.filter(recipient=world.b.focal_point, read_at__isnull=True).exists()
    assert "unread" not in page(client.get("/console/notifications")).split("<main", 1)[0]


def test_the_notifications_page_follows_the_selector(world, monkeypatch):
    world.send()
    client = signed_in_as(world.b.focal_point)
    monkeypatch.setattr(
        "console.account.notification_list_visible", lambda **kwargs: Notification.objects.none()
    )
    assert "No notifications." in main_of(client.get("/console/notifications"))


def test_the_notifications_page_costs_the_same_for_many_rows(world, django_assert_num_queries):
    for number in range(3):
        world.send(idempotency_key=f"key-{number}")
    client = signed_in_as(world.b.focal_point)
    # the session, the user, the membership (kept for the header), the count, the page, the badge
    with django_assert_num_queries(6):
        client.get("/console/notifications")


def test_preferences_are_saved_and_refused_next_to_their_field(world):
    user = world.b.caseworker
    client = signed_in_as(user)
    data = {
        "email_events": ["new_referral"],
        "sms_events": [],
        "sms_number": "",
        "quiet_hours_start": "20:00",
        "quiet_hours_end": "07:00",
        "time_zone": "Africa/Nairobi",
        "language": "fr",
    }
    assert client.post("/console/account/preferences", data).status_code == 302
    preference = NotificationPreference.objects.get(user=user)
    assert preference.email_events == ["new_referral"] and preference.language == "fr"
    assert preference.time_zone == "Africa/Nairobi"

    response = client.post("/console/account/preferences", {**data, "sms_number": "0700 000"})
    assert response.status_code == 400
    assert "international form" in error_next_to(response, "id_sms_number")
    response = client.post("/console/account/preferences", {**data, "quiet_hours_end": ""})
    assert response.status_code == 400
    assert "start and an end" in error_next_to(response, "id_quiet_hours_start")


# The demo's persona page ---------------------------------------------------------------------------


def test_the_personas_are_named_as_the_guidance_names_them():
    assert demo.demo_personas() == [
        ("peter.unhcr", demo.PROTECTION_OFFICER),
        ("joy.wpa", demo.CASEWORKER),
        ("sara.wpa", demo.FOCAL_POINT),
        ("amina.unhcr", demo.PSEA_FOCAL_POINT),
        ("ops.admin", demo.OPERATION_ADMIN),
    ]


@pytest.fixture
def demo_people(db):
    people = {
        username: UserFactory(username=username, email=f"{username}@demo.invalid")
        for username in ("peter.unhcr", "joy.wpa", "sara.wpa", "amina.unhcr")
    }
    admin = PlatformAdminFactory(username="ops.admin", email="ops.admin@demo.invalid")
    confirmed_totp_device(admin)
    return {**people, "ops.admin": admin}


def test_outside_demo_mode_the_persona_page_and_its_sign_in_are_not_found(client, demo_people, world):
    response = client.get("/console/demo")
    assert response.status_code == 404
    response = client.post("/console/demo/sign-in", {"username": "joy.wpa"})
    assert response.status_code == 404 and not is_signed_in(client)
    assert "/console/demo" not in page(client.get("/console/sign-in"))
    signed_in = signed_in_as(world.b.caseworker)
    missing = signed_in.get("/console/referrals/00000000-0000-0000-0000-000000000000")
    for response in (
        signed_in.get("/console/demo"),
        signed_in.post("/console/demo/sign-in", {"username": "joy.wpa"}),
    ):
        assert response.status_code == 404 and main_of(response) == main_of(missing)


def test_in_demo_mode_one_click_signs_in_as_a_persona(client, demo_people, settings):
    settings.DEMO_MODE = True
    assert 'href="/console/demo"' in page(client.get("/console/sign-in"))
    response = client.get("/console/demo")
    assert response.status_code == 200
    body = main_of(response)
    for role in ("Protection officer", "Caseworker", "Focal point", "PSEA focal point", "Operation admin"):
        assert f"<h2>{role}</h2>" in body
    response = client.post("/console/demo/sign-in", {"username": "joy.wpa"})
    assert response.status_code == 302
    assert client.get("/console/account").context["user"].username == "joy.wpa"


def test_the_operation_admin_passes_the_second_factor(client, demo_people, settings):
    settings.DEMO_MODE = True
    assert client.post("/console/demo/sign-in", {"username": "ops.admin"}).status_code == 302
    assert client.get("/console/account").context["user"].username == "ops.admin"
    device = demo_people["ops.admin"].totpdevice_set.get()
    assert device.last_t >= 0  # its code of this step was spent through the real check


def test_only_a_demo_persona_can_be_signed_in_as(client, demo_people, settings, world):
    settings.DEMO_MODE = True
    response = client.post("/console/demo/sign-in", {"username": world.b.focal_point.username})
    assert response.status_code == 404 and not is_signed_in(client)


def test_the_one_click_sign_in_is_csrf_protected(demo_people, settings):
    settings.DEMO_MODE = True
    client = Client(enforce_csrf_checks=True)
    assert client.post("/console/demo/sign-in", {"username": "joy.wpa"}).status_code == 403


def test_make_demo_turns_demo_mode_on_and_announces_the_persona_page(capsys):
    from hub.demo import Demo

    demo_run = Demo(8123)
    assert demo_run.env["DEMO_MODE"] == "1"
    demo_run.announce()
    assert "http://127.0.0.1:8123/console/demo" in capsys.readouterr().out


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_kind_of_notification_has_words_in_each_language(language):
    from django.utils import translation

    from console.account_labels import NOTIFICATION_KIND_LABELS

    assert set(NOTIFICATION_KIND_LABELS) == set(Notification.Kind.values)
    english = {kind: str(text) for kind, text in NOTIFICATION_KIND_LABELS.items()}
    with translation.override(language):
        translated = {kind: str(text) for kind, text in NOTIFICATION_KIND_LABELS.items()}
    assert all(translated[kind] != english[kind] for kind in english)


def test_the_account_page_in_arabic_has_no_untranslated_words_of_ours(world):
    client = signed_in_as(world.b.caseworker)
    client.cookies["django_language"] = "ar"
    body = main_of(client.get("/console/account"))
    assert 'dir="rtl"' in page(client.get("/console/account"))
    for english in ("Your account", "Sign out everywhere", "Notifications you receive"):
        assert english not in body
