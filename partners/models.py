import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from partners.vocabulary import DISCLOSURE_FIELDS


class Operation(models.Model):
    """A country operation: the scope in which organisations, services and pathways are mapped."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        REGION = "region", "Region / governorate"
        CITY = "city", "City / town"
        CAMP = "camp", "Camp / settlement"
        SITE = "site", "Site / neighbourhood"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="locations")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    pcode = models.CharField(max_length=32, blank=True, help_text="Humanitarian place code (P-code)")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "name"], name="location_name_unique_in_operation")
        ]

    def __str__(self) -> str:
        return self.name


class ServiceCategory(models.Model):
    """The service taxonomy (GBV case management, child protection, health, …)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "service categories"

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    class Kind(models.TextChoices):
        UN_AGENCY = "un_agency", "UN agency"
        INTERNATIONAL_NGO = "international_ngo", "International NGO"
        NATIONAL_NGO = "national_ngo", "National NGO"
        COMMUNITY_BASED = "community_based", "Community-based organisation"
        GOVERNMENT = "government", "Government"
        IOM = "iom", "IOM"

    class Partnership(models.TextChoices):
        IMPLEMENTING = "implementing", "Implementing partner"
        OPERATIONAL = "operational", "Operational partner"
        NONE = "none", "No formal partnership"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    acronym = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="organisations")
    partnership = models.CharField(max_length=16, choices=Partnership.choices, default=Partnership.NONE)
    is_active = models.BooleanField(default=True)
    dsa_signed_on = models.DateField(null=True, blank=True, help_text="Data-sharing agreement signed on")
    dsa_expires_on = models.DateField(null=True, blank=True, help_text="Data-sharing agreement expires on")
    # Object permissions (referral grants) are given to this group; active members are in it.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_platform", "Can create organisations, record agreements, appoint focal points")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(dsa_expires_on__isnull=True)
                | Q(dsa_signed_on__isnull=False, dsa_expires_on__gt=models.F("dsa_signed_on")),
                name="dsa_expiry_after_signature",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})"

    def has_valid_dsa(self, on: date | None = None) -> bool:
        on = on or date.today()
        if self.dsa_signed_on is None or self.dsa_signed_on > on:
            return False
        return self.dsa_expires_on is None or self.dsa_expires_on >= on


class Membership(models.Model):
    class Role(models.TextChoices):
        FOCAL_POINT = "focal_point", "Focal point"
        CASEWORKER = "caseworker", "Caseworker"
        VIEWER = "viewer", "Viewer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(role="focal_point", is_active=True),
                name="one_active_focal_point_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="one_active_membership_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation.acronym}"


class Service(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="services")
    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    locations = models.ManyToManyField(Location, blank=True, related_name="services")
    # Eligibility
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    sexes = ArrayField(models.CharField(max_length=8, choices=Sex.choices), default=list, blank=True)
    specific_needs = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    languages = ArrayField(
        models.CharField(max_length=8), default=list, blank=True, help_text="ISO 639 codes"
    )
    # Referral intake
    is_active = models.BooleanField(default=True)
    is_accepting_referrals = models.BooleanField(default=True)
    response_hours_emergency = models.PositiveIntegerField(default=24)
    response_hours_urgent = models.PositiveIntegerField(default=72)
    response_hours_normal = models.PositiveIntegerField(default=14 * 24)
    required_fields = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    optional_fields = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[locations])

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="service_name_unique_in_organisation"
            ),
            models.CheckConstraint(
                condition=Q(required_fields__contained_by=list(DISCLOSURE_FIELDS))
                & Q(optional_fields__contained_by=list(DISCLOSURE_FIELDS)),
                name="service_fields_in_disclosure_vocabulary",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(min_age__lte=models.F("max_age")),
                name="service_age_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["category", "is_accepting_referrals"])]

    def __str__(self) -> str:
        return f"{self.name} — {self.organisation.acronym}"

    def response_hours(self, urgency: str) -> int:
        return {
            "emergency": self.response_hours_emergency,
            "urgent": self.response_hours_urgent,
            "normal": self.response_hours_normal,
        }[urgency]
