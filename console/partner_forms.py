"""The forms of the referral page: they parse what a person typed and carry the services' errors
next to their field. Choices are offered as lists, but a value outside them is the service's to
refuse (its rule and its words), not the form's."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from console.forms import DECLINE_REASON_LABELS, OUTCOME_LABELS
from console.partner_labels import WITHDRAW_REASON_LABELS
from referrals.transitions import DECLINE_REASONS, WITHDRAW_REASONS

NOTE_ROWS = {"rows": 3}


def _choices(codes, labels, empty):
    return [("", empty), *((code, labels.get(code, code)) for code in codes)]


class ActionForm(forms.Form):
    """A form of one action; ``described()`` links each error to its field for screen readers."""

    def described(self) -> "ActionForm":
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                self.fields[name].widget.attrs.update(
                    {"aria-describedby": f"{bound.auto_id}-error", "aria-invalid": "true"}
                )
        return self


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs=NOTE_ROWS))


class DeclineForm(NoteForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Select(choices=_choices(DECLINE_REASONS, DECLINE_REASON_LABELS, _("Choose a reason"))),
    )
    field_order = ["reason", "note"]


class WithdrawForm(DeclineForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Select(choices=_choices(WITHDRAW_REASONS, WITHDRAW_REASON_LABELS, _("Choose a reason"))),
    )


class CompleteForm(NoteForm):
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        widget=forms.Select(choices=_choices(OUTCOME_LABELS, OUTCOME_LABELS, _("Choose the outcome"))),
    )
    field_order = ["outcome", "note"]


class AssignForm(ActionForm):
    """``members``: the memberships a referral may be assigned to (``referral_assignable_members``)."""

    caseworker = forms.CharField(label=_("Caseworker"), required=False)
    restrict = forms.BooleanField(
        label=_("Only this caseworker and the focal point may see it (restrict)"), required=False
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Choose a caseworker"))]
        choices += [
            (str(member.pk), member.user.get_full_name() or member.user.get_username()) for member in members
        ]
        self.fields["caseworker"].widget = forms.Select(choices=choices)


class ReferOnwardForm(ActionForm):
    """``offers``: the suggestions of ``referral_onward_offers``; a repeated key is a retry."""

    to_service = forms.CharField(label=_("Refer to"), required=False)
    reason_note = forms.CharField(
        label=_("Note for the next service"), required=False, widget=forms.Textarea(attrs=NOTE_ROWS)
    )
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, offers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offers, self.next_steps = {}, set()
        choices = []
        for group, label in (
            ((offers.next_steps, _("next step")), (offers.alternatives, _("same kind"))) if offers else ()
        ):
            for offer in group:
                self.offers[str(offer.service.pk)] = offer
                if group is offers.next_steps:
                    self.next_steps.add(str(offer.service.pk))
                name = f"{offer.service.name} — {offer.service.organisation.name} ({label})"
                choices.append((str(offer.service.pk), name))
        self.fields["to_service"].widget = forms.RadioSelect(choices=choices)
        if not self.is_bound:
            self.initial["idempotency_key"] = f"console-{uuid.uuid4()}"

    def offer(self):
        """The chosen suggestion, or None (an error next to the field says so)."""
        chosen = self.offers.get(self.cleaned_data["to_service"])
        if chosen is None:
            self.add_error("to_service", _("Choose one of the suggested services."))
        return chosen
