"""The partner's inbox and referral page: tab counts from the selectors, only the payload and the
actions the facts allow (both sides), each action through its form and its service, refusals as
the page again with the reason next to its field and a 4xx, and a restricted referral that is the
same 404 as a missing one for those restricted out."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from referrals import services
from referrals.models import AccessLog, Referral
from tests.referrals.test_console_selectors import hand_made_inbox, onward_along_a_pathway

pytestmark = pytest.mark.django_db
MISSING = "/console/referrals/00000000-0000-0000-0000-000000000000"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(response) -> str:
    return response.content.decode()


def main_of(response) -> str:
    return page(response).split('<main id="main"', 1)[1]


def url(referral, action=None) -> str:
    return f"/console/referrals/{referral.pk}" + (f"/{action}" if action else "")


def tabs_of(response) -> dict:
    return {tab["key"]: tab["count"] for tab in response.context["tabs"]}


# the inbox -------------------------------------------------------------------------------------------


def test_inbox_tabs_count_the_hand_made_referrals():
    world = hand_made_inbox()
    response = client_of(world.b.caseworker).get("/console/")
    assert tabs_of(response) == {
        "all": 5,
        "sent": 2,
        "acknowledged": 1,
        "accepted": 1,
        "declined": 1,
        "completed": 0,
        "closed": 0,
        "withdrawn": 0,
        "overdue": 1,
        "mine": 1,
    }
    body = page(response)
    assert 'aria-current="page"' in body and "5 referrals" in body
    assert 'href="/console/?status=acknowledged"' in body and 'href="/console/?mine=on"' in body
    # a tab's list and its count agree; the urgency stays with every tab
    overdue = client_of(world.b.caseworker).get("/console/?overdue=on&urgency=urgent")
    assert overdue.context["count"] == 1 and len(overdue.context["rows"]) == 1
    assert tabs_of(overdue)["sent"] == 1 and tabs_of(overdue)["all"] == 4
    assert 'href="/console/?status=sent&amp;urgency=urgent"' in page(overdue)
    # the one restricted to the second caseworker counts for them only
    assert tabs_of(client_of(world.b.caseworker2).get("/console/"))["sent"] == 3


def test_tab_counts_are_the_selectors_own(monkeypatch):
    world = hand_made_inbox()
    from referrals.selectors import TabCounts

    monkeypatch.setattr(
        "console.views.referral_tab_counts",
        lambda **kwargs: TabCounts(by_status={"closed": 7}, overdue=0, assigned_to_me=0),
    )
    tabs = tabs_of(client_of(world.b.caseworker).get("/console/"))
    assert tabs["closed"] == 7 and tabs["all"] == 7 and tabs["sent"] == 0


def test_inbox_tabs_cost_a_fixed_number_of_queries(django_assert_num_queries):
    world = hand_made_inbox()
    client = client_of(world.b.caseworker)
    client.get("/console/")
    # the session, the user, the membership, the page, the counts by status, overdue and mine, the badge
    for query in ("", "?status=sent", "?overdue=on", "?mine=on&urgency=urgent"):
        with django_assert_num_queries(8):
            client.get(f"/console/{query}")
    for _extra in range(3):
        world.send()
    with django_assert_num_queries(8):
        assert tabs_of(client.get("/console/"))["all"] == 8
    # a mix of tabs is counted by the listing itself: one query more
    with django_assert_num_queries(9):
        client.get("/console/?status=sent&mine=on")


# the referral page -----------------------------------------------------------------------------------


def test_payload_fields_are_named_in_words_never_as_codes(world):
    referral = world.send(optional_fields=["best_time_to_call"])
    body = main_of(client_of(world.b.caseworker).get(url(referral)))
    for words in ("Given name", "Phone number", "Best time to call", "Amal", "mornings"):
        assert words in body
    for code in ("given_name", "best_time_to_call", "acknowledged"):
        assert code not in body.replace('/acknowledge"', "")


def test_a_rule_changed_in_the_transition_table_shows_without_touching_the_view(world, monkeypatch):
    referral = world.send()
    client = client_of(world.b.caseworker)
    assert f'{url(referral)}/accept"' in page(client.get(url(referral)))
    monkeypatch.setattr("referrals.transitions.allowed_actions", lambda state, caller: frozenset({"decline"}))
    body = page(client.get(url(referral)))
    assert f'{url(referral)}/accept"' not in body and f'{url(referral)}/decline"' in body


def test_each_side_gets_its_own_actions(world):
    referral = world.send()
    receiving = page(client_of(world.b.caseworker).get(url(referral)))
    sending = page(client_of(world.a.caseworker).get(url(referral)))
    focal = page(client_of(world.b.focal_point).get(url(referral)))
    for action in ("acknowledge", "accept", "decline"):
        assert f'/{action}"' in receiving and f'/{action}"' not in sending
    assert '/withdraw"' in sending and '/withdraw"' not in receiving
    assert '/assign"' in focal and '/assign"' not in receiving
    # the focal point chooses among the organisation's active caseworkers
    assert world.b.caseworker2.get_username() in focal or world.b.caseworker2.get_full_name() in focal
    assert "Sent to" in sending and "Sent by" in receiving


def test_receiving_side_acknowledges_accepts_and_completes(world):
    referral = world.send()
    client = client_of(world.b.caseworker)
    response = client.post(url(referral, "acknowledge"))
    assert response.status_code == 302 and response["Location"] == url(referral)
    assert client.post(url(referral, "accept")).status_code == 302
    response = client.post(url(referral, "complete"), {"outcome": "", "note": "seen twice"})
    body = page(response)
    assert response.status_code == 400 and "An outcome is required" in body
    # the error is next to its field and linked to it
    assert 'id="complete-id_outcome-error"' in body or 'id="complete-outcome-error"' in body
    assert 'aria-describedby="complete-outcome-error"' in body and 'aria-invalid="true"' in body
    response = client.post(url(referral, "complete"), {"outcome": "service_provided", "note": "seen twice"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED and referral.outcome_note == "seen twice"
    body = main_of(client.get(url(referral)))
    assert "Outcome recorded; the referral is completed." in body and "Service provided" in body
    assert "Completed" in body and "Note: seen twice" in body


def test_decline_with_a_reason_and_its_words_in_the_history(world):
    referral = world.send()
    client = client_of(world.b.caseworker)
    response = client.post(url(referral, "decline"), {"reason": "other"})
    assert response.status_code == 400 and "Explain the reason in the note." in page(response)
    assert 'aria-describedby="decline-note-error"' in page(response)
    assert client.post(url(referral, "decline"), {"reason": "no_capacity"}).status_code == 302
    body = main_of(client.get(url(referral)))
    assert "Declined: No capacity to take the referral" in body.replace("</strong>", "")


def test_a_state_conflict_is_a_409_with_the_reason(world):
    referral = world.send()
    client = client_of(world.b.caseworker)
    services.referral_transition(actor=world.b.caseworker2, referral=referral, action="accept")
    response = client.post(url(referral, "decline"), {"reason": "no_capacity"})
    body = page(response)
    assert response.status_code == 409 and 'role="alert"' in body
    assert "the referral is “Accepted”" in body
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED


def test_a_viewer_is_refused_with_a_403(world):
    referral = world.send()
    response = client_of(world.b.viewer).post(url(referral, "accept"))
    assert response.status_code == 403 and "Viewers cannot act on referrals." in page(response)


def test_sending_side_withdraws_with_a_reason_and_closes_a_completed_one(world):
    referral = world.send()
    sender = client_of(world.a.caseworker)
    response = sender.post(url(referral, "withdraw"), {"reason": ""})
    assert response.status_code == 400 and "A reason is required" in page(response)
    assert sender.post(url(referral, "withdraw"), {"reason": "person_request"}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WITHDRAWN
    assert "Withdrawn: The person asked to stop" in main_of(sender.get(url(referral))).replace(
        "</strong>", ""
    )
    # the receiving side may no longer act: the service refuses, the page says so
    assert client_of(world.b.caseworker).post(url(referral, "accept")).status_code == 409

    done = world.send()
    services.referral_transition(actor=world.b.caseworker, referral=done, action="accept")
    services.referral_transition(
        actor=world.b.caseworker, referral=done, action="complete", outcome="service_provided"
    )
    assert '/close"' in page(sender.get(url(done)))
    assert sender.post(url(done, "close"), {"note": "thank you"}).status_code == 302
    done.refresh_from_db()
    assert done.status == Referral.Status.CLOSED


def test_focal_point_assigns_and_restricts_and_the_others_get_the_404_of_a_missing_one(world):
    referral = world.send()
    focal = client_of(world.b.focal_point)
    page_ = page(focal.get(url(referral)))
    membership = world.b.caseworker.memberships.get(organisation=world.b)
    assert f'value="{membership.pk}"' in page_
    response = focal.post(url(referral, "assign"), {"caseworker": "not-a-member"})
    assert response.status_code == 400 and "Choose an active caseworker" in page(response)
    response = focal.post(url(referral, "assign"), {"caseworker": str(membership.pk), "restrict": "on"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.assigned_to == world.b.caseworker and referral.restricted
    other = client_of(world.b.caseworker2)
    hidden, missing = other.get(url(referral)), other.get(MISSING)
    assert hidden.status_code == missing.status_code == 404 and main_of(hidden) == main_of(missing)
    assert other.post(url(referral, "accept")).status_code == 404
    assert referral.reference not in page(other.get("/console/"))
    body = main_of(client_of(world.b.caseworker).get(url(referral)))
    assert "Assigned to" in body and "restricted" in body
    # a caseworker may not assign: the focal point's action is not offered, and refused if posted
    response = client_of(world.b.caseworker).post(url(referral, "assign"), {"caseworker": str(membership.pk)})
    assert response.status_code == 403


def test_refer_onward_offers_the_pathways_suggestions_and_sends_the_child(db):
    world = onward_along_a_pathway()
    parent = world.parent
    client = client_of(world.b.caseworker)
    assert '/refer-onward"' not in page(client.get(url(parent)))  # not accepted yet
    services.referral_transition(actor=world.b.caseworker, referral=parent, action="accept")
    body = page(client.get(url(parent)))
    assert '/refer-onward"' in body and "GBV C" in body and f'value="{world.service_c.pk}"' in body
    response = client.post(url(parent, "refer-onward"), {"to_service": "", "idempotency_key": "k-1"})
    assert response.status_code == 400 and "Choose one of the suggested services." in page(response)
    data = {"to_service": str(world.service_c.pk), "idempotency_key": "k-1", "reason_note": ""}
    response = client.post(url(parent, "refer-onward"), data)
    assert response.status_code == 302
    child = Referral.objects.get(parent=parent)
    assert child.to_service == world.service_c and child.pathway_link is not None
    assert client.post(url(parent, "refer-onward"), data).status_code == 302  # a retry: the same child
    assert Referral.objects.filter(parent=parent).count() == 1
    body = main_of(client.get(url(parent)))
    assert f"Referred onward as {child.reference}." in body and f"to {child.reference}" in body


def test_events_notes_and_access_log_follow_the_facts(world):
    referral = world.send()
    client_of(world.b.caseworker).get(url(referral))
    services.referral_transition(
        actor=world.a.caseworker, referral=referral, action="withdraw", reason_code="other", note="moved away"
    )
    sending = main_of(client_of(world.a.caseworker).get(url(referral)))
    assert "Note: moved away" in sending
    assert world.b.caseworker.get_username() in sending and "Given name, Phone number" in sending
    tombstone = main_of(client_of(world.b.caseworker).get(url(referral)))
    assert "moved away" not in tombstone and "Given name" not in tombstone
    assert world.b.caseworker.get_username() in tombstone  # who read it stays, not what
    assert AccessLog.objects.filter(referral=referral).count() == 2  # B's read and A's own


def test_signed_out_visitors_go_to_sign_in_and_other_organisations_get_the_404(world):
    referral = world.send()
    response = Client().get(url(referral))
    assert response.status_code == 302 and response["Location"].startswith("/console/sign-in?next=")
    assert Client().post(url(referral, "accept")).status_code == 302
    other = client_of(world.c.focal_point)
    hidden, missing = other.get(url(referral)), other.get(MISSING)
    assert hidden.status_code == missing.status_code == 404 and main_of(hidden) == main_of(missing)
    assert other.post(url(referral, "withdraw"), {"reason": "other"}).status_code == 404
    assert client_of(world.b.caseworker).post(url(referral, "no-such-action")).status_code == 404


def test_an_overdue_referral_is_in_the_overdue_tab(world):
    referral = world.send()
    Referral.objects.filter(pk=referral.pk).update(due_by=timezone.now() - timedelta(minutes=5))
    response = client_of(world.b.caseworker).get("/console/?overdue=on")
    assert tabs_of(response)["overdue"] == 1 and referral.reference in page(response)
