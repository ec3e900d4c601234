"""The pathway editor's forms: they parse what the admin typed; every rule is the services' own
(``pathways.services``), and the rule language is ``pathways.conditions``."""

import json

from django import forms
from django.forms.boundfield import BoundField
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from consent.models import MINOR_AGE_BANDS
from console.labels import AGE_BAND_LABELS, SEX_LABELS
from partners.models import Operation
from pathways.conditions import URGENCIES
from pathways.models import Pathway

THEME_LABELS = {
    Pathway.Theme.GBV: _("Gender-based violence"),
    Pathway.Theme.CHILD_PROTECTION: _("Child protection"),
    Pathway.Theme.RESETTLEMENT: _("Resettlement"),
    Pathway.Theme.PSEA: _("Protection from sexual exploitation and abuse"),
    Pathway.Theme.HEALTH: _("Health"),
    Pathway.Theme.LEGAL: _("Legal"),
    Pathway.Theme.GENERAL: _("General"),
}
STATUS_LABELS = {
    Pathway.Status.DRAFT: _("Draft"),
    Pathway.Status.PUBLISHED: _("Published"),
    Pathway.Status.ARCHIVED: _("Archived"),
}
CHECK_URL = reverse_lazy("console:pathway-condition-check")
URGENCY_LABELS = {"emergency": _("Emergency"), "urgent": _("Urgent"), "normal": _("Normal")}


class DescribedBoundField(BoundField):
    """A field whose error (and help) paragraph is linked to it with ``aria-describedby``; a condition
    field is always linked to its inline check, which the page fills as the admin types."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.auto_id:
            ids = []
            if self.errors or isinstance(self.field, ConditionField):
                ids.append(f"{self.auto_id}-error")
            if self.help_text:
                ids.append(f"{self.auto_id}_helptext")
            if ids:
                attrs["aria-describedby"] = " ".join(ids)
        return attrs


class EditorForm(forms.Form):
    bound_field_class = DescribedBoundField


class PathwayCreateForm(EditorForm):
    operation = forms.ModelChoiceField(label=_("Operation"), queryset=Operation.objects.order_by("name"))
    name = forms.CharField(label=_("Name"), max_length=300)
    theme = forms.ChoiceField(label=_("Theme"), choices=list(THEME_LABELS.items()))
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class StepAddForm(EditorForm):
    service = forms.ModelChoiceField(label=_("Service"), queryset=None)
    is_entry = forms.BooleanField(label=_("Entry step (people can start here)"), required=False)
    key = forms.CharField(label=_("Key (optional)"), required=False, max_length=200)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda s: f"{s.name} — {s.organisation.acronym}"


class StepUpdateForm(EditorForm):
    key = forms.CharField(label=_("Key (kept across versions)"), max_length=200)
    is_entry = forms.BooleanField(label=_("Entry step (people can start here)"), required=False)


class ConditionField(forms.CharField):
    """JSON text → data; what the data may say is checked by the rule language, in the service."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "condition"})

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)s, column %(column)s): %(reason)s"),
                code="invalid_json",
                params={"line": error.lineno, "column": error.colno, "reason": error.msg},
            ) from error


class LinkForm(EditorForm):
    from_step = forms.ModelChoiceField(label=_("From"), queryset=None)
    to_step = forms.ModelChoiceField(label=_("To"), queryset=None)
    condition = ConditionField(
        label=_("Who may be referred (eligibility condition, JSON)"),
        required=False,
        initial="{}",
        help_text=_('{} admits anyone. Example: {"age": {"max": 17}, "sex": {"in": ["female"]}}'),
    )
    preference = forms.IntegerField(label=_("Preference (1 is offered first)"), initial=1)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    key = forms.CharField(label=_("Key (kept across versions)"), required=False, max_length=200)

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        if self.auto_id:
            slot = (self.auto_id % "condition") + "-error"
            self.fields["condition"].widget.attrs.update(
                {
                    "hx-post": CHECK_URL,
                    "hx-trigger": "input changed delay:400ms, blur",
                    "hx-target": f"#{slot}",
                    "hx-swap": "outerHTML",
                    "hx-include": "closest form",
                    "hx-vals": json.dumps({"slot": slot}),
                }
            )
        for name in ("from_step", "to_step"):
            self.fields[name].queryset = steps
            self.fields[name].label_from_instance = lambda s: (
                f"{s.service.name} — {s.service.organisation.acronym}"
            )


class ConditionCheckForm(forms.Form):
    condition = ConditionField(required=False)
    slot = forms.RegexField(regex=r"^[a-z0-9-]{1,80}$")


class RouteForm(EditorForm):
    """A profile to find a route for: where the person is, the kind of service wanted, who they are."""

    start = forms.ChoiceField(label=_("Where the person is now"))
    category = forms.ChoiceField(label=_("Kind of service needed"))
    sex = forms.ChoiceField(
        label=_("Sex"),
        required=False,
        choices=[("", _("Not stated"))] + [(k, SEX_LABELS[k]) for k in ("female", "male", "other")],
    )
    age_band = forms.ChoiceField(
        label=_("Age band"), required=False, choices=[("", _("Not stated")), *AGE_BAND_LABELS.items()]
    )
    need = forms.ChoiceField(label=_("Specific need"), required=False)
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        required=False,
        choices=[("", _("Not stated"))] + [(u, URGENCY_LABELS[u]) for u in URGENCIES],
    )

    def __init__(self, *args, starts, categories, needs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].choices = starts
        self.fields["category"].choices = categories
        self.fields["need"].choices = [
            ("", _("No specific need")),
            *((need, need.replace("_", " ")) for need in needs),
        ]

    def profile(self) -> dict:
        """The profile the pathway questions take; a band gives only whether the person is a minor,
        as for a person recorded with an age band (``referrals.services.person_profile``)."""
        data = self.cleaned_data
        profile: dict = {}
        if data["sex"]:
            profile["sex"] = data["sex"]
        if data["age_band"]:
            profile["is_minor"] = data["age_band"] in MINOR_AGE_BANDS
        if data["need"]:
            profile["specific_needs"] = [data["need"]]
        if data["urgency"]:
            profile["urgency"] = data["urgency"]
        return profile
