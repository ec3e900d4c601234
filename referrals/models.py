import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from consent.fields import DecryptingQuerySet, EncryptedJSONField, EncryptedTextField

# Referrals ---------------------------------------------------------------------------------
# A referral carries the minimal payload snapshot to one service. Its history leaves out the
# payload and free-text notes (they are personal data that withdrawal and erasure must be able to
# remove for good), so audit rows never hold a copy of them. The payload and notes, and the notes
# of its events, are sealed with the data key of the referral's person (consent.keys): erasing the
# person destroys that key, so even copies outside the database can no longer be read.


def new_reference() -> str:
    """A short reference people can read out on the phone; random, so it leaks no volume."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "R-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Referral(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        COMPLETED = "completed", "Completed"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATUSES = (Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED)
    AWAITING_ANSWER = (Status.SENT, Status.ACKNOWLEDGED)

    class Urgency(models.TextChoices):
        EMERGENCY = "emergency", "Emergency"
        URGENT = "urgent", "Urgent"
        NORMAL = "normal", "Normal"

    class Source(models.TextChoices):
        INTERNAL = "internal", "Identified by the referring organisation"
        EXTERNAL = "external", "Referred to us by another actor"
        SELF = "self", "Self-referral"

    class Outcome(models.TextChoices):
        SERVICE_PROVIDED = "service_provided", "Service provided"
        PARTIALLY_PROVIDED = "partially_provided", "Service partially provided"
        NOT_PROVIDED = "not_provided", "Service not provided"
        PERSON_UNREACHABLE = "person_unreachable", "Person could not be reached"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    person = models.ForeignKey("consent.Person", on_delete=models.PROTECT, related_name="referrals")
    consent = models.ForeignKey("consent.ConsentRecord", on_delete=models.PROTECT, related_name="referrals")
    from_organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, related_name="referrals_sent"
    )
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_service = models.ForeignKey(
        "partners.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_out",
        help_text="Empty when the person came through an intake point rather than a service",
    )
    to_service = models.ForeignKey("partners.Service", on_delete=models.PROTECT, related_name="referrals_in")
    # Denormalised from to_service: the inbox selector filters on this indexed column.
    to_organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, related_name="referrals_received"
    )
    pathway = models.ForeignKey(
        "pathways.Pathway", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    pathway_version = models.PositiveIntegerField(null=True, blank=True)
    pathway_link = models.ForeignKey(
        "pathways.PathwayLink", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="onward_referrals"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.INTERNAL)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENT)
    # What the receiving side may read. Names are not personal data; values are, and are encrypted.
    shared_fields = ArrayField(models.CharField(max_length=32), default=list)
    payload = EncryptedJSONField()
    has_note = models.BooleanField(default=False)
    note_shared = models.BooleanField(default=False)
    reason_note = EncryptedTextField(help_text="The referrer's note; shared only if consent covers narrative")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    restricted = models.BooleanField(default=False, help_text="Visible only to the assigned caseworker")
    due_by = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="When it last climbed a level")
    # the escalation level reached on the current clock: the answer clock (``due_by``) until accepted,
    # then the outcome clock (``outcome_due_by``), which accepting starts again at 0
    escalation_level = models.PositiveSmallIntegerField(
        default=0,
        help_text="0, 1 or 2: the level reached on the current clock (answer; outcome once accepted)",
    )
    outcome_due_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Accepted: the outcome is due by then (the service's outcome_due_days)",
    )
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True)
    outcome_note = EncryptedTextField()
    idempotency_key = models.CharField(max_length=100)
    payload_erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["payload", "reason_note", "outcome_note"])

    objects = DecryptingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("respond_referral", "Can acknowledge, accept, decline, complete and refer onward"),
            ("manage_referral", "Can withdraw and close (the referring side)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["from_organisation", "idempotency_key"], name="referral_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(outcome=""), name="completed_referral_has_outcome"
            ),
            models.CheckConstraint(
                condition=Q(pathway__isnull=True) | Q(pathway_version__isnull=False),
                name="referral_pathway_version_recorded",
            ),
        ]
        indexes = [
            # newest first per side, in the lists' exact order (id breaks ties): a page stops after
            # its rows' index entries, and a keyset cursor resumes inside the index
            models.Index(fields=["to_organisation", "-created_at", "-id"], name="referral_received_idx"),
            models.Index(fields=["from_organisation", "-created_at", "-id"], name="referral_sent_idx"),
            models.Index(
                fields=["to_organisation", "status", "-created_at", "-id"], name="referral_inbox_idx"
            ),
            models.Index(
                fields=["from_organisation", "status", "-created_at", "-id"], name="referral_outbox_idx"
            ),
            models.Index(fields=["assigned_to", "-created_at", "-id"], name="referral_assigned_idx"),
            models.Index(
                fields=["outcome_due_by"],
                name="referral_outcome_due_idx",
                condition=Q(status="accepted", outcome_due_by__isnull=False),
            ),
            models.Index(
                fields=["due_by"],
                name="referral_awaiting_due_idx",
                condition=Q(status__in=["sent", "acknowledged"]),
            ),
            # overdue per side, counted without visiting the finished referrals
            models.Index(
                fields=["to_organisation", "due_by"],
                name="referral_received_due_idx",
                condition=Q(status__in=["sent", "acknowledged"]),
            ),
            models.Index(
                fields=["from_organisation", "due_by"],
                name="referral_sent_due_idx",
                condition=Q(status__in=["sent", "acknowledged"]),
            ),
            # the reference search is a prefix match (LIKE 'R-7K2%'), served whatever the collation
            models.Index(
                fields=["reference"], name="referral_reference_like_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.status in self.AWAITING_ANSWER and self.due_by < timezone.now()


class ReferralCount(models.Model):
    """How many referrals each organisation's group may see, per side, receiving service, status and
    urgency: what list counts add up instead of counting rows.

    Kept by statement-level PostgreSQL triggers (migration 0004,
    ``referrals/sql/referral_counts_statements.sql``: one set-based upsert per statement, whatever
    the number of rows) in the transaction of every change that moves a
    count — a group view grant given or taken, a referral's status, urgency or service changed — so
    no code path (bulk updates, cascades, COPY) can leave it behind. Concurrent writers add to
    different ``slot`` rows (by backend, 16 of them) and seldom wait on one another; a count is the
    sum over slots. ``internal``: sent within the organisation, so counted on both sides (a list of both
    sides counts it once). ``referrals.counts.rebuild()`` recomputes it from the grants. Referrals
    visible to a user only (restricted ones) are not in it: they are counted from that user's grants.
    """

    SENT, RECEIVED = "sent", "received"

    organisation = models.ForeignKey("partners.Organisation", on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=8, choices=[(SENT, "Sent"), (RECEIVED, "Received")])
    service = models.ForeignKey("partners.Service", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Referral.Status.choices)
    urgency = models.CharField(max_length=16, choices=Referral.Urgency.choices)
    internal = models.BooleanField()
    slot = models.SmallIntegerField()
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "side", "service", "status", "urgency", "internal", "slot"],
                name="referral_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.side} {self.status}: {self.count}"


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralEvent(models.Model):
    class Kind(models.TextChoices):
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        COMPLETED = "completed", "Completed"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"
        CONSENT_WITHDRAWN = "consent_withdrawn", "Withdrawn: consent withdrawn"
        ASSIGNED = "assigned", "Assigned"
        REFERRED_ONWARD = "referred_onward", "Referred onward"
        ESCALATED = "escalated", "Escalated: no answer or no outcome by its due date"
        PAYLOAD_ERASED = "payload_erased", "Shared data erased"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    reason_code = models.CharField(max_length=32, blank=True)
    note = EncryptedTextField(key_from="referral.person_id")  # the referral's person's key
    at = models.DateTimeField(default=timezone.now)

    objects = DecryptingQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind}"


class AccessLog(models.Model):
    """One read of a referral's payload: who, when, which fields, through which API."""

    class Api(models.TextChoices):
        REST = "rest", "REST"
        GRAPHQL = "graphql", "GraphQL"
        ADMIN = "admin", "Admin"
        CONSOLE = "console", "Console"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="access_log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    fields = ArrayField(models.CharField(max_length=32))
    api = models.CharField(max_length=8, choices=Api.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["referral", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.referral_id} via {self.api}"


class Notification(models.Model):
    """The outbox and the in-app inbox: one message to one user. Never personal data — a reference,
    the kind of event, a reason or outcome code and a link behind authentication. The notifications
    app delivers it on the channels its recipient chose (e-mail, SMS) and lists it in both APIs."""

    class Kind(models.TextChoices):
        NEW_REFERRAL = "new_referral", "New referral"
        REFERRAL_ACKNOWLEDGED = "referral_acknowledged", "Referral acknowledged"
        REFERRAL_ACCEPTED = "referral_accepted", "Referral accepted"
        REFERRAL_DECLINED = "referral_declined", "Referral declined"
        OUTCOME_RECORDED = "outcome_recorded", "Outcome recorded"
        ONWARD_OUTCOME_RECORDED = "onward_outcome_recorded", "Outcome recorded on an onward referral"
        REFERRAL_WITHDRAWN = "referral_withdrawn", "Referral withdrawn"
        CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn: delete your copy"
        REFERRAL_ESCALATED = "referral_escalated", "Referral overdue"
        OUTCOME_OVERDUE = "outcome_overdue", "Outcome overdue"
        CONSENT_EXPIRED = "consent_expired", "Consent expired"
        REQUEST_DUE_SOON = "request_due_soon", "Data-subject request due soon"

    # Reminders about a record (not a referral's events): each is sent to a recipient once.
    ONCE_KINDS = (Kind.CONSENT_EXPIRED, Kind.REQUEST_DUE_SOON)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The organisation the recipient was told as a member of: the in-app inbox lists a notice only
    # while they are an active member there.
    organisation = models.ForeignKey(
        "partners.Organisation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, null=True, related_name="+")
    # The record a reminder is about (a consent record, a data-subject request), for "once".
    subject_id = models.UUIDField(null=True, blank=True)
    reference = models.CharField(max_length=16)
    # A code from a closed list (a decline reason, an outcome), never free text.
    reason_code = models.CharField(max_length=32, blank=True, default="")
    link = models.CharField(max_length=200)
    urgent = models.BooleanField(
        default=False, help_text="Emergency or PSEA: delivered at once, even in the recipient's quiet hours"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When every chosen channel was done")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], name="notification_unsent_idx", condition=Q(sent_at__isnull=True)
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
            models.Index(fields=["kind", "subject_id"], name="notification_subject_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_id"],
                condition=Q(kind__in=["consent_expired", "request_due_soon"]),
                name="notification_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class InformationGiven(models.Model):
    """A person was given a service's contact details: counted, with no personal data."""

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "Phone"
        HOTLINE = "hotline", "Hotline"
        LEAFLET = "leaflet", "Leaflet / poster"
        ONLINE = "online", "Online"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey("partners.Service", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    organisation = models.ForeignKey("partners.Organisation", on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.service_id} via {self.channel}"
