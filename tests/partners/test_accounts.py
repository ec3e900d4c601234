"""Nobody sets or learns another person's password: new accounts are activated by a one-time link
mailed to their owner. Through real HTTP requests, with the mail as Django sends it."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from partners.models import ActivationToken, Membership
from tests.conftest import admin_login
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "plum-orbit-candle-42"


@pytest.fixture(autouse=True)
def _activation_page(settings):
    settings.ACCOUNT_ACTIVATION_URL = "https://hub.example.org/activate#token={token}"


def token_in(mail) -> str:
    [token] = re.findall(r"https://hub\.example\.org/activate#token=([\w-]+)", mail.body)
    return token


def activate(client, token: str, password: str = NEW_PASSWORD):
    return client.post(
        "/api/v1/auth/activate", {"token": token, "password": password}, content_type="application/json"
    )


def login(client, username: str, password: str = NEW_PASSWORD):
    return client.post(
        "/api/v1/auth/login", {"username": username, "password": password}, content_type="application/json"
    )


@pytest.fixture
def appoint(api, platform_admin, django_capture_on_commit_callbacks):
    """``appoint(**body)`` → the platform admin's POST …/focal-point response, mails sent."""

    def run(**body):
        organisation = OrganisationFactory(name="Hope Trust", acronym="HT")
        with django_capture_on_commit_callbacks(execute=True):
            return api(platform_admin).post(
                f"/api/v1/organisations/{organisation.id}/focal-point", body, format="json"
            )

    return run


def test_appointed_focal_point_activates_the_account_through_the_mailed_link(client, appoint, mailoutbox):
    response = appoint(username="hope.fp", create_user=True, email="hope.fp@example.org", first_name="Hope")
    assert response.status_code == 200, response.json()
    user = User.objects.get(username="hope.fp")
    assert not user.has_usable_password()
    assert login(client, "hope.fp").status_code == 401  # no password exists until the owner picks one

    [mail] = mailoutbox
    assert mail.to == ["hope.fp@example.org"]
    token = token_in(mail)
    # the mail carries the link and nothing personal: no username, name or organisation
    text = (mail.subject + mail.body).replace(token, "")  # the random token may hold any letters
    for personal in ("hope.fp", "Hope", "HT"):
        assert personal not in text
    # the admin's response holds neither the token nor any password
    assert token not in response.content.decode()
    assert "password" not in response.content.decode()

    activated = activate(client, token)
    assert activated.status_code == 200, activated.json()
    assert activated.json() == {"username": "hope.fp"}
    assert login(client, "hope.fp").status_code == 200
    assert ActivationToken.objects.get(user=user).used_at is not None


def test_activation_link_works_once(client, appoint, mailoutbox):
    appoint(username="hope.fp", create_user=True, email="hope.fp@example.org")
    token = token_in(mailoutbox[0])
    assert activate(client, token).status_code == 200
    again = activate(client, token, password="another-long-phrase-7")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "activation_token_invalid"
    assert login(client, "hope.fp").status_code == 200  # the first password still holds
    assert login(client, "hope.fp", "another-long-phrase-7").status_code == 401


def test_expired_activation_link_is_refused(client, appoint, mailoutbox):
    appoint(username="hope.fp", create_user=True, email="hope.fp@example.org")
    ActivationToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = activate(client, token_in(mailoutbox[0]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "activation_token_expired"
    assert not User.objects.get(username="hope.fp").has_usable_password()


def test_unknown_activation_token_is_refused(client, db):
    response = activate(client, "not-a-token")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "activation_token_invalid"


def test_weak_password_does_not_spend_the_link(client, appoint, mailoutbox):
    appoint(username="hope.fp", create_user=True, email="hope.fp@example.org")
    token = token_in(mailoutbox[0])
    weak = activate(client, token, password="123")
    assert weak.status_code == 400 and weak.json()["error"]["code"] == "weak_password"
    assert activate(client, token).status_code == 200


def test_stored_token_is_only_a_hash(appoint, mailoutbox):
    appoint(username="hope.fp", create_user=True, email="hope.fp@example.org")
    token = token_in(mailoutbox[0])
    stored = ActivationToken.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_an_admin_cannot_choose_the_password_of_an_account(appoint):
    response = appoint(username="hope.fp", create_user=True, email="hope.fp@example.org", password="x" * 16)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"password": ["Unknown field."]}
    assert not User.objects.filter(username="hope.fp").exists()


def test_a_new_account_needs_an_email_for_its_link(appoint):
    response = appoint(username="hope.fp", create_user=True)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "email_required"
    assert not User.objects.filter(username="hope.fp").exists()


def test_focal_point_adds_a_member_who_activates_through_the_mail(
    api, client, org_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(org_a.focal_point).post(
            "/api/v1/memberships",
            {"username": "new.cw", "role": "caseworker", "email": "new.cw@example.org"},
            format="json",
        )
    assert response.status_code == 201
    [mail] = mailoutbox
    token = token_in(mail)
    assert token not in response.content.decode() and "password" not in response.content.decode()
    refused = api(org_a.focal_point).post(
        "/api/v1/memberships",
        {"username": "new.cw2", "role": "caseworker", "email": "a@example.org", "password": "x" * 16},
        format="json",
    )
    assert refused.status_code == 400 and "password" in refused.json()["error"]["fields"]
    assert activate(client, token).status_code == 200
    assert login(client, "new.cw").status_code == 200


def test_focal_point_sends_a_new_link_and_the_old_one_stops_working(
    api, client, org_a, mailoutbox, django_capture_on_commit_callbacks
):
    focal_point = api(org_a.focal_point)
    with django_capture_on_commit_callbacks(execute=True):
        created = focal_point.post(
            "/api/v1/memberships",
            {"username": "new.cw", "role": "caseworker", "email": "new.cw@example.org"},
            format="json",
        ).json()
    with django_capture_on_commit_callbacks(execute=True):
        resent = focal_point.post(f"/api/v1/memberships/{created['id']}/activation-link")
    assert resent.status_code == 204
    first, second = (token_in(mail) for mail in mailoutbox)
    assert activate(client, first).json()["error"]["code"] == "activation_token_invalid"
    assert activate(client, second).status_code == 200
    again = focal_point.post(f"/api/v1/memberships/{created['id']}/activation-link")
    assert again.status_code == 409 and again.json()["error"]["code"] == "account_already_active"


def test_deactivated_member_cannot_use_a_pending_link(
    api, client, org_a, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = (
            api(org_a.focal_point)
            .post(
                "/api/v1/memberships",
                {"username": "new.cw", "role": "caseworker", "email": "new.cw@example.org"},
                format="json",
            )
            .json()
        )
    api(org_a.focal_point).post(f"/api/v1/memberships/{created['id']}/deactivate")
    assert activate(client, token_in(mailoutbox[0])).json()["error"]["code"] == "activation_token_invalid"


# The Django admin ---------------------------------------------------------------------------


@pytest.fixture
def user_admin(client, platform_admin):
    """A platform admin who may even view and change accounts in the admin."""
    platform_admin.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="auth", codename__endswith="_user")
    )
    return admin_login(client, platform_admin)


def test_platform_admin_cannot_set_a_members_password_in_the_admin(user_admin, org_a):
    member = org_a.caseworker
    before = member.password
    url = f"/admin/auth/user/{member.pk}/password/"
    assert user_admin.get(url).status_code == 403
    response = user_admin.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.password == before
    page = user_admin.get(f"/admin/auth/user/{member.pk}/change/")
    assert page.status_code == 200
    assert "../password/" not in page.content.decode()  # no set-password button either


def test_accounts_are_not_created_with_a_password_in_the_admin(user_admin):
    assert user_admin.get("/admin/auth/user/add/").status_code == 403
    response = user_admin.post(
        "/admin/auth/user/add/",
        {"username": "typed.by.admin", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="typed.by.admin").exists()


def test_unticking_active_in_the_admin_closes_the_account_everywhere(user_admin, api, org_a):
    member = org_a.caseworker
    member_api = api(member)
    assert member_api.get("/api/v1/me").status_code == 200
    response = user_admin.post(
        f"/admin/auth/user/{member.pk}/change/",
        {
            "username": member.username,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "groups": [org_a.group_id],  # the form still shows the organisation's group
            # is_active left out: unticked
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert not member.is_active
    assert not Membership.objects.filter(user=member, is_active=True).exists()
    assert not member.groups.filter(pk=org_a.group_id).exists()
    assert not member.auth_token_set.exists()
    assert member_api.get("/api/v1/me").status_code == 401


def test_a_focal_point_cannot_be_closed_in_the_admin_before_a_hand_over(user_admin, org_a):
    focal_point = org_a.focal_point
    response = user_admin.post(
        f"/admin/auth/user/{focal_point.pk}/change/",
        {
            "username": focal_point.username,
            "email": focal_point.email,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        follow=True,
    )
    assert "focal_point_cannot_be_deactivated" in response.content.decode()
    focal_point.refresh_from_db()
    assert focal_point.is_active
