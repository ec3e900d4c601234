"""What a notice says, in its recipient's language: the event, the reference, a code, a link.
Nothing here can name the person or the service: a notice does not hold them."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from referrals.models import Notification

K = Notification.Kind
EVENTS = {
    K.NEW_REFERRAL: _("New referral"),
    K.REFERRAL_ACKNOWLEDGED: _("Referral acknowledged"),
    K.REFERRAL_ACCEPTED: _("Referral accepted"),
    K.REFERRAL_DECLINED: _("Referral declined"),
    K.OUTCOME_RECORDED: _("Outcome recorded"),
    K.ONWARD_OUTCOME_RECORDED: _("Outcome of an onward referral"),
    K.REFERRAL_WITHDRAWN: _("Referral withdrawn"),
    K.CONSENT_WITHDRAWN: _("Consent withdrawn: delete your copy"),
    K.REFERRAL_ESCALATED: _("Referral overdue"),
    K.OUTCOME_OVERDUE: _("Outcome overdue"),
    K.CONSENT_EXPIRED: _("Consent expired"),
    K.REQUEST_DUE_SOON: _("Data-subject request due soon"),
}
SENTENCES = {
    K.NEW_REFERRAL: _("A new referral, %(reference)s, was sent to your organisation."),
    K.REFERRAL_ACKNOWLEDGED: _("Your referral %(reference)s was acknowledged by the receiving organisation."),
    K.REFERRAL_ACCEPTED: _("Your referral %(reference)s was accepted by the receiving organisation."),
    K.REFERRAL_DECLINED: _("Your referral %(reference)s was declined. Reason code: %(code)s."),
    K.OUTCOME_RECORDED: _("An outcome was recorded for your referral %(reference)s. Outcome code: %(code)s."),
    K.ONWARD_OUTCOME_RECORDED: _(
        "An onward referral made from your referral %(reference)s has an outcome. Outcome code: %(code)s."
    ),
    K.REFERRAL_WITHDRAWN: _("Referral %(reference)s was withdrawn by the referring organisation."),
    K.CONSENT_WITHDRAWN: _(
        "Consent for referral %(reference)s was withdrawn: the referral is withdrawn, and every copy of "
        "its data that your organisation holds must be deleted."
    ),
    K.REFERRAL_ESCALATED: _("Referral %(reference)s is overdue: it had no answer by its due date."),
    K.OUTCOME_OVERDUE: _(
        "Referral %(reference)s was accepted but has no outcome recorded by its due date. "
        "Escalation: %(code)s."
    ),
    K.CONSENT_EXPIRED: _("Consent record %(reference)s has expired: it no longer covers new referrals."),
    K.REQUEST_DUE_SOON: _("Data-subject request %(reference)s is due soon."),
}
assert set(EVENTS) == set(SENTENCES) == set(K), "every kind of notice has its words"


def absolute_link(notification: Notification) -> str:
    return settings.SITE_URL + notification.link


def _context(notification: Notification) -> dict:
    return {
        "reference": notification.reference,
        "code": notification.reason_code or "-",
        "link": absolute_link(notification),
    }


def event_label(notification: Notification, language: str) -> str:
    with translation.override(language):
        return str(EVENTS[notification.kind])


def sentence(notification: Notification, language: str) -> str:
    with translation.override(language):
        return str(SENTENCES[notification.kind]) % _context(notification)


def email_parts(notification: Notification, language: str) -> tuple[str, str]:
    """(subject, plain-text body) from the templates, in ``language``."""
    with translation.override(language):
        context = {
            **_context(notification),
            "event": str(EVENTS[notification.kind]),
            "text": str(SENTENCES[notification.kind]) % _context(notification),
        }
        subject = render_to_string("notifications/email_subject.txt", context).strip()
        body = render_to_string("notifications/email_body.txt", context)
    return " ".join(subject.split()), body


def sms_text(notification: Notification, language: str) -> str:
    """An SMS carries the event, the reference and the link: nothing else."""
    with translation.override(language):
        return str(_("Referral Hub: %(event)s %(reference)s %(link)s")) % {
            **_context(notification),
            "event": str(EVENTS[notification.kind]),
        }
