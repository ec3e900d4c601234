"""The operation admin's forms: they parse what the admin typed or uploaded; every rule is the
services' own (partners.services, partners.hsds)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.operation_labels import KIND_LABELS, PARTNERSHIP_LABELS
from partners.models import Operation


class LinkedErrors:
    """Each input points at its help text and its errors (``aria-describedby``), and says when it is
    invalid (``aria-invalid``): a screen reader reads the problem with the field. Errors the services
    add after validation (``add_error``) are linked the same way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}-help"

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                ids = [*attrs.get("aria-describedby", "").split(), f"{self[name].auto_id}-error"]
                attrs["aria-describedby"] = " ".join(dict.fromkeys(ids))
                attrs["aria-invalid"] = "true"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class OrganisationForm(LinkedErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    acronym = forms.CharField(
        label=_("Acronym"), max_length=32, help_text=_("Short name, unique in the hub.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=list(KIND_LABELS.items()))
    partnership = forms.ChoiceField(
        label=_("Partnership with UNHCR"), choices=list(PARTNERSHIP_LABELS.items())
    )


class OrganisationCreateForm(OrganisationForm):
    operation = forms.ModelChoiceField(
        label=_("Operation"), queryset=Operation.objects.all(), empty_label=None, to_field_name="pk"
    )


class AgreementForm(LinkedErrors, forms.Form):
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput())
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for an agreement without an end date."),
    )


class FocalPointForm(LinkedErrors, forms.Form):
    username = forms.CharField(
        label=_("Username of the focal point"),
        max_length=150,
        help_text=_("An existing account, or the username of the account to create."),
    )
    create_user = forms.BooleanField(
        label=_("Create the account and e-mail its owner a one-time activation link"), required=False
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        help_text=_("Needed to create the account: the activation link is sent there, nowhere else."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(item, initial) for item in data]
        # nothing chosen: the one-file path says "This field is required."
        return [single(data, initial)] if data else single(data, initial)


class ImportForm(LinkedErrors, forms.Form):
    files = MultipleFileField(
        label=_("HSDS file(s)"),
        help_text=_(
            "A JSON file, the CSV files of the tabular package (select them all), or a .zip that holds them."
        ),
        widget=MultipleFileInput(attrs={"accept": ".json,.csv,.zip"}),
    )
    operation = forms.ModelChoiceField(
        label=_("Operation of new organisations and locations"),
        queryset=Operation.objects.all(),
        required=False,
        empty_label=_("The only operation"),
    )


class ImportRunForm(forms.Form):
    upload = forms.CharField(widget=forms.HiddenInput, max_length=64)
    operation = forms.ModelChoiceField(
        queryset=Operation.objects.all(), required=False, widget=forms.HiddenInput
    )
