"""The referral inbox at scale: our index-backed visibility selector against guardian's
``get_objects_for_user`` on the same grants.

Runs in a throw-away test database. Builds REFERRALS referrals between ORGANISATIONS
organisations (bulk inserts, grants included), then times one inbox page (50 newest) for a
caseworker of one receiving organisation, both ways, and checks they return the same rows.
"""

import os
import statistics
import time
import uuid
from datetime import timedelta

REFERRALS = 100_000
ORGANISATIONS = 20
PAGE = 50
ROUNDS = 15


def _timed(function) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), result


def run() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.utils import timezone
    from guardian.shortcuts import get_objects_for_user

    print(f"Referral inbox, {REFERRALS:,} referrals between {ORGANISATIONS} organisations")
    # a database of its own: never the demo's, never the test suite's
    connection.settings_dict["TEST"]["NAME"] = "benchmark_referrals"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from referrals.models import Referral, ReferralGroupObjectPermission
        from referrals.selectors import referral_list_visible, with_details
        from tests.factories import ConsentRecordFactory, PersonFactory, ServiceFactory, member
        from tests.factories import organisation_with_focal_point as make_organisation

        organisations = [make_organisation()[0] for _ in range(ORGANISATIONS)]
        services = [ServiceFactory(organisation=organisation) for organisation in organisations]
        senders = [member(organisation) for organisation in organisations]
        persons = [PersonFactory(organisation=organisation) for organisation in organisations]
        consents = [
            ConsentRecordFactory(person=person, recipient_scope="pathway", obtained_by=sender)
            for person, sender in zip(persons, senders, strict=True)
        ]
        view = Permission.objects.get(codename="view_referral")
        respond = Permission.objects.get(codename="respond_referral")
        manage = Permission.objects.get(codename="manage_referral")
        now = timezone.now()
        start = time.perf_counter()
        batch, grants = [], []
        for index in range(REFERRALS):
            sender_index = index % ORGANISATIONS
            receiver_index = (index * 7 + 3) % ORGANISATIONS
            if receiver_index == sender_index:
                receiver_index = (receiver_index + 1) % ORGANISATIONS
            referral = Referral(
                id=uuid.uuid4(),
                reference=f"B-{index:08d}",
                person=persons[sender_index],
                consent=consents[sender_index],
                from_organisation=organisations[sender_index],
                from_user=senders[sender_index],
                to_service=services[receiver_index],
                to_organisation=organisations[receiver_index],
                shared_fields=["given_name", "phone"],
                payload={"given_name": "Bench", "phone": "+000"},
                due_by=now + timedelta(days=3),
                idempotency_key=f"bench-{index}",
                created_at=now - timedelta(seconds=index),
            )
            batch.append(referral)
            receiving_group = organisations[receiver_index].group_id
            sending_group = organisations[sender_index].group_id
            grants += [
                ReferralGroupObjectPermission(
                    content_object=referral, group_id=receiving_group, permission=view
                ),
                ReferralGroupObjectPermission(
                    content_object=referral, group_id=receiving_group, permission=respond
                ),
                ReferralGroupObjectPermission(
                    content_object=referral, group_id=sending_group, permission=view
                ),
                ReferralGroupObjectPermission(
                    content_object=referral, group_id=sending_group, permission=manage
                ),
            ]
            if len(batch) == 5000:
                Referral.objects.bulk_create(batch)
                ReferralGroupObjectPermission.objects.bulk_create(grants)
                batch, grants = [], []
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"  built in {time.perf_counter() - start:.0f} s")

        caseworker = member(organisations[5])
        receiving = organisations[5].id

        def ours(received_only: bool):
            queryset = with_details(referral_list_visible(user=caseworker))
            if received_only:
                queryset = queryset.filter(to_organisation_id=receiving)
            return [r.pk for r in queryset.order_by("-created_at")[:PAGE]]

        def guardians():
            queryset = get_objects_for_user(caseworker, "referrals.view_referral", klass=Referral)
            return [
                r.pk
                for r in with_details(queryset.filter(to_organisation_id=receiving)).order_by("-created_at")[
                    :PAGE
                ]
            ]

        inbox_ms, inbox = _timed(lambda: ours(True))
        guardian_ms, guardian = _timed(guardians)
        both_ms, _both = _timed(lambda: ours(False))
        assert inbox == guardian, "the two ways disagree"
        print(f"  inbox page of {PAGE}, our selector (index on receiver, newest first): {inbox_ms:7.1f} ms")
        print(f"  inbox page of {PAGE}, guardian get_objects_for_user:                 {guardian_ms:7.1f} ms")
        print(f"  sent + received page of {PAGE}, our selector:                        {both_ms:7.1f} ms")
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
