"""A person's own password and sessions: changing the password ends their other sessions, signing out
everywhere ends all of them and revokes their API tokens, without decoding the session table."""

import pytest
from django.test import Client
from knox.models import AuthToken

from common.errors import NotAuthenticated, ServiceError
from partners import services
from tests.conftest import PASSWORD, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "plum-orbit-candle-42"


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client) -> bool:
    return client.get("/console/account").status_code == 200


def test_password_change_needs_the_current_password():
    user = UserFactory()
    with pytest.raises(NotAuthenticated) as caught:
        services.password_change(user=user, old_password="not it", new_password=NEW_PASSWORD)
    assert (caught.value.code, caught.value.field) == ("authentication_failed", "old_password")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["short", "password1234", "12345678901234", PASSWORD])
def test_password_change_applies_the_password_rules(weak):
    user = UserFactory()
    with pytest.raises(ServiceError) as caught:
        services.password_change(user=user, old_password=PASSWORD, new_password=weak)
    assert (caught.value.code, caught.value.field) == ("weak_password", "new_password")


def test_password_change_ends_every_session_of_the_person():
    user, other = UserFactory(), UserFactory()
    browser, bystander = signed_in_client(user), signed_in_client(other)
    services.password_change(user=user, old_password=PASSWORD, new_password=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not is_signed_in(browser)
    assert is_signed_in(bystander)


def test_signing_out_everywhere_ends_sessions_and_revokes_tokens_but_keeps_the_password():
    user, other = UserFactory(), UserFactory()
    first, second, bystander = signed_in_client(user), signed_in_client(user), signed_in_client(other)
    token_for(user)
    token_for(user)
    kept = token_for(other)
    assert services.sessions_end_everywhere(user=user, password=PASSWORD) == 2
    assert not is_signed_in(first) and not is_signed_in(second)
    assert is_signed_in(bystander)
    assert list(AuthToken.objects.values_list("user", flat=True)) == [other.pk] and kept
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # the same password, stored under a new salt


def test_signing_out_everywhere_needs_the_password_and_changes_nothing_without_it():
    user = UserFactory()
    browser = signed_in_client(user)
    token_for(user)
    with pytest.raises(NotAuthenticated) as caught:
        services.sessions_end_everywhere(user=user, password="guess")
    assert caught.value.field == "password"
    assert is_signed_in(browser) and AuthToken.objects.filter(user=user).exists()


def test_signing_out_everywhere_reads_no_session_row(django_assert_num_queries):
    user = UserFactory()
    # a savepoint, lock the user, store the password again, delete the tokens, release
    with django_assert_num_queries(5) as captured:
        services.sessions_end_everywhere(user=user, password=PASSWORD)
    assert not any("django_session" in query["sql"] for query in captured.captured_queries)
