import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from partners.vocabulary import DISCLOSURE_FIELDS


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"


class LocationType(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    POSTAL = "postal", "Postal"
    VIRTUAL = "virtual", "Virtual"


def _hsds_text(max_length: int = 500, **kwargs):
    return models.CharField(max_length=max_length, blank=True, default="", **kwargs)


class Operation(models.Model):
    """A country operation: the scope in which organisations, services and pathways are mapped."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    # told of every referral that reaches escalation level 2 in this operation (docs/referrals.md)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coordinated_operations",
        help_text="Told when a referral to a service of this operation reaches escalation level 2; "
        "receives notices only while an active member of an organisation",
    )
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
    # HSDS location fields (docs/hsds.md)
    location_type = models.CharField(
        max_length=8, choices=LocationType.choices, default=LocationType.PHYSICAL
    )
    alternate_name = _hsds_text(200)
    description = models.TextField(blank=True, default="")
    transportation = models.TextField(blank=True, default="")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    url = _hsds_text()
    external_identifier = _hsds_text(200)
    external_identifier_type = _hsds_text(64)
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
    # HSDS organization fields (docs/hsds.md)
    alternate_name = _hsds_text(200)
    description = models.TextField(blank=True, default="")
    email = _hsds_text(254)
    website = _hsds_text()
    legal_status = _hsds_text(200)
    year_incorporated = models.PositiveSmallIntegerField(null=True, blank=True)
    logo = _hsds_text()
    uri = _hsds_text()
    parent_hsds_id = models.UUIDField(
        null=True, blank=True, help_text="HSDS parent_organization_id, kept as given (may be external)"
    )
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


class ActivationToken(models.Model):
    """A one-time link that lets a new account's owner choose their password.

    Only the SHA-256 of the token is stored: the token is 256 random bits, so a plain hash cannot be
    reversed, and a leaked table opens no account. A row is spent (``used_at``) on first use.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activation_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"activation of {self.user} (expires {self.expires_at:%Y-%m-%d %H:%M})"

    def is_usable(self, now) -> bool:
        return self.used_at is None and self.expires_at > now


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
    outcome_due_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days after acceptance by which an outcome is due, or it is escalated; empty: never",
    )
    required_fields = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    optional_fields = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # HSDS service fields (docs/hsds.md); ``is_active`` stays the switch referrals read
    status = models.CharField(max_length=24, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    alternate_name = _hsds_text(200)
    url = _hsds_text()
    email = _hsds_text(254)
    eligibility_description = models.TextField(blank=True, default="")
    application_process = models.TextField(blank=True, default="")
    interpretation_services = models.TextField(blank=True, default="")
    fees_description = models.TextField(blank=True, default="")
    wait_time = _hsds_text()
    accreditations = models.TextField(blank=True, default="")
    alert = models.TextField(blank=True, default="")
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


# Open Referral HSDS 3.0 -------------------------------------------------------------------
# The directory speaks HSDS (docs/hsds.md). Organisation, Service and Location use their UUID
# primary key as the HSDS id; the tables below mirror HSDS tables and keep the HSDS id as their
# primary key too, so a re-import finds the same rows. Contact points belong to an organisation,
# a service, a location or a service-at-location — never to a person: a contact keeps a title
# and a department, not a name.


def _owner(model: str, related_name: str):
    return models.ForeignKey(
        model, null=True, blank=True, on_delete=models.CASCADE, related_name=related_name
    )


class ServiceAtLocation(models.Model):
    """Where a service is delivered, with what differs there (HSDS ``service_at_location``).

    ``Service.locations`` stays the list of places; this row carries the HSDS id and description.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="service_at_locations")
    description = models.TextField(blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="service_at_location_unique")
        ]

    def __str__(self) -> str:
        return f"{self.service_id} at {self.location_id}"


class Contact(models.Model):
    """A functional contact point (reception, case management desk) — never a named person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = _owner(Organisation, "contacts")
    service = _owner(Service, "contacts")
    location = _owner(Location, "contacts")
    service_at_location = _owner(ServiceAtLocation, "contacts")
    title = _hsds_text(200)
    department = _hsds_text(200)
    email = _hsds_text(254)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False)
                | Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(service_at_location__isnull=False),
                name="contact_has_owner",
            )
        ]

    def __str__(self) -> str:
        return " — ".join(part for part in (self.department, self.title) if part) or str(self.id)


class Phone(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = _owner(Organisation, "phones")
    service = _owner(Service, "phones")
    location = _owner(Location, "phones")
    service_at_location = _owner(ServiceAtLocation, "phones")
    contact = _owner(Contact, "phones")
    number = models.CharField(max_length=64)
    extension = models.PositiveIntegerField(null=True, blank=True)
    type = _hsds_text(32)
    description = models.TextField(blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False)
                | Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(service_at_location__isnull=False)
                | Q(contact__isnull=False),
                name="phone_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.number


class Schedule(models.Model):
    """Opening times, as an iCalendar-style recurrence (HSDS ``schedule``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = _owner(Service, "schedules")
    location = _owner(Location, "schedules")
    service_at_location = _owner(ServiceAtLocation, "schedules")
    valid_from = _hsds_text(32)
    valid_to = _hsds_text(32)
    dtstart = _hsds_text(32)
    until = _hsds_text(32)
    timezone = models.FloatField(null=True, blank=True, help_text="UTC offset in hours")
    count = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True)
    wkst = _hsds_text(2)
    freq = _hsds_text(16)
    byday = _hsds_text(64)
    byweekno = _hsds_text(200)
    bymonthday = _hsds_text(200)
    byyearday = _hsds_text(200)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    schedule_link = _hsds_text()
    attending_type = _hsds_text()
    notes = models.TextField(blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(service_at_location__isnull=False),
                name="schedule_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.description or f"{self.freq} {self.byday}".strip() or str(self.id)


class Address(models.Model):
    """A location's address. HSDS ``attention`` (a person's name) is not kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    address_1 = _hsds_text(200)
    address_2 = _hsds_text(200)
    city = _hsds_text(200)
    region = _hsds_text(200)
    state_province = _hsds_text(200)
    postal_code = _hsds_text(32)
    country = _hsds_text(2, help_text="ISO 3166-1 alpha-2")
    address_type = models.CharField(max_length=8, choices=LocationType.choices, default=LocationType.PHYSICAL)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return ", ".join(part for part in (self.address_1, self.city, self.country) if part)


class Accessibility(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="accessibility")
    description = models.TextField(blank=True, default="")
    details = models.TextField(blank=True, default="")
    url = _hsds_text()
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "accessibility"

    def __str__(self) -> str:
        return self.description[:80] or str(self.id)


class Language(models.Model):
    """A language spoken at a service, location or phone (ISO 639 code, with its name and a note).

    A service's codes are also kept in ``Service.languages``, which eligibility matching reads.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = _owner(Service, "language_details")
    location = _owner(Location, "languages")
    phone = _owner(Phone, "languages")
    name = _hsds_text(100)
    code = models.CharField(max_length=8, blank=True, default="", help_text="ISO 639")
    note = models.TextField(blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False) | Q(location__isnull=False) | Q(phone__isnull=False),
                name="language_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.code


class Taxonomy(models.Model):
    """An external taxonomy (e.g. Open Eligibility). Our ServiceCategory is published as one too."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    uri = _hsds_text()
    version = _hsds_text(64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "taxonomies"

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(models.Model):
    """A term of an external taxonomy. Parent and taxonomy ids are kept as given (they may be
    defined elsewhere); ``taxonomy_name`` is HSDS's free-text ``taxonomy`` field."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = _hsds_text(200)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    parent_hsds_id = models.UUIDField(null=True, blank=True)
    taxonomy_hsds_id = models.UUIDField(null=True, blank=True, db_index=True)
    taxonomy_name = _hsds_text(200)
    language = _hsds_text(8)
    term_uri = _hsds_text()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Attribute(models.Model):
    """Links a taxonomy term to a service, organisation or location (HSDS ``attribute``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    taxonomy_term = models.ForeignKey(TaxonomyTerm, on_delete=models.PROTECT, related_name="attributes")
    service = _owner(Service, "attributes")
    organisation = _owner(Organisation, "attributes")
    location = _owner(Location, "attributes")
    link_type = _hsds_text(200)
    value = _hsds_text()
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False, organisation__isnull=True, location__isnull=True)
                | Q(service__isnull=True, organisation__isnull=False, location__isnull=True)
                | Q(service__isnull=True, organisation__isnull=True, location__isnull=False),
                name="attribute_has_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.taxonomy_term_id} on {self.link_entity} {self.link_id}"

    @property
    def link_entity(self) -> str:
        return "service" if self.service_id else "organization" if self.organisation_id else "location"

    @property
    def link_id(self):
        return self.service_id or self.organisation_id or self.location_id
