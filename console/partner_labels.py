"""Words for the codes the inbox and the referral page meet beyond ``console.labels``: withdrawal
reasons, the reason codes of events, the surfaces of the access log, and the console's wording of
the referral services' refusals (by error code; the service's English where there is none)."""

from django.utils.translation import gettext_lazy as _

WITHDRAW_REASON_LABELS = {
    "person_request": _("The person asked to stop"),
    "referred_elsewhere": _("Referred elsewhere"),
    "no_longer_needed": _("No longer needed"),
    "sent_in_error": _("Sent in error"),
    "other": _("Another reason (explain in the note)"),
}
# reason codes an event carries besides the decline and withdrawal reasons and the outcomes
EVENT_REASON_LABELS = {
    "restricted": _("restricted to the assignee and the focal point"),
    "unassigned": _("no longer assigned (the member left)"),
    "consent_withdrawn": _("consent withdrawn"),
    "no_answer_level_1": _("no answer by the due date; the receiving focal point was told"),
    "no_answer_level_2": _("still no answer; the sending focal point and the coordinator were told"),
    "no_outcome_level_1": _("no outcome by the due date; the receiving focal point was told"),
    "no_outcome_level_2": _("still no outcome; the sending focal point and the coordinator were told"),
}
API_LABELS = {
    "rest": _("REST API"),
    "graphql": _("GraphQL API"),
    "admin": _("Administration"),
    "console": _("Console"),
}
# the console's words for a refusal, by the service's error code
REFUSAL_LABELS = {
    "no_organisation": _("You are not an active member of an organisation."),
    "role_cannot_act": _("Viewers cannot act on referrals."),
    "wrong_side": _("Your organisation is not on the side of the referral that takes this action."),
    "focal_point_required": _("Only the receiving focal point assigns referrals."),
    "invalid_transition": _("This is not possible now: the referral is “%(status)s”."),
    "reason_required": _("A reason is required: choose one from the list."),
    "note_required": _("Explain the reason in the note."),
    "outcome_required": _("An outcome is required: choose one from the list."),
    "note_too_long": _("The note is too long: at most 4000 characters."),
    "invalid_assignee": _("Choose an active caseworker of your organisation."),
    "payload_erased": _("The shared information of this referral was erased: it cannot go further."),
}
