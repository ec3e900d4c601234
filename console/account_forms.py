"""Forms of a person's own pages: they parse what was typed; the rules are the services' own
(``partners.services`` for passwords and the second factor, ``notifications.services`` for
preferences)."""

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from console.account_labels import NOTIFICATION_KIND_LABELS
from referrals.models import Notification


class LinkedErrorsForm(forms.Form):
    """A field with an error says so to a screen reader: ``aria-invalid`` and ``aria-describedby``
    pointing at the message printed next to it (``console/account/_field.html``)."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self.auto_id % name if self.auto_id else name}-error"


def _password(label):
    return forms.CharField(label=label, max_length=128, strip=False, widget=forms.PasswordInput)


class ActivationForm(LinkedErrorsForm):
    token = forms.CharField(
        label=_("Activation code (the part of your e-mail's link after “#token=”)"), max_length=128
    )
    new_password = _password(_("Choose a password"))
    new_password_again = _password(_("The same password again"))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") not in (None, data["new_password"]):
            self.add_error("new_password_again", _("The two passwords are not the same."))
        return data


class PasswordChangeForm(ActivationForm):
    token = None
    old_password = _password(_("Your current password"))
    field_order = ["old_password", "new_password", "new_password_again"]


class ConfirmPasswordForm(LinkedErrorsForm):
    password = _password(_("Your password"))


class OneTimeCodeForm(LinkedErrorsForm):
    otp = forms.CharField(
        label=_("The six-digit code your app shows now"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


KIND_CHOICES = [(kind, NOTIFICATION_KIND_LABELS[kind]) for kind in Notification.Kind.values]


def _time_zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PreferencesForm(LinkedErrorsForm):
    email_events = forms.MultipleChoiceField(
        label=_("By e-mail"), choices=KIND_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    sms_events = forms.MultipleChoiceField(
        label=_("By SMS (a reference and a link only)"),
        choices=KIND_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sms_number = forms.CharField(
        label=_("Phone number for SMS, in international form (e.g. +254700000000)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours start (e-mail and SMS wait until they end)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours end"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    time_zone = forms.ChoiceField(label=_("Your time zone"), choices=_time_zone_choices)
    language = forms.ChoiceField(label=_("Language of e-mail and SMS"), choices=())

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
