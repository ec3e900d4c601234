"""Data subjects, their consent records and their data-subject requests.

Personal fields are encrypted at rest (``consent.fields``). Consent records are immutable once
written: a change of scope is a new version, and only the status columns a service sets on
withdrawal or supersession may change (a Python guard in ``save`` and a PostgreSQL trigger,
migration 0002, enforce it).
"""

import uuid
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Now, TruncDate
from django.utils import timezone

from common.errors import Conflict
from consent.fields import (
    DecryptingQuerySet,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
    encrypted_history,
)
from partners.models import Location, Organisation, ServiceCategory
from partners.vocabulary import DISCLOSURE_FIELDS

ADULT_AGE = 18


class AgeBand(models.TextChoices):
    AGE_0_4 = "0_4", "0-4"
    AGE_5_11 = "5_11", "5-11"
    AGE_12_17 = "12_17", "12-17"
    AGE_18_59 = "18_59", "18-59"
    AGE_60_PLUS = "60_plus", "60+"


MINOR_AGE_BANDS = frozenset({AgeBand.AGE_0_4, AgeBand.AGE_5_11, AgeBand.AGE_12_17})


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band_for(age: int) -> str:
    for band, upper in ((AgeBand.AGE_0_4, 4), (AgeBand.AGE_5_11, 11), (AgeBand.AGE_12_17, 17)):
        if age <= upper:
            return band
    return AgeBand.AGE_18_59 if age < 60 else AgeBand.AGE_60_PLUS


class Channel(models.TextChoices):
    """How the person reached us (withdrawals and data-subject requests)."""

    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"
    HOTLINE = "hotline", "Hotline"
    WRITTEN = "written", "Written"
    # the person themself, on the status page (community): no staff member recorded it
    SELF_SERVICE = "self_service", "The person, on the status page"

    @classmethod
    def staff_values(cls) -> list[str]:
        """The channels a member of staff may record; ``self_service`` is the person's own door."""
        return [value for value in cls.values if value != cls.SELF_SERVICE]


class Person(models.Model):
    """A data subject, held by the organisation that registered them and visible only inside it."""

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Not stated"

    class PreferredChannel(models.TextChoices):
        PHONE = "phone", "Phone call"
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"
        IN_PERSON = "in_person", "In person"

    # Cleared on erasure (with their history); everything else is non-identifying statistics.
    PERSONAL_FIELDS = (
        "registration_number",
        "registration_number_hash",
        "given_name",
        "name_hashes",
        "family_name",
        "phone",
        "best_time_to_call",
        "date_of_birth",
        "location_detail",
        "specific_needs",
        "protection_concerns",
        "narrative",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="persons")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    registration_number = EncryptedTextField(key_from="id")
    # NULL, not "", when there is no number: the unique constraint ignores NULLs
    registration_number_hash = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    given_name = EncryptedTextField(key_from="id")
    family_name = EncryptedTextField(key_from="id")
    # the keyed hash of each word of both names (consent.crypto.name_word_hashes), kept by the
    # services: a name search looks here and never opens a name; NULL once erased
    name_hashes = ArrayField(
        models.CharField(max_length=64), null=True, blank=True, default=list, editable=False
    )
    phone = EncryptedTextField(key_from="id")
    best_time_to_call = EncryptedTextField(key_from="id")
    preferred_language = models.CharField(max_length=8, blank=True, help_text="ISO 639 code")
    preferred_channel = models.CharField(max_length=16, choices=PreferredChannel.choices, blank=True)
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    date_of_birth = EncryptedDateField(key_from="id")
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    location_detail = EncryptedTextField(key_from="id", help_text="Block, shelter, address")
    specific_needs = EncryptedJSONField(key_from="id", help_text="List of specific-needs codes")
    protection_concerns = EncryptedTextField(key_from="id")
    narrative = EncryptedTextField(key_from="id")
    household_size = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = encrypted_history()

    objects = DecryptingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "registration_number_hash"],
                condition=Q(registration_number_hash__isnull=False),
                name="person_registration_number_unique_in_organisation",
            ),
            models.CheckConstraint(
                condition=Q(household_size__isnull=True) | Q(household_size__gte=1),
                name="person_household_size_positive",
            ),
        ]
        indexes = [GinIndex(fields=["name_hashes"], name="person_name_hashes_gin")]

    def __str__(self) -> str:
        return f"Person {str(self.id)[:8]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            return super().save(*args, **kwargs)
        # a new person's data key is inserted just before the person's row (its foreign key is
        # checked at commit): both in one transaction, whoever calls
        with transaction.atomic(using=kwargs.get("using")):
            return super().save(*args, **kwargs)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def is_minor(self, on: date | None = None) -> bool:
        """From the date of birth when known, otherwise from the age band."""
        if self.date_of_birth:
            return age_on(self.date_of_birth, on or timezone.localdate()) < ADULT_AGE
        return self.age_band in MINOR_AGE_BANDS


class PersonKey(models.Model):
    """The person's data key, stored only wrapped under the master keys (``consent.keys``).

    Every personal value of the person, in every table, is sealed with it. Erasure overwrites the
    wrapped key and sets ``destroyed_at``, which leaves every copy of the person's data unreadable;
    the row stays as a tombstone so that no new key can be made for them. No history table, no
    admin, no serializer: the key exists here and nowhere else.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="+", editable=False)
    # NULL once destroyed (the constraint below ties it to destroyed_at)
    wrapped_key = models.TextField(null=True, editable=False)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(wrapped_key__isnull=False, destroyed_at__isnull=True)
                | Q(wrapped_key__isnull=True, destroyed_at__isnull=False),
                name="person_key_destroyed_iff_no_key",
            )
        ]

    def __str__(self) -> str:  # never the key, not even wrapped
        state = "destroyed" if self.destroyed_at else "live"
        return f"Data key {self.id.hex[:8]} of person {str(self.person_id)[:8]} ({state})"


class LegalBasis(models.TextChoices):
    CONSENT = "consent", "Informed consent"
    VITAL_INTEREST = "vital_interest", "Vital interest"
    BEST_INTERESTS_CHILD = "best_interests_child", "Best interests of the child"
    MANDATE = "mandate", "UNHCR mandate"
    SAFETY_OF_OTHERS = "safety_of_others", "Safety and security of others"


class CollectionMethod(models.TextChoices):
    ORAL = "oral", "Oral"
    WRITTEN = "written", "Written"
    DIGITAL = "digital", "Digital"


class RecipientScope(models.TextChoices):
    NAMED = "named", "Named organisations"
    PATHWAY = "pathway", "Any organisation on the pathway followed"


class ConsentState(models.TextChoices):
    """What a record means now. ``expired`` is never stored: it follows from ``expires_on``."""

    ACTIVE = "active", "Active"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    SUPERSEDED = "superseded", "Superseded"


@dataclass(frozen=True)
class ConsentCheck:
    """The answer of ``ConsentRecord.is_valid_for``: ``ok``, or a ``code`` naming what is not covered."""

    ok: bool
    code: str | None = None
    message: str = ""
    fields: tuple[str, ...] = field(default_factory=tuple)
    purpose: str | None = None
    recipient: str | None = None

    def __bool__(self) -> bool:
        return self.ok


class ConsentRecordQuerySet(DecryptingQuerySet):
    def with_state(self):
        """Annotate ``state`` (active / withdrawn / expired / superseded), expiry judged now."""
        return self.annotate(
            state=Case(
                When(status=ConsentRecord.Status.WITHDRAWN, then=Value(ConsentState.WITHDRAWN)),
                When(status=ConsentRecord.Status.SUPERSEDED, then=Value(ConsentState.SUPERSEDED)),
                When(expires_on__lt=TruncDate(Now()), then=Value(ConsentState.EXPIRED)),
                default=Value(ConsentState.ACTIVE),
                output_field=models.CharField(),
            )
        )

    def in_force(self):
        """Records that may carry a new referral today: active status and not past expiry."""
        return self.filter(status=ConsentRecord.Status.ACTIVE, expires_on__gte=TruncDate(Now()))


class ConsentRecord(models.Model):
    """One informed-consent (or other legal basis) decision about one person: an ISO/IEC TS 27560 record."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"
        SUPERSEDED = "superseded", "Superseded"

    # The only columns a service may change after creation (status changes and erasure).
    MUTABLE_FIELDS = frozenset(
        {
            "status",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_channel",
            "withdrawal_reason",
            "superseded_at",
            "justification",
            "guardian_name",
            "best_interests_reference",
        }
    )
    PERSONAL_FIELDS = ("justification", "guardian_name", "best_interests_reference", "withdrawal_reason")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="consent_records", help_text="The controller"
    )
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # The consent event
    obtained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    obtained_at = models.DateTimeField()
    collection_method = models.CharField(max_length=8, choices=CollectionMethod.choices)
    language = models.CharField(max_length=16, help_text="Language the consent was given in (ISO 639)")
    interpreter_used = models.BooleanField(default=False)
    # Lawful basis
    legal_basis = models.CharField(max_length=24, choices=LegalBasis.choices, default=LegalBasis.CONSENT)
    justification = EncryptedTextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Scope
    purposes = ArrayField(models.CharField(max_length=64), help_text="Service category codes")
    recipient_scope = models.CharField(max_length=8, choices=RecipientScope.choices)
    recipients = ArrayField(models.UUIDField(), default=list, blank=True, help_text="Organisation ids")
    data_categories = ArrayField(models.CharField(max_length=32), help_text="Disclosure vocabulary")
    expires_on = models.DateField(help_text="Valid up to and including this day")
    # Children
    subject_is_minor = models.BooleanField(default=False)
    child_assent = models.BooleanField(null=True, blank=True)
    guardian_name = EncryptedTextField()
    guardian_relationship = models.CharField(max_length=64, blank=True)
    unaccompanied_or_separated = models.BooleanField(default=False)
    best_interests_reference = EncryptedTextField()
    # State
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    withdrawal_reason = EncryptedTextField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = encrypted_history()

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-obtained_at"]
        permissions = [
            (
                "record_non_consent_basis",
                "Can record a legal basis other than consent (vital interest, best interests, …)",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(data_categories__contained_by=list(DISCLOSURE_FIELDS)),
                name="consent_data_categories_in_vocabulary",
            ),
            models.CheckConstraint(
                condition=~Q(data_categories=[]) & ~Q(purposes=[]), name="consent_scope_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(recipient_scope=RecipientScope.PATHWAY) | ~Q(recipients=[]),
                name="consent_named_recipients_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(legal_basis=LegalBasis.CONSENT) | Q(decided_by__isnull=False),
                name="consent_other_basis_has_decider",
            ),
            models.CheckConstraint(
                condition=Q(status="active", withdrawn_at__isnull=True, superseded_at__isnull=True)
                | (
                    Q(status="withdrawn", withdrawn_at__isnull=False)
                    # the person withdrew themself (status page): no member of staff acted
                    & (Q(withdrawn_by__isnull=False) | Q(withdrawal_channel="self_service"))
                )
                | Q(status="superseded", superseded_at__isnull=False),
                name="consent_status_dates_consistent",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__gte=TruncDate(F("obtained_at"))), name="consent_expiry_after_obtained"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"]), models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return f"Consent {str(self.id)[:8]} v{self.version}"

    def save(self, *args, **kwargs):
        # Records are never edited in place; a change of scope is a new version (consent_new_version).
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.MUTABLE_FIELDS:
                raise Conflict(
                    "Consent records cannot be edited; record a new version instead.",
                    code="consent_record_immutable",
                )
        super().save(*args, **kwargs)

    def state_on(self, on: date | None = None) -> str:
        if self.status == self.Status.WITHDRAWN:
            return ConsentState.WITHDRAWN
        if self.status == self.Status.SUPERSEDED:
            return ConsentState.SUPERSEDED
        if self.expires_on < (on or timezone.localdate()):
            return ConsentState.EXPIRED
        return ConsentState.ACTIVE

    @property
    def state(self) -> str:
        """The state now; equal to the ``with_state()`` annotation when the row was read with it."""
        return getattr(self, "_annotated_state", None) or self.state_on()

    @state.setter
    def state(self, value: str) -> None:
        self._annotated_state = value

    def is_valid_for(
        self, purpose_category, recipient_org, fields, *, on: date | None = None
    ) -> ConsentCheck:
        """Does this record allow sharing ``fields`` with ``recipient_org`` for ``purpose_category`` today?

        ``purpose_category``: a ServiceCategory or its code; ``recipient_org``: an Organisation or
        its id; ``fields``: names from the disclosure vocabulary. With the pathway recipient scope
        every recipient is covered here; the caller checks that the recipient is on the pathway.
        """
        state = self.state_on(on)
        if state != ConsentState.ACTIVE:
            messages = {
                ConsentState.WITHDRAWN: "The consent has been withdrawn.",
                ConsentState.SUPERSEDED: "The consent has been replaced by a newer version.",
                ConsentState.EXPIRED: f"The consent expired on {self.expires_on.isoformat()}.",
            }
            return ConsentCheck(False, f"consent_{state}", messages[state])
        purpose = purpose_category.code if isinstance(purpose_category, ServiceCategory) else purpose_category
        if purpose not in self.purposes:
            return ConsentCheck(
                False,
                "consent_not_covering_purpose",
                f"The consent does not cover the purpose '{purpose}'.",
                purpose=purpose,
            )
        recipient_id = recipient_org.pk if isinstance(recipient_org, Organisation) else recipient_org
        if self.recipient_scope == RecipientScope.NAMED and uuid.UUID(str(recipient_id)) not in {
            uuid.UUID(str(r)) for r in self.recipients
        }:
            name = recipient_org.acronym if isinstance(recipient_org, Organisation) else str(recipient_id)
            return ConsentCheck(
                False,
                "consent_not_covering_recipient",
                f"The consent does not name {name} as a recipient.",
                recipient=str(recipient_id),
            )
        fields = list(fields)
        unknown = [name for name in fields if name not in DISCLOSURE_FIELDS]
        if unknown:
            return ConsentCheck(
                False,
                "unknown_data_category",
                f"Not in the disclosure vocabulary: {', '.join(unknown)}.",
                fields=tuple(unknown),
            )
        uncovered = [name for name in fields if name not in self.data_categories]
        if uncovered:
            return ConsentCheck(
                False,
                "consent_not_covering_field",
                f"The consent does not cover: {', '.join(uncovered)}.",
                fields=tuple(uncovered),
            )
        return ConsentCheck(True)

    def lineage_ids(self) -> list[uuid.UUID]:
        """This record's id and the ids of every version it replaced, newest first."""
        ids, current = [], self
        while current is not None:
            ids.append(current.pk)
            current = current.supersedes
        return ids


class DataSubjectRequest(models.Model):
    """A person's request to access, correct or erase what is held about them."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        CORRECTION = "correction", "Correction"
        ERASURE = "erasure", "Erasure"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"

    PERSONAL_FIELDS = ("details", "outcome")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="data_subject_requests")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    received_on = models.DateField()
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    details = EncryptedTextField(help_text="What the person asked for")
    # empty only when the person made the request themself (channel ``self_service``)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = EncryptedTextField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = encrypted_history()

    objects = DecryptingQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=F("received_on")), name="dsr_due_after_received"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="dsr_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(recorded_by__isnull=False) | Q(channel="self_service"),
                name="dsr_recorded_by_staff_or_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {str(self.id)[:8]}"

    def is_overdue(self, on: date | None = None) -> bool:
        return self.status == self.Status.OPEN and self.due_on < (on or timezone.localdate())


class PersonReadLog(models.Model):
    """One read of a person's data (the person record, a consent record, a request about them):
    who, when, what, through which surface. It holds no value of the person."""

    class What(models.TextChoices):
        PERSON = "person", "Person record"
        CONSENT = "consent", "Consent record"
        REQUEST = "request", "Data-subject request"

    class Api(models.TextChoices):
        REST = "rest", "REST"
        GRAPHQL = "graphql", "GraphQL"
        ADMIN = "admin", "Admin"
        CONSOLE = "console", "Console"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="read_log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, related_name="+")
    what = models.CharField(max_length=8, choices=What.choices)
    api = models.CharField(max_length=8, choices=Api.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.what} of {self.person_id} via {self.api}"
