"""The referral inbox at scale: our index-backed visibility selector against guardian's
``get_objects_for_user`` on the same grants.

Runs on the generated benchmark database (``benchmarks._data``: ``BENCH_REFERRALS`` referrals,
default 20,000, made by ``referrals.load_data``) and times one inbox page (50 newest) for a
caseworker of the largest receiver (``--big-share`` of all referrals) and of an organisation from
the long tail, both ways, checking they return the same rows. ``size``: referrals in the database.
"""

import statistics
import time

from benchmarks import _data
from benchmarks.results import record

PAGE = 50
ROUNDS = 15
TARGET_INBOX_MS = 100  # a page the partner sees at once
TARGET_MIXED_MS = 80  # sent and received together: two index reads merged (docs/performance.md)


def _timed(function) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), result


def run() -> None:
    _data.setup_django()
    data = _data.referral_data()
    from guardian.shortcuts import get_objects_for_user

    from referrals.models import Referral
    from referrals.selectors import referral_list_visible, referral_listing, with_details

    size = data.referrals
    print(f"Referral inbox, {size:,} referrals between {len(data.organisations)} organisations")
    for label, organisation in (("largest", data.largest), ("tail", data.median)):
        caseworker = data.member(organisation)
        received = Referral.objects.filter(to_organisation=organisation).count()
        print(f"  {label} receiver {organisation.acronym}: {received:,} referrals received")

        def ours(received_only: bool, caseworker=caseworker, organisation=organisation):
            queryset = with_details(referral_list_visible(user=caseworker))
            if received_only:
                queryset = queryset.filter(to_organisation_id=organisation.id)
            return [r.pk for r in queryset.order_by("-created_at")[:PAGE]]

        def guardians(caseworker=caseworker, organisation=organisation):
            queryset = get_objects_for_user(caseworker, "referrals.view_referral", klass=Referral)
            page = with_details(queryset.filter(to_organisation_id=organisation.id)).order_by("-created_at")
            return [r.pk for r in page[:PAGE]]

        inbox_ms, inbox = _timed(lambda ours=ours: ours(True))
        guardian_ms, guardian = _timed(guardians)

        def both(caseworker=caseworker):
            return [r.pk for r in referral_listing(user=caseworker).page(first=PAGE)]

        both_ms, _both = _timed(both)
        assert inbox == guardian, "the two ways disagree"
        record(f"referrals.inbox_page.{label}.selector", inbox_ms, "ms", size=size, target=TARGET_INBOX_MS)
        record(f"referrals.inbox_page.{label}.guardian", guardian_ms, "ms", size=size)
        record(f"referrals.sent_and_received_page.{label}", both_ms, "ms", size=size, target=TARGET_MIXED_MS)
