from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import DataSubjectRequest

REQUEST_KINDS = [
    (DataSubjectRequest.Kind.ACCESS, _("A copy of the information you hold about me")),
    (DataSubjectRequest.Kind.CORRECTION, _("Correct information about me that is wrong")),
    (DataSubjectRequest.Kind.ERASURE, _("Delete the information you hold about me")),
]


class StartForm(forms.Form):
    reference = forms.CharField(
        label=_("Your referral reference"),
        help_text=_("It starts with R-, for example R-7K2M9XQA. It is on the paper you were given."),
        max_length=20,
        error_messages={"required": _("Type the reference from your paper.")},
    )
    phone = forms.CharField(
        label=_("Your phone number"),
        help_text=_("The number you gave the organisation that referred you."),
        max_length=32,
        error_messages={"required": _("Type your phone number.")},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("The code from the SMS"),
        help_text=_("Six digits. The code works for 10 minutes."),
        max_length=12,
        error_messages={"required": _("Type the code from the SMS.")},
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (you do not have to say)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you ask for?"),
        choices=REQUEST_KINDS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you ask for.")},
    )
    details = forms.CharField(
        label=_("Anything the organisation should know (optional)"),
        help_text=_("For a correction, say what is wrong. Do not write anything you want to keep private."),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
