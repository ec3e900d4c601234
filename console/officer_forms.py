"""The officer's forms: they turn what was typed into the values the consent services take.

They check only the shape of the input (a date is a date, a number a number); whether the values
are acceptable — an age band, a minor's guardian, a legal basis — is for ``consent.services`` to
say, and its answer is shown next to the field it names.
"""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from consent.services import CONSENT_VERSION_FIELDS, PERSON_FIELDS
from console.labels import (
    AGE_BAND_LABELS,
    CHANNEL_LABELS,
    COLLECTION_METHOD_LABELS,
    FIELD_LABELS,
    LEGAL_BASIS_LABELS,
    PREFERRED_CHANNEL_LABELS,
    RECIPIENT_SCOPE_LABELS,
    REQUEST_KIND_LABELS,
    SEX_LABELS,
)
from partners.vocabulary import DISCLOSURE_FIELDS, SENSITIVE_FIELDS

NOT_GIVEN = ("", _("Not given"))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Row:
    """One field as the templates draw it: its widget already tied to its help and its error."""

    field: forms.BoundField
    widget: str
    grouped: bool  # a set of radio buttons or check boxes: a fieldset with a legend
    checkbox: bool


class Described:
    """``form.rows``: each widget names its help text and its error in ``aria-describedby``."""

    def rows(self) -> list[Row]:
        rows = []
        for bound in self.visible_fields():
            described = [f"{bound.auto_id}-help"] if bound.help_text else []
            if bound.errors:
                described.append(f"{bound.auto_id}-error")
            attrs = {"aria-describedby": " ".join(described)} if described else {}
            widget = bound.field.widget
            rows.append(
                Row(
                    field=bound,
                    widget=bound.as_widget(attrs=attrs),
                    grouped=isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple),
                    checkbox=isinstance(widget, forms.CheckboxInput),
                )
            )
        return rows


def _words(value: str) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class SearchForm(Described, forms.Form):
    """Sent by POST: a name or a registration number must never end up in an address or a log."""

    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    registration_number = forms.CharField(label=_("Registration number"), required=False, max_length=64)

    def clean(self):
        data = super().clean()
        if not (data.get("name") or "").strip() and not (data.get("registration_number") or "").strip():
            raise forms.ValidationError(_("Type a name or a registration number."), code="empty")
        return data


class PersonForm(Described, forms.Form):
    """Every field ``consent.services.person_create`` knows (``PERSON_FIELDS``)."""

    registration_number = forms.CharField(label=_("Registration number"), required=False, max_length=64)
    given_name = forms.CharField(label=FIELD_LABELS["given_name"], required=False, max_length=200)
    family_name = forms.CharField(label=FIELD_LABELS["family_name"], required=False, max_length=200)
    phone = forms.CharField(label=FIELD_LABELS["phone"], required=False, max_length=64)
    best_time_to_call = forms.CharField(
        label=FIELD_LABELS["best_time_to_call"], required=False, max_length=200
    )
    preferred_language = forms.CharField(
        label=FIELD_LABELS["preferred_language"],
        required=False,
        max_length=16,
        help_text=_("A language code, such as ar (Arabic), fr (French), sw (Swahili), so (Somali)."),
    )
    preferred_channel = forms.ChoiceField(
        label=FIELD_LABELS["preferred_channel"],
        required=False,
        choices=[NOT_GIVEN, *PREFERRED_CHANNEL_LABELS.items()],
    )
    sex = forms.ChoiceField(label=FIELD_LABELS["sex"], choices=list(SEX_LABELS.items()), initial="unknown")
    date_of_birth = forms.DateField(
        label=FIELD_LABELS["date_of_birth"], required=False, widget=DateInput(), help_text=_("If known.")
    )
    age_band = forms.ChoiceField(
        label=FIELD_LABELS["age_band"],
        required=False,
        choices=[NOT_GIVEN, *AGE_BAND_LABELS.items()],
        help_text=_("When the date of birth is not known; otherwise it follows from the date."),
    )
    location = forms.ModelChoiceField(
        label=_("Place"), required=False, queryset=None, empty_label=str(NOT_GIVEN[1])
    )
    location_detail = forms.CharField(
        label=_("Address details"),
        required=False,
        max_length=500,
        help_text=_("Block, shelter or street."),
    )
    specific_needs = forms.CharField(
        label=FIELD_LABELS["specific_needs"],
        required=False,
        max_length=500,
        help_text=_("Specific-needs codes, separated by commas."),
    )
    protection_concerns = forms.CharField(
        label=FIELD_LABELS["protection_concerns"], required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    narrative = forms.CharField(
        label=FIELD_LABELS["narrative"], required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    household_size = forms.IntegerField(label=FIELD_LABELS["household_size"], required=False, min_value=1)

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations

    def clean_specific_needs(self):
        return _words(self.cleaned_data["specific_needs"])

    @staticmethod
    def initial_for(person) -> dict:
        initial = {name: getattr(person, name) for name in PERSON_FIELDS if name != "location"}
        initial["location"] = person.location_id
        initial["specific_needs"] = ", ".join(person.specific_needs or [])
        return initial


def data_category_choices():
    """Each category of the disclosure vocabulary in plain words; the sensitive ones say so."""
    choices = []
    for code in DISCLOSURE_FIELDS:
        text = FIELD_LABELS.get(code, code)
        if code in SENSITIVE_FIELDS:
            text = _("%(category)s (sensitive: only if the person agreed to it explicitly)") % {
                "category": text
            }
        choices.append((code, text))
    return choices


CHILD_ASSENT_CHOICES = [
    ("", _("Not asked (the person is an adult)")),
    ("yes", _("The child agrees")),
    ("no", _("The child does not agree")),
]


class ConsentForm(Described, forms.Form):
    """Every field ``consent.services.consent_create`` takes (``_build_record``)."""

    collection_method = forms.ChoiceField(
        label=_("How the person agreed"),
        choices=list(COLLECTION_METHOD_LABELS.items()),
        widget=forms.RadioSelect,
        required=False,
    )
    language = forms.CharField(
        label=_("Language the consent was given in"),
        max_length=16,
        required=False,
        help_text=_("A language code, such as ar, fr or en. The receipt is printed in it when it can be."),
    )
    interpreter_used = forms.BooleanField(label=_("An interpreter helped"), required=False)
    obtained_at = forms.DateTimeField(
        label=_("When the person agreed"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Leave empty for now."),
    )
    purposes = forms.MultipleChoiceField(
        label=_("For which services (purposes)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    recipient_scope = forms.ChoiceField(
        label=_("With whom"),
        choices=list(RECIPIENT_SCOPE_LABELS.items()),
        widget=forms.RadioSelect,
        required=False,
    )
    recipients = forms.MultipleChoiceField(
        label=_("Named organisations"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only with “Named organisations”."),
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Which information may be shared"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=data_category_choices,
    )
    expires_on = forms.DateField(label=_("Valid until (included)"), required=False, widget=DateInput())
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"),
        choices=list(LEGAL_BASIS_LABELS.items()),
        initial="consent",
        required=False,
        help_text=_("Another basis than informed consent only where consent cannot validly be obtained."),
    )
    justification = forms.CharField(
        label=_("Justification of another legal basis"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    child_assent = forms.TypedChoiceField(
        label=_("The child's assent"),
        choices=CHILD_ASSENT_CHOICES,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
    )
    guardian_name = forms.CharField(label=_("Parent's or guardian's name"), required=False, max_length=200)
    guardian_relationship = forms.CharField(
        label=_("Relationship to the child"), required=False, max_length=64
    )
    unaccompanied_or_separated = forms.BooleanField(
        label=_("The child is unaccompanied or separated"), required=False
    )
    best_interests_reference = forms.CharField(
        label=_("Best-interests procedure reference"), required=False, max_length=200
    )

    def __init__(self, *args, purposes, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purposes"].choices = purposes
        self.fields["recipients"].choices = organisations

    def service_values(self) -> dict:
        """The cleaned values as the service takes them (nothing left out: the service decides)."""
        data = dict(self.cleaned_data)
        if data.get("obtained_at") is None:
            data.pop("obtained_at", None)
        return data

    @staticmethod
    def initial_from(record) -> dict:
        """A new version starts from the version it replaces."""
        initial = {name: getattr(record, name) for name in CONSENT_VERSION_FIELDS}
        initial["recipients"] = [str(pk) for pk in record.recipients]
        initial["child_assent"] = {True: "yes", False: "no"}.get(record.child_assent, "")
        return initial


class WithdrawForm(Described, forms.Form):
    channel = forms.ChoiceField(label=_("How the person told us"), choices=list(CHANNEL_LABELS.items()))
    reason = forms.CharField(
        label=_("Reason, if the person gave one"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RequestForm(Described, forms.Form):
    kind = forms.ChoiceField(label=_("What the person asks for"), choices=list(REQUEST_KIND_LABELS.items()))
    channel = forms.ChoiceField(label=_("How the person asked"), choices=list(CHANNEL_LABELS.items()))
    received_on = forms.DateField(
        label=_("Received on"), required=False, widget=DateInput(), help_text=_("Leave empty for today.")
    )
    due_on = forms.DateField(
        label=_("Due on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for the usual time limit."),
    )
    details = forms.CharField(
        label=_("What the person asked"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
