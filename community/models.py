"""The person's own door: one-time codes, short sessions, staff locks and the door's audit log.

Nothing here holds a value of the person: references and phone numbers are kept only as keyed
digests (for the rate limits), codes only as keyed digests, and the audit log names the person by
their id.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class StatusCheckChallenge(models.Model):
    """One "send me a code" request. Written whether or not the reference and phone matched (the
    same work either way, and the rate limits count these rows); ``person`` is set only on a match,
    and only then does an SMS leave."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference_digest = models.CharField(max_length=64)
    phone_digest = models.CharField(max_length=64)
    address_digest = models.CharField(max_length=64)
    person = models.ForeignKey("consent.Person", on_delete=models.CASCADE, null=True, related_name="+")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, null=True, related_name="+")
    code_digest = models.CharField(max_length=64)
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["reference_digest", "created_at"], name="challenge_reference_idx"),
            models.Index(fields=["phone_digest", "created_at"], name="challenge_phone_idx"),
            models.Index(fields=["address_digest", "created_at"], name="challenge_address_idx"),
        ]

    def __str__(self) -> str:  # never the code, not even its digest
        return f"Status check {str(self.id)[:8]}"


class PersonSession(models.Model):
    """A short session of one person, opened by a right code; the browser's session holds its id.
    Everything the status pages show is read through it, for this person only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("consent.Person", on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="+")
    challenge = models.OneToOneField(StatusCheckChallenge, on_delete=models.CASCADE, related_name="session")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Person session {str(self.id)[:8]}"


class StatusCheckLock(models.Model):
    """Staff stopped status checks with this reference (a lost or stolen phone): no code is sent
    and sessions opened with it end, until it is unlocked. The public page never says so."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey("partners.Organisation", on_delete=models.PROTECT, related_name="+")
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    locked_at = models.DateTimeField(default=timezone.now)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(unlocked_at__isnull=True), name="status_check_one_open_lock"
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True, unlocked_by__isnull=True)
                | Q(unlocked_at__isnull=False, unlocked_by__isnull=False),
                name="status_check_unlock_has_author",
            ),
        ]

    def __str__(self) -> str:
        return f"Lock on {self.referral_id}"


class DoorEvent(models.Model):
    """The door's audit log: every access by the person, as their own (``actor_kind`` person, no
    user), and every lock or unlock by staff. No value of the person, no code."""

    class ActorKind(models.TextChoices):
        PERSON = "person", "The person"
        STAFF = "staff", "Staff"

    class Kind(models.TextChoices):
        CODE_SENT = "code_sent", "Code sent"
        SIGNED_IN = "signed_in", "Signed in with a code"
        CODE_REFUSED = "code_refused", "Wrong code"
        STATUS_VIEWED = "status_viewed", "Status viewed"
        RECEIPT_VIEWED = "receipt_viewed", "Consent receipt viewed"
        CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
        REQUEST_MADE = "request_made", "Data-subject request made"
        SIGNED_OUT = "signed_out", "Signed out"
        LOCKED = "locked", "Reference locked"
        UNLOCKED = "unlocked", "Reference unlocked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    person = models.ForeignKey("consent.Person", on_delete=models.CASCADE, null=True, related_name="+")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, null=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_id = models.UUIDField(null=True, blank=True, help_text="The consent or request acted on")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["person", "-at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_kind="person", user__isnull=True)
                | Q(actor_kind="staff", user__isnull=False),
                name="door_event_actor_consistent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_kind}"
