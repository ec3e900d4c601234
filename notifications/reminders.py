"""Reminders about records, written to the outbox by periodic jobs: a consent that expired, a
data-subject request nearing its due date. Each recipient is told once per record (the outbox's
unique constraint decides, so overlapping runs and retried jobs still tell once).

Like every notice they carry a reference and a link behind authentication, never a value of the
person. Who is told: the focal point of the organisation holding the record, and the member who
obtained the consent or recorded the request, while they are active members there.

That an expired consent no longer carries a new referral is not decided here: the consent check
(``ConsentRecord.is_valid_for``) judges expiry on every send.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from consent.models import ConsentRecord, DataSubjectRequest
from partners.models import Membership
from referrals.models import Notification
from referrals.outbox import outbox_write

BATCH = 500


def _short_reference(prefix: str, record) -> str:
    return f"{prefix}-{record.pk.hex[:8].upper()}"


def _told(kind: str):
    return Exists(Notification.objects.filter(kind=kind, subject_id=OuterRef("pk")))


def _holders(records, user_attname: str) -> dict:
    """For each record, the active members to tell: the focal point and the member it names."""
    organisation_ids = {record.organisation_id for record in records}
    named = {getattr(record, user_attname) for record in records}
    members = Membership.objects.filter(
        organisation_id__in=organisation_ids, is_active=True, user__is_active=True
    )
    members = members.filter(Q(role=Membership.Role.FOCAL_POINT) | Q(user_id__in=named)).values_list(
        "organisation_id", "user_id", "role"
    )
    focal_points, active = {}, set()
    for organisation_id, user_id, role in members:
        active.add((organisation_id, user_id))
        if role == Membership.Role.FOCAL_POINT:
            focal_points[organisation_id] = user_id
    holders = {}
    for record in records:
        candidates = [focal_points.get(record.organisation_id), getattr(record, user_attname)]
        holders[record.pk] = [
            user_id
            for user_id in dict.fromkeys(candidates)
            if user_id is not None and (record.organisation_id, user_id) in active
        ]
    return holders


def _remind(records, *, kind: str, prefix: str, link: str, user_attname: str) -> int:
    holders = _holders(records, user_attname)
    rows = [
        Notification(
            recipient_id=user_id,
            organisation_id=record.organisation_id,
            kind=kind,
            subject_id=record.pk,
            reference=_short_reference(prefix, record),
            link=link.format(id=record.pk),
        )
        for record in records
        for user_id in holders[record.pk]
    ]
    return len(outbox_write(rows))


@transaction.atomic
def consents_expired_remind(*, today=None) -> int:
    """Tell the holders of each consent that has expired (and was neither withdrawn nor replaced)."""
    today = today or timezone.localdate()
    kind = Notification.Kind.CONSENT_EXPIRED
    records = list(
        ConsentRecord.objects.filter(status=ConsentRecord.Status.ACTIVE, expires_on__lt=today)
        .filter(~_told(kind))
        .only("id", "organisation_id", "obtained_by_id")
        .order_by("expires_on", "id")[:BATCH]
    )
    return _remind(
        records, kind=kind, prefix="C", link="/api/v1/consents/{id}", user_attname="obtained_by_id"
    )


@transaction.atomic
def data_subject_requests_due_remind(*, today=None) -> int:
    """Tell the holders of each open request due within DATA_SUBJECT_REQUEST_REMINDER_DAYS (or late)."""
    today = today or timezone.localdate()
    kind = Notification.Kind.REQUEST_DUE_SOON
    horizon = today + timedelta(days=settings.DATA_SUBJECT_REQUEST_REMINDER_DAYS)
    requests = list(
        DataSubjectRequest.objects.filter(status=DataSubjectRequest.Status.OPEN, due_on__lte=horizon)
        .filter(~_told(kind))
        .only("id", "organisation_id", "recorded_by_id")
        .order_by("due_on", "id")[:BATCH]
    )
    return _remind(
        requests,
        kind=kind,
        prefix="Q",
        link="/api/v1/data-subject-requests/{id}",
        user_attname="recorded_by_id",
    )
