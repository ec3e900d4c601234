"""Words for the codes a person meets on their own pages: the kinds of notification (the
notifications app's own words, the same as its e-mails and SMS), the demo's roles, the reason
and outcome codes a notice may carry."""

from django.utils.translation import gettext_lazy as _

from console.forms import DECLINE_REASON_LABELS, OUTCOME_LABELS
from notifications.messages import EVENTS
from partners import demo

NOTIFICATION_KIND_LABELS = EVENTS
REASON_LABELS = {**DECLINE_REASON_LABELS, **OUTCOME_LABELS}
PERSONA_LABELS = {
    demo.PROTECTION_OFFICER: _("Protection officer"),
    demo.CASEWORKER: _("Caseworker"),
    demo.FOCAL_POINT: _("Focal point"),
    demo.PSEA_FOCAL_POINT: _("PSEA focal point"),
    demo.OPERATION_ADMIN: _("Operation admin"),
}
PERSONA_DESCRIPTIONS = {
    demo.PROTECTION_OFFICER: _("Registers people, records their consent and sends referrals."),
    demo.CASEWORKER: _(
        "Works the inbox of a partner organisation: acknowledges, accepts, declines, records outcomes."
    ),
    demo.FOCAL_POINT: _("Manages the organisation's people and services and sees its whole inbox."),
    demo.PSEA_FOCAL_POINT: _("Receives the reports of sexual exploitation and abuse, and nobody else does."),
    demo.OPERATION_ADMIN: _("Maps services and pathways for the operation; signs in with a second factor."),
}
