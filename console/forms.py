"""The console's forms: they parse what a person typed; every rule is the services' own."""

from django import forms
from django.utils.translation import gettext_lazy as _

from referrals.models import Referral
from referrals.transitions import DECLINE_REASONS

DECLINE_REASON_LABELS = {
    "not_eligible": _("The person is not eligible for this service"),
    "no_capacity": _("No capacity to take the referral"),
    "outside_area": _("Outside the area the service covers"),
    "duplicate": _("A duplicate of another referral"),
    "person_declined_service": _("The person declined the service"),
    "other": _("Another reason (explain in the note)"),
}
OUTCOME_LABELS = {
    Referral.Outcome.SERVICE_PROVIDED: _("Service provided"),
    Referral.Outcome.PARTIALLY_PROVIDED: _("Service partially provided"),
    Referral.Outcome.NOT_PROVIDED: _("Service not provided"),
    Referral.Outcome.PERSON_UNREACHABLE: _("Person could not be reached"),
}
STATUS_LABELS = {
    Referral.Status.SENT: _("Sent"),
    Referral.Status.ACKNOWLEDGED: _("Acknowledged"),
    Referral.Status.ACCEPTED: _("Accepted"),
    Referral.Status.DECLINED: _("Declined"),
    Referral.Status.COMPLETED: _("Completed"),
    Referral.Status.CLOSED: _("Closed"),
    Referral.Status.WITHDRAWN: _("Withdrawn"),
}
URGENCY_LABELS = {
    Referral.Urgency.EMERGENCY: _("Emergency"),
    Referral.Urgency.URGENT: _("Urgent"),
    Referral.Urgency.NORMAL: _("Normal"),
}


class SignInForm(forms.Form):
    username = forms.CharField(label=_("Your username"), max_length=150)
    password = forms.CharField(label=_("Password"), max_length=128, strip=False, widget=forms.PasswordInput)
    otp = forms.CharField(
        label=_("One-time code (if your account has an authenticator app)"), max_length=8, required=False
    )


class InboxFilterForm(forms.Form):
    """GET parameters of the inbox; the selector validates them again, as for the APIs."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *STATUS_LABELS.items()]
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("Any urgency")), *URGENCY_LABELS.items()]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    after = forms.CharField(required=False, widget=forms.HiddenInput)


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[(code, DECLINE_REASON_LABELS.get(code, code)) for code in DECLINE_REASONS]
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=list(OUTCOME_LABELS.items()))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
