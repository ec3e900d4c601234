"""Pathways: versioned directed graphs of services.

Versions of one pathway share a ``family``; at most one version of a family is a draft and at most
one is published. Published and archived versions are immutable (referrals point at the exact
version they followed).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from pathways.conditions import ConditionError, validate_condition


class Pathway(models.Model):
    class Theme(models.TextChoices):
        GBV = "gbv", "Gender-based violence"
        CHILD_PROTECTION = "child_protection", "Child protection"
        RESETTLEMENT = "resettlement", "Resettlement"
        PSEA = "psea", "Protection from sexual exploitation and abuse"
        HEALTH = "health", "Health"
        LEGAL = "legal", "Legal"
        GENERAL = "general", "General"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.UUIDField(default=uuid.uuid4, editable=False, help_text="Shared by every version")
    operation = models.ForeignKey("partners.Operation", on_delete=models.PROTECT, related_name="pathways")
    name = models.CharField(max_length=200)
    theme = models.CharField(max_length=24, choices=Theme.choices)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["operation__name", "name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="pathway_version_unique_in_family"),
            models.UniqueConstraint(
                fields=["family"], condition=Q(status="published"), name="one_published_version_per_pathway"
            ),
            models.UniqueConstraint(
                fields=["family"], condition=Q(status="draft"), name="one_draft_version_per_pathway"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="pathway_version_positive"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="pathway_published_has_date",
            ),
        ]
        indexes = [models.Index(fields=["operation", "status"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class PathwayStep(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=64, help_text="Stable id within the pathway, kept across versions")
    service = models.ForeignKey("partners.Service", on_delete=models.PROTECT, related_name="pathway_steps")
    is_entry = models.BooleanField(default=False)
    x = models.FloatField(null=True, blank=True, help_text="Drawing position (optional)")
    y = models.FloatField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pathway", "key"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "key"], name="pathway_step_key_unique"),
            models.UniqueConstraint(fields=["pathway", "service"], name="pathway_step_service_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.service}"


class PathwayLink(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="links")
    key = models.SlugField(max_length=64, help_text="Stable id within the pathway, kept across versions")
    from_step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="links_out")
    to_step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="links_in")
    condition = models.JSONField(default=dict, blank=True, help_text="Eligibility rule; {} means anyone")
    preference = models.PositiveSmallIntegerField(default=1, help_text="1 is offered first")
    note = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pathway", "preference", "key"]
        # Self-loops and duplicate links are allowed in a draft on purpose: validation reports them
        # all at once before publishing rather than failing one edit at a time.
        constraints = [
            models.UniqueConstraint(fields=["pathway", "key"], name="pathway_link_key_unique"),
            models.CheckConstraint(condition=Q(preference__gte=1), name="pathway_link_preference_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.from_step_id} → {self.to_step_id}"

    def clean(self):
        try:
            validate_condition(self.condition)
        except ConditionError as exc:
            raise ValidationError({"condition": [str(exc)]}) from exc
