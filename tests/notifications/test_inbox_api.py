"""The in-app inbox and preferences in both APIs: one's own notices only, the unread count on
`me` and `viewer`, marking read, changing one's preferences; a member who left sees none."""

import pytest

from referrals.models import Notification
from referrals.services import referral_transition
from tests.referrals.referral_setup import build_world

pytestmark = pytest.mark.django_db

INBOX = "{ viewer { unreadNotifications } notifications(first: 10, unread: true) { totalCount edges { node { id kind reference reasonCode link urgent readAt } } } }"  # noqa: E501
MARK = "mutation($ids: [UUID!]) { markNotificationsRead(ids: $ids) { marked unread errors { code field } } }"


def test_rest_lists_ones_own_notices_and_marks_them_read(api):
    world = build_world()
    referral = world.send()
    referral_transition(
        actor=world.b.focal_point, referral=referral, action="decline", reason_code="no_capacity"
    )
    focal, referrer = api(world.b.focal_point), api(world.a.caseworker)
    assert focal.get("/api/v1/me").json()["unread_notifications"] == 1
    (notice,) = referrer.get("/api/v1/notifications?unread=true").json()["results"]
    assert notice["kind"] == "referral_declined" and notice["reason_code"] == "no_capacity"
    assert notice["reference"] == referral.reference and notice["link"] == f"/api/v1/referrals/{referral.pk}"
    # someone else's notice cannot be marked: it is ignored like one that does not exist
    answer = focal.post("/api/v1/notifications/read", {"ids": [notice["id"]]}).json()
    assert answer == {"marked": 0, "unread": 1}
    assert referrer.post("/api/v1/notifications/read", {"ids": [notice["id"]]}).json() == {
        "marked": 1,
        "unread": 0,
    }
    assert referrer.get("/api/v1/notifications?unread=true").json()["results"] == []
    assert len(referrer.get("/api/v1/notifications").json()["results"]) == 1
    assert focal.post("/api/v1/notifications/read", {"all": True}).json() == {"marked": 1, "unread": 0}
    assert focal.post("/api/v1/notifications/read", {}).json()["error"]["code"] == "invalid"


def test_graphql_lists_and_marks_read(gql):
    world = build_world()
    referral = world.send()
    status, body = gql(world.b.focal_point, INBOX)
    assert status == 200 and body["data"]["viewer"]["unreadNotifications"] == 1
    (edge,) = body["data"]["notifications"]["edges"]
    assert edge["node"]["kind"] == "new_referral" and edge["node"]["reference"] == referral.reference
    _, other = gql(world.a.caseworker, MARK, {"ids": [edge["node"]["id"]]})
    assert other["data"]["markNotificationsRead"] == {"marked": 0, "unread": 0, "errors": []}
    _, marked = gql(world.b.focal_point, MARK, {"ids": [edge["node"]["id"]]})
    assert marked["data"]["markNotificationsRead"] == {"marked": 1, "unread": 0, "errors": []}


def test_a_member_who_left_sees_no_notices(api):
    world = build_world()
    world.send()
    world.b.focal_point.memberships.update(is_active=False)
    assert api(world.b.focal_point).get("/api/v1/notifications").json()["results"] == []
    assert Notification.objects.filter(recipient=world.b.focal_point).count() == 1


def test_preferences_are_read_and_changed_by_their_owner(api, gql):
    world = build_world()
    client = api(world.a.caseworker)
    defaults = client.get("/api/v1/me/notification-preferences").json()
    assert defaults["email_events"] == list(Notification.Kind.values) and defaults["sms_events"] == []
    changed = client.patch(
        "/api/v1/me/notification-preferences",
        {
            "sms_events": ["referral_declined"],
            "sms_number": "+254 700 000 001",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "06:30",
            "time_zone": "Africa/Nairobi",
            "language": "ar",
        },
    ).json()
    assert changed["sms_number"] == "+254700000001" and changed["quiet_hours_end"] == "06:30:00"
    refused = client.patch("/api/v1/me/notification-preferences", {"sms_number": "0700"}).json()
    assert refused["error"]["code"] == "invalid" and "sms_number" in refused["error"]["fields"]
    refused = client.patch("/api/v1/me/notification-preferences", {"time_zone": "Mars/Olympus"}).json()
    assert refused["error"]["code"] == "invalid"
    _, body = gql(world.a.caseworker, "{ notificationPreferences { language smsEvents timeZone } }")
    assert body["data"]["notificationPreferences"] == {
        "language": "ar",
        "smsEvents": ["referral_declined"],
        "timeZone": "Africa/Nairobi",
    }
    _, body = gql(
        world.a.caseworker,
        'mutation { updateNotificationPreferences(emailEvents: ["new_referral"], clearQuietHours: true) '
        "{ preferences { emailEvents quietHoursStart } errors { code field } } }",
    )
    assert body["data"]["updateNotificationPreferences"] == {
        "preferences": {"emailEvents": ["new_referral"], "quietHoursStart": None},
        "errors": [],
    }
    _, body = gql(
        world.a.caseworker,
        'mutation { updateNotificationPreferences(emailEvents: ["nope"]) { errors { code field } } }',
    )
    assert body["data"]["updateNotificationPreferences"]["errors"] == [
        {"code": "invalid", "field": "emailEvents"}
    ]
    # another user's preferences are untouched
    assert api(world.b.focal_point).get("/api/v1/me/notification-preferences").json()["language"] == "en"
