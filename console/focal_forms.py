"""Forms of the focal point's pages. They parse what a person typed into the services' arguments;
every rule (which roles, which limits, which addresses) is the services' own."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from console.focal_labels import NOTIFICATION_KIND_LABELS
from console.labels import FIELD_LABELS, ROLE_LABELS, SEX_LABELS
from partners.models import Service
from partners.services import ROLES_A_FOCAL_POINT_MAY_GIVE
from partners.vocabulary import DISCLOSURE_FIELDS
from referrals.models import Notification


class DescribedErrorsMixin:
    """Each field with an error points at it (``aria-describedby``) and says it is invalid."""

    def full_clean(self):
        super().full_clean()
        self.link_errors()

    def link_errors(self):
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = (
                    f"{self.auto_id % name}-error" if self.auto_id else f"{name}-error"
                )

    def add_error(self, field, error):
        super().add_error(field, error)
        self.link_errors()


def _role_choices():
    return [(role, ROLE_LABELS.get(role, role)) for role in ROLES_A_FOCAL_POINT_MAY_GIVE]


class MemberInviteForm(DescribedErrorsMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("The one-time activation link is sent here.")
    )
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=_role_choices)


class RoleForm(DescribedErrorsMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=_role_choices)


def _codes(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


class CodeListField(forms.CharField):
    """Codes separated by commas or spaces (language codes, specific needs): a list for the service."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return _codes(super().to_python(value))


class ServiceForm(DescribedErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, to_field_name="code")
    is_accepting_referrals = forms.BooleanField(label=_("Accepting referrals"), required=False)
    is_active = forms.BooleanField(
        label=_("Active (untick when the service has closed for good)"), required=False
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Information the service needs (required)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    optional_fields = forms.MultipleChoiceField(
        label=_("Information the service may receive if the consent covers it (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    response_hours_emergency = forms.IntegerField(label=_("Answer within (hours), emergency"))
    response_hours_urgent = forms.IntegerField(label=_("Answer within (hours), urgent"))
    response_hours_normal = forms.IntegerField(label=_("Answer within (hours), normal"))
    outcome_due_days = forms.IntegerField(
        label=_("Outcome due (days after acceptance)"),
        required=False,
        help_text=_("Empty: no outcome due date."),
    )
    sexes = forms.MultipleChoiceField(
        label=_("Who may be referred: sex"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: everyone."),
    )
    min_age = forms.IntegerField(label=_("Minimum age (years)"), required=False, min_value=0)
    max_age = forms.IntegerField(label=_("Maximum age (years)"), required=False, min_value=0)
    languages = CodeListField(
        label=_("Languages spoken"),
        required=False,
        help_text=_("ISO 639 codes separated by commas: en, ar, swh"),
    )
    specific_needs = CodeListField(
        label=_("Specific needs served"), required=False, help_text=_("Codes separated by commas.")
    )
    locations = forms.ModelMultipleChoiceField(
        label=_("Places"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, categories, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["locations"].queryset = locations
        fields = [(name, FIELD_LABELS.get(name, name)) for name in DISCLOSURE_FIELDS]
        self.fields["required_fields"].choices = fields
        self.fields["optional_fields"].choices = fields
        self.fields["sexes"].choices = [(sex, SEX_LABELS.get(sex, sex)) for sex in Service.Sex.values]

    @staticmethod
    def initial_of(service: Service) -> dict:
        names = [name for name in ServiceForm.base_fields if name not in ("category", "locations")]
        initial = {name: getattr(service, name) for name in names}
        initial["category"] = service.category.code if service.category_id else None
        initial["locations"] = [] if service._state.adding else list(service.locations.all())
        return initial

    def service_data(self) -> dict:
        """The service's arguments, by name (``name``, ``category`` and ``locations`` apart)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("name", "category", "locations")
        }


def _event_choices():
    return [(kind, NOTIFICATION_KIND_LABELS.get(kind, kind)) for kind in Notification.Kind.values]


class WebhookForm(DescribedErrorsMixin, forms.Form):
    url = forms.CharField(
        label=_("Address of your system (https://…)"),
        max_length=500,
        widget=forms.URLInput,
        help_text=_("Your system receives a signed POST here for each event it chose."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events to send"), choices=_event_choices, widget=forms.CheckboxSelectMultiple
    )


class WebhookUpdateForm(WebhookForm):
    is_active = forms.BooleanField(label=_("Active (untick to pause deliveries)"), required=False)
