"""Forms and words of the officer's send flow and of the referrals sent. They parse what the officer
chose; which choices are allowed is the services' and selectors' decision."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.forms import URGENCY_LABELS, InboxFilterForm
from console.labels import FIELD_LABELS
from partners.vocabulary import DISCLOSURE_FIELDS
from referrals.disclosure import NOT_ASKED, NOT_IN_CONSENT, OPTIONAL_NOT_CHOSEN
from referrals.models import InformationGiven

DIRECTORY = "directory"

WITHHELD_LABELS = {
    NOT_IN_CONSENT: _("Not in the consent"),
    NOT_ASKED: _("Not asked for by the service"),
    OPTIONAL_NOT_CHOSEN: _("Optional, not chosen"),
}
INFORMATION_CHANNEL_LABELS = {
    InformationGiven.Channel.IN_PERSON: _("In person"),
    InformationGiven.Channel.PHONE: _("Phone"),
    InformationGiven.Channel.HOTLINE: _("Hotline"),
    InformationGiven.Channel.LEAFLET: _("Leaflet or poster"),
    InformationGiven.Channel.ONLINE: _("Online"),
}
# the console's words for the send's refusals; a code without one shows the service's own message
SEND_ERROR_LABELS = {
    "service_not_accepting": _(
        "This service is not accepting referrals now. Choose one of the alternatives."
    ),
    "link_condition_not_met": _(
        "The person does not meet the eligibility condition of the pathway for this service."
    ),
    "consent_not_covering_field": _(
        "The consent does not cover every optional field you chose: leave those out, or record a consent "
        "that covers them."
    ),
    "consent_not_covering_purpose": _("The consent does not cover this need."),
    "consent_not_covering_recipient": _("The consent does not name this organisation as a recipient."),
    "consent_not_covering_fields": _(
        "The consent does not cover every field this service requires: record a consent that covers them."
    ),
    "consent_withdrawn": _("This consent has been withdrawn."),
    "consent_expired": _("This consent has expired."),
    "consent_superseded": _("This consent has been replaced by a newer version."),
    "consent_not_for_person": _("This consent record is not this person's."),
    "field_not_offered": _("The service does not take one of the fields you chose."),
    "organisation_inactive": _("The receiving organisation is inactive."),
    "organisation_without_valid_dsa": _("The receiving organisation has no valid data-sharing agreement."),
    "organisation_without_focal_point": _("The receiving organisation has no focal point."),
    "person_erased": _("The person's data has been erased."),
    "idempotency_key_reused": _("This form was already used for another referral: open the preview again."),
    "note_too_long": _("The note is too long."),
}
# where the send's fields are shown on the page
SEND_ERROR_FIELDS = {
    "optional_fields": "optional",
    "consent": "consent",
    "urgency": "urgency",
    "reason_note": "note",
}


class NeedForm(forms.Form):
    need = forms.ChoiceField(label=_("What does the person need?"))
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"),
        choices=list(URGENCY_LABELS.items()),
        initial="normal",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, needs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["need"].choices = [("", _("Choose a need")), *((need.code, need.name) for need in needs)]


class RouteForm(forms.Form):
    route = forms.ChoiceField(label=_("Along a pathway, or from the directory?"), widget=forms.RadioSelect)

    def __init__(self, *args, pathways=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].choices = [
            *((str(pathway.pk), pathway.name) for pathway in pathways),
            (DIRECTORY, _("No pathway: every service of this need in the directory")),
        ]


class ChoicesForm(forms.Form):
    """The preview's choices (GET): what the officer may change before seeing again what travels."""

    need = forms.CharField(required=False, widget=forms.HiddenInput)
    service = forms.UUIDField(widget=forms.HiddenInput)
    pathway = forms.UUIDField(required=False, widget=forms.HiddenInput)
    consent = forms.ChoiceField(label=_("Consent record used"), widget=forms.RadioSelect)
    optional = forms.MultipleChoiceField(
        label=_("Optional fields to send"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, FIELD_LABELS.get(name, name)) for name in DISCLOSURE_FIELDS],
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=list(URGENCY_LABELS.items()), initial="normal")

    def __init__(self, *args, consents=(), offered=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].choices = [(str(record.pk), record.label) for record in consents]
        if offered is not None:
            self.fields["optional"].choices = [(name, FIELD_LABELS.get(name, name)) for name in offered]


class SendForm(ChoicesForm):
    """The send itself (POST): the choices shown in the preview, the note and the key of this preview."""

    note = forms.CharField(
        label=_("Note for the receiving service"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class SentFilterForm(InboxFilterForm):
    """The inbox's filters less "assigned to me": nobody is assigned a referral on the sending side."""

    mine = None


class InformationGivenForm(forms.Form):
    service = forms.ChoiceField(label=_("Service whose contact details were given"))
    channel = forms.ChoiceField(
        label=_("How they were given"),
        choices=list(INFORMATION_CHANNEL_LABELS.items()),
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [
            ("", _("Choose a service")),
            *((str(service.pk), f"{service.name} ({service.organisation.acronym})") for service in services),
        ]
