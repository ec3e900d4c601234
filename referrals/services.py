"""Referral writes: send, the state machine, assignment, onward referral, escalation, information
given, the access log, and the consent-withdrawal / erasure cascade.

Every function is atomic and is called alike by REST views, GraphQL mutations, admin actions and
management commands. The rules live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm
from simple_history.utils import bulk_update_with_history

from common.errors import Conflict, NotFound, PermissionDenied, ServiceError, error_for
from common.saving import save_with_history
from consent.models import ConsentRecord, Person, RecipientScope, age_on
from partners.models import Membership, Organisation, Service
from partners.selectors import membership_active, organisation_can_receive_referrals
from pathways.models import Pathway, PathwayLink
from pathways.selectors import link_admits, pathway_alternatives, pathway_next_steps, published_link_get
from referrals import facts, transitions
from referrals.disclosure import DisclosurePreview, disclosure_preview
from referrals.models import (
    AccessLog,
    InformationGiven,
    Notification,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from referrals.outbox import outbox_write
from referrals.selectors import facts_for, permission_id, referral_get_visible, referral_list

S = Referral.Status
DEFAULT_RESPONSE_HOURS = {"emergency": 24, "urgent": 72, "normal": 14 * 24}
PSEA = "psea"
NOTE_MAX_LENGTH = 4000


def referral_link(referral: Referral) -> str:
    return f"/api/v1/referrals/{referral.id}"


# Helpers -----------------------------------------------------------------------------------


def _acting_membership(actor) -> Membership:
    """The actor's membership, if the transition table lets them act on referrals at all."""
    membership = membership_active(user=actor)
    caller = transitions.Caller(
        organisation_id=membership.organisation_id if membership else None,
        role=membership.role if membership else None,
    )
    if (refused := transitions.acting_refusal(caller)) is not None:
        raise PermissionDenied(refused.message, code=refused.code)
    return membership


def _event(referral, kind, **fields) -> None:
    _event_row(referral, kind, **fields).save()


def _focal_point_of(organisation_id):
    membership = (
        Membership.objects.select_related("user")
        .filter(organisation_id=organisation_id, role=Membership.Role.FOCAL_POINT, is_active=True)
        .first()
    )
    return membership.user if membership else None


def _notice(referral: Referral, kind: str, user_id, organisation_id, reason_code: str = "") -> Notification:
    """An outbox row: a reference, the kind of event, a code and a link, never a value of the person.
    An emergency referral (every PSEA report is one) is urgent: quiet hours do not hold it back."""
    return Notification(
        recipient_id=user_id,
        organisation_id=organisation_id,
        kind=kind,
        referral=referral,
        reference=referral.reference,
        reason_code=reason_code,
        link=referral_link(referral),
        urgent=referral.urgency == Referral.Urgency.EMERGENCY,
    )


def _notify(referral: Referral, kind: str, *recipients) -> None:
    """Tell members of the receiving organisation (a new referral)."""
    user_ids = dict.fromkeys(user.pk for user in recipients if user is not None)
    outbox_write(_notice(referral, kind, user_id, referral.to_organisation_id) for user_id in user_ids)


def _clean_note(note, field: str = "note") -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ServiceError(f"At most {NOTE_MAX_LENGTH} characters.", code="note_too_long", field=field)
    return note


def person_profile(person: Person, urgency: str | None = None) -> dict:
    """The person as the eligibility rules see them (never sent anywhere)."""
    profile: dict = {"sex": person.sex, "is_minor": person.is_minor()}
    if person.date_of_birth:
        profile["age"] = age_on(person.date_of_birth, timezone.localdate())
    needs = person.specific_needs
    if needs:
        profile["specific_needs"] = list(needs)
    if urgency:
        profile["urgency"] = urgency
    return profile


def _payload_value(person: Person, name: str):
    if name == "location":
        parts = [person.location.name if person.location_id else "", person.location_detail or ""]
        return " — ".join(part for part in parts if part)
    if name == "date_of_birth":
        return person.date_of_birth.isoformat() if person.date_of_birth else None
    if name == "specific_needs":
        return list(person.specific_needs or [])
    return getattr(person, name)


def _response_due(service: Service, urgency: str, now):
    hours = service.response_hours(urgency) or DEFAULT_RESPONSE_HOURS[urgency]
    return now + timedelta(hours=hours)


def _grant(referral: Referral, *, receivers: list, senders: list) -> None:
    """The object grants of a new referral, written in one insert per table. A holder is a group
    (everyone in an organisation) or a user (a confined referral)."""
    from django.contrib.auth.models import Group, Permission

    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="referrals",
            codename__in=(transitions.VIEW, transitions.RESPOND, transitions.MANAGE),
        )
    }
    grants = [
        (holder, codename) for holder in receivers for codename in (transitions.VIEW, transitions.RESPOND)
    ]
    grants += [
        (holder, codename) for holder in senders for codename in (transitions.VIEW, transitions.MANAGE)
    ]
    group_rows, user_rows = [], []
    for holder, codename in grants:
        if holder is None:
            continue
        if isinstance(holder, Group):
            group_rows.append(
                ReferralGroupObjectPermission(
                    content_object=referral, group=holder, permission=perms[codename]
                )
            )
        else:
            user_rows.append(
                ReferralUserObjectPermission(content_object=referral, user=holder, permission=perms[codename])
            )
    ReferralGroupObjectPermission.objects.bulk_create(group_rows, ignore_conflicts=True)
    ReferralUserObjectPermission.objects.bulk_create(user_rows, ignore_conflicts=True)


def _confinement(*, actor, organisation: Organisation, receiving: Organisation, psea: bool, parent):
    """Who holds a new referral on each side, and whether it is confined. Confinement survives
    every path that copies access:

    - a PSEA report reaches the receiving PSEA focal point only, and on the sending side stays with
      the person who sent it and the sending focal point;
    - an onward referral from a confined one is, on its sending side, held by those who held the
      parent; sent on to another service of the same organisation, its receiving side is too.
    Returns (receivers, senders, restricted, assignee)."""
    parent_holders = _restricted_holders(parent) if parent is not None and parent.restricted else None
    if psea:
        focal_point = _focal_point_of(receiving.id)
        receivers, restricted, assignee = [focal_point], True, focal_point
    elif parent_holders is not None and receiving.id == parent.to_organisation_id:
        receivers, restricted, assignee = parent_holders, True, parent.assigned_to
    else:
        receivers, restricted, assignee = [receiving.group], False, None
    if parent_holders is not None:
        senders = parent_holders
    elif psea:
        senders = [actor, _focal_point_of(organisation.id)]
    else:
        senders = [organisation.group]
    return receivers, senders, restricted, assignee


def _receiving_user_grants(referral: Referral):
    """User grants held by (present or past) members of the receiving organisation."""
    members = Membership.objects.filter(organisation_id=referral.to_organisation_id).values("user_id")
    return ReferralUserObjectPermission.objects.filter(content_object=referral, user_id__in=members)


def _revoke_receiving_respond(referrals: Iterable[Referral]) -> None:
    """The receiving side may no longer act on these referrals. It keeps ``view_referral`` (held by
    exactly those who could see each one, so a restriction stays as it was): a withdrawn referral
    remains there as a tombstone, and the facts decide what of it may still be shown."""
    ids = [referral.pk for referral in referrals]
    if not ids:
        return
    respond = permission_id(transitions.RESPOND)
    receiving_groups = Organisation.objects.filter(referrals_received__in=ids).values("group_id")
    ReferralGroupObjectPermission.objects.filter(
        content_object_id__in=ids, permission_id=respond, group_id__in=receiving_groups
    ).delete()
    receiving_members = Membership.objects.filter(organisation__referrals_received__in=ids).values("user_id")
    ReferralUserObjectPermission.objects.filter(
        content_object_id__in=ids, permission_id=respond, user_id__in=receiving_members
    ).delete()


def _carry_out(transition: transitions.Transition, referral: Referral, reason_code: str = "") -> None:
    """The grant changes and notifications the table names for this transition."""
    _carry_out_many(transition, [referral], reason_code)


def _carry_out_many(
    transition: transitions.Transition, referrals: list[Referral], reason_code: str = ""
) -> None:
    if not referrals:
        return
    if transitions.REVOKE_RECEIVING_RESPOND in transition.grants:
        _revoke_receiving_respond(referrals)
    if transition.notice and transition.notify:
        _notify_many(referrals, transition.notice, transition.notify, reason_code)


# Sending -----------------------------------------------------------------------------------


def _idempotent_existing(organisation: Organisation, idempotency_key: str) -> Referral | None:
    """The referral this organisation already sent with this key, if any, after taking the key's lock."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise ServiceError(
            "An idempotency key of 1 to 100 characters is required.", code="invalid", field="idempotency_key"
        )
    # serialise two requests with the same key; the unique constraint is the backstop
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"referral:{organisation.id}:{key}"])
    return Referral.objects.filter(from_organisation=organisation, idempotency_key=key).first()


def _same_request_or_conflict(existing: Referral, *, person_id, to_service_id, parent_id) -> None:
    """A retry must be the same referral; a key reused for another one is a client bug, not a retry."""
    if (existing.person_id, existing.to_service_id, existing.parent_id) != (
        person_id,
        to_service_id,
        parent_id,
    ):
        raise Conflict(
            "This idempotency key was already used for a different referral; use a new key.",
            code="idempotency_key_reused",
            field="idempotency_key",
        )


@transaction.atomic
def referral_send(
    *,
    actor,
    person: Person,
    consent: ConsentRecord,
    to_service: Service,
    from_service: Service | None = None,
    pathway_link: PathwayLink | None = None,
    urgency: str = Referral.Urgency.NORMAL,
    source: str = Referral.Source.INTERNAL,
    reason_note: str = "",
    optional_fields: Iterable[str] = (),
    idempotency_key: str,
) -> Referral:
    """Send one consent-checked, minimal-data referral. A repeated ``idempotency_key`` from the same
    organisation returns the first referral and changes nothing."""
    membership = _acting_membership(actor)
    existing = _idempotent_existing(membership.organisation, idempotency_key)
    if existing is not None:
        _same_request_or_conflict(existing, person_id=person.pk, to_service_id=to_service.pk, parent_id=None)
        existing.replayed = True  # callers can answer "already done" instead of "created"
        return existing
    _check_sender(membership, person=person, from_service=from_service)
    return _create_referral(
        actor=actor,
        organisation=membership.organisation,
        person=person,
        consent=consent,
        to_service=to_service,
        from_service=from_service,
        pathway_link=pathway_link,
        urgency=urgency,
        source=source,
        reason_note=reason_note,
        optional_fields=optional_fields,
        idempotency_key=idempotency_key,
    )


def _create_referral(
    *,
    actor,
    organisation: Organisation,
    person: Person,
    consent: ConsentRecord,
    to_service: Service,
    from_service: Service | None,
    pathway_link: PathwayLink | None,
    urgency: str,
    source: str,
    reason_note: str,
    optional_fields: Iterable[str],
    idempotency_key: str,
    parent: Referral | None = None,
) -> Referral:
    _check_choices(urgency=urgency, source=source)
    reason_note = _clean_note(reason_note, "reason_note")
    person, consent = _locked_person_and_consent(person, consent)
    plan = _send_plan(
        person=person,
        consent=consent,
        to_service=to_service,
        from_service=from_service,
        pathway_link=pathway_link,
        urgency=urgency,
        reason_note=reason_note,
        optional_fields=optional_fields,
        parent=parent,
    )
    pathway, pathway_link, urgency, psea = plan.pathway, plan.pathway_link, plan.urgency, plan.psea
    shared, note_shared = list(plan.preview.travels), plan.note_shared
    receiving = to_service.organisation
    receivers, senders, restricted, assignee = _confinement(
        actor=actor, organisation=organisation, receiving=receiving, psea=psea, parent=parent
    )
    referral = Referral(
        person=person,
        consent=consent,
        from_organisation=organisation,
        from_user=actor,
        from_service=from_service,
        to_service=to_service,
        to_organisation=receiving,
        pathway=pathway,
        pathway_version=pathway.version if pathway else None,
        pathway_link=pathway_link,
        parent=parent,
        source=source,
        urgency=urgency,
        shared_fields=shared,
        payload=_payload_snapshot(person, shared, reason_note if note_shared else None, parent),
        has_note=bool(reason_note),
        note_shared=note_shared,
        reason_note=reason_note,
        due_by=plan.due_by,
        idempotency_key=idempotency_key.strip(),
        restricted=restricted,
        assigned_to=assignee,
    )
    save_with_history(referral, actor, validate=False)
    _grant(referral, receivers=receivers, senders=senders)
    _event(referral, ReferralEvent.Kind.SENT, actor=actor, organisation=organisation)
    _notify(referral, transitions.NEW_REFERRAL_NOTICE, _focal_point_of(receiving.id))
    return referral


def outcome_due(service: Service, accepted_at):
    """When an outcome is due for a referral to ``service`` accepted at ``accepted_at`` (None: never)."""
    days = service.outcome_due_days
    return accepted_at + timedelta(days=days) if days else None


def _check_choices(*, urgency: str, source: str) -> None:
    if urgency not in Referral.Urgency.values:
        raise ServiceError(f"Unknown urgency {urgency!r}.", code="invalid", field="urgency")
    if source not in Referral.Source.values:
        raise ServiceError(f"Unknown source {source!r}.", code="invalid", field="source")


def _locked_person_and_consent(person: Person, consent: ConsentRecord) -> tuple[Person, ConsentRecord]:
    # lock the person, then the consent (erasure and withdrawal take the same locks): either this
    # referral exists before their cascade looks for referrals, or it sees their result and stops
    person = Person.objects.select_for_update().get(pk=person.pk)
    consent = ConsentRecord.objects.select_for_update().get(pk=consent.pk)
    _check_person_and_consent(person, consent)
    return person, consent


def _check_person_and_consent(person: Person, consent: ConsentRecord) -> None:
    if person.is_erased:
        raise Conflict("The person's data has been erased.", code="person_erased", field="person")
    if consent.person_id != person.id:
        raise ServiceError(
            "The consent record is not this person's.", code="consent_not_for_person", field="consent"
        )


def _check_sender(membership: Membership, *, person: Person, from_service: Service | None) -> None:
    if person.organisation_id != membership.organisation_id:
        raise NotFound("No such person.", code="person_not_found", field="person")
    if person.is_erased:
        raise Conflict("The person's data has been erased.", code="person_erased", field="person")
    if from_service is not None and from_service.organisation_id != membership.organisation_id:
        raise ServiceError(
            "The referring service must be one of yours.", code="invalid", field="from_service"
        )


@dataclass(frozen=True)
class SendPlan:
    """What a referral sent with these choices would be: the fields that travel (and those withheld,
    with why), the urgency it goes with, the pathway it follows and when an answer is due."""

    preview: DisclosurePreview
    urgency: str
    pathway: Pathway | None
    pathway_link: PathwayLink | None
    note_shared: bool
    psea: bool
    due_by: object


def _send_plan(
    *,
    person: Person,
    consent: ConsentRecord,
    to_service: Service,
    from_service: Service | None,
    pathway_link: PathwayLink | None,
    urgency: str,
    reason_note: str,
    optional_fields,
    parent: Referral | None,
) -> SendPlan:
    """Every check of a send, in the send's order, and what it would carry; writes nothing."""
    preview = _disclosure(
        consent=consent, to_service=to_service, optional_fields=optional_fields, parent=parent
    )
    if to_service.category.code == PSEA:  # an SEA report is referred immediately, whatever the form said
        urgency = Referral.Urgency.EMERGENCY
    profile = person_profile(person, urgency)
    pathway, pathway_link = _followed_link(
        pathway_link, from_service=from_service, to_service=to_service, profile=profile
    )
    _check_recipient_scope(consent, pathway)
    _check_receiver_takes_it(to_service, profile=profile, pathway=pathway)
    # the note is the narrative: it travels only where the narrative itself may (asked for and consented)
    note_shared = bool(reason_note) and "narrative" in preview.travels
    psea = _is_psea(to_service, pathway)
    if psea:  # along a PSEA pathway too
        urgency = Referral.Urgency.EMERGENCY
    return SendPlan(
        preview=preview,
        urgency=urgency,
        pathway=pathway,
        pathway_link=pathway_link,
        note_shared=note_shared,
        psea=psea,
        due_by=_response_due(to_service, urgency, timezone.now()),
    )


def referral_disclosure_preview(
    *, consent: ConsentRecord, to_service: Service, optional_fields: Iterable[str] = ()
) -> DisclosurePreview:
    """Which fields a referral of this person to ``to_service`` on ``consent`` would carry, and which
    are withheld and why: the very computation :func:`referral_send` makes. Never refuses."""
    return _disclosure_preview(
        consent=consent, to_service=to_service, optional_fields=optional_fields, parent=None
    )


def referral_send_check(
    *,
    actor,
    person: Person,
    consent: ConsentRecord,
    to_service: Service,
    from_service: Service | None = None,
    pathway_link: PathwayLink | None = None,
    urgency: str = Referral.Urgency.NORMAL,
    source: str = Referral.Source.INTERNAL,
    reason_note: str = "",
    optional_fields: Iterable[str] = (),
) -> SendPlan:
    """Everything :func:`referral_send` checks, with the same code and in the same order, and the plan
    of what it would send; raises the error the send would raise. Writes nothing, locks nothing: the
    send checks again under its locks."""
    membership = _acting_membership(actor)
    _check_sender(membership, person=person, from_service=from_service)
    _check_choices(urgency=urgency, source=source)
    reason_note = _clean_note(reason_note, "reason_note")
    _check_person_and_consent(person, consent)
    return _send_plan(
        person=person,
        consent=consent,
        to_service=to_service,
        from_service=from_service,
        pathway_link=pathway_link,
        urgency=urgency,
        reason_note=reason_note,
        optional_fields=optional_fields,
        parent=None,
    )


def _disclosure_preview(
    *, consent: ConsentRecord, to_service: Service, optional_fields, parent: Referral | None
) -> DisclosurePreview:
    in_consent = set(consent.data_categories)
    consented = in_consent & set(parent.shared_fields) if parent is not None else in_consent
    return disclosure_preview(
        required=to_service.required_fields,
        optional_offered=to_service.optional_fields,
        optional_chosen=optional_fields,
        consented=consented,
    )


def _disclosure(
    *, consent: ConsentRecord, to_service: Service, optional_fields, parent: Referral | None
) -> DisclosurePreview:
    """Minimal data: what the service needs, as far as the consent (and, onward, the parent) allows.
    Whatever was asked for and cannot travel is refused by name, never dropped in silence."""
    in_consent = set(consent.data_categories)
    preview = _disclosure_preview(
        consent=consent, to_service=to_service, optional_fields=optional_fields, parent=parent
    )
    disclosure = preview.disclosure
    if disclosure.not_offered:
        raise ServiceError(
            f"The service does not take: {', '.join(disclosure.not_offered)}.",
            code="field_not_offered",
            field="optional_fields",
        )
    check = consent.is_valid_for(to_service.category, to_service.organisation, to_service.required_fields)
    if not check:
        raise error_for(
            check.code, check.message, field="consent", extra={"missing_fields": list(check.fields)}
        )
    not_in_consent = [name for name in disclosure.optional_not_consented if name not in in_consent]
    if not_in_consent:
        raise ServiceError(
            f"The consent does not cover: {', '.join(not_in_consent)}. Leave them out, or record a "
            "consent that covers them.",
            code="consent_not_covering_field",
            field="optional_fields",
            extra={"missing_fields": not_in_consent},
        )
    # onward: covered by the consent but never shared with us
    unavailable = [*disclosure.missing_required, *disclosure.optional_not_consented]
    if unavailable:
        raise ServiceError(
            f"The referral you received does not carry: {', '.join(unavailable)}.",
            code="field_not_available",
            field="to_service" if disclosure.missing_required else "optional_fields",
            extra={"missing_fields": unavailable},
        )
    return preview


def _followed_link(pathway_link: PathwayLink | None, *, from_service, to_service, profile):
    """The published pathway link this referral follows, if one is given, checked for this person."""
    if pathway_link is None:
        return None, None
    link = published_link_get(link_id=pathway_link.pk)
    if from_service is None:
        raise ServiceError(
            "Following a pathway link needs the service it starts from.",
            code="invalid",
            field="from_service",
        )
    why = link_admits(
        link=link, from_service_id=from_service.id, to_service_id=to_service.id, profile=profile
    )
    if why is not None:
        raise ServiceError(_LINK_MESSAGES[why], code=why, field="pathway_link")
    return link.pathway, link


def _check_recipient_scope(consent: ConsentRecord, pathway: Pathway | None) -> None:
    if consent.recipient_scope == RecipientScope.PATHWAY and pathway is None:
        raise ServiceError(
            "The consent covers organisations on a pathway: follow a pathway link to send this referral.",
            code="consent_not_covering_recipient",
            field="pathway_link",
        )


def _check_receiver_takes_it(to_service: Service, *, profile, pathway: Pathway | None) -> None:
    ok, reason = organisation_can_receive_referrals(organisation=to_service.organisation)
    if not ok:
        raise ServiceError(_RECEIVER_MESSAGES[reason], code=reason, field="to_service")
    if not to_service.is_active or not to_service.is_accepting_referrals:
        offers = pathway_alternatives(service=to_service, profile=profile, pathway=pathway)
        raise ServiceError(
            f"{to_service.name} is not accepting referrals; the alternatives are listed.",
            code="service_not_accepting",
            field="to_service",
            extra={"alternatives": [_offer_json(offer) for offer in offers]},
        )


def _is_psea(to_service: Service, pathway: Pathway | None) -> bool:
    return to_service.category.code == PSEA or (pathway is not None and pathway.theme == Pathway.Theme.PSEA)


def _payload_snapshot(
    person: Person, shared: list[str], narrative: str | None, parent: Referral | None
) -> dict:
    """The values of the shared fields: from the person, or, onward, from what the parent carried.
    The narrative is the referrer's note."""
    source_values = parent.payload if parent is not None else None
    return {
        name: (
            narrative
            if name == "narrative" and narrative
            else source_values.get(name)
            if source_values is not None
            else _payload_value(person, name)
        )
        for name in shared
    }


_LINK_MESSAGES = {
    "link_not_from_service": "The pathway link does not start at the referring service.",
    "link_not_to_service": "The pathway link does not lead to the chosen service.",
    "link_condition_not_met": "The person does not meet the eligibility condition of the pathway link.",
}
_RECEIVER_MESSAGES = {
    "organisation_inactive": "The receiving organisation is inactive.",
    "organisation_without_valid_dsa": "The receiving organisation has no valid data-sharing agreement.",
    "organisation_without_focal_point": "The receiving organisation has no focal point.",
}


def _offer_json(offer) -> dict:
    return {
        "service": str(offer.service.id),
        "name": offer.service.name,
        "organisation": offer.service.organisation.acronym,
        "pathway": str(offer.pathway.id),
        "distance": offer.distance,
    }


# The state machine -------------------------------------------------------------------------


def caller_for(actor, referral: Referral) -> tuple[Membership | None, transitions.Caller]:
    """The caller as the transition table sees them: membership, role and grants on ``referral``."""
    membership = membership_active(user=actor)
    if membership is None:
        return None, transitions.Caller(organisation_id=None, role=None)
    permissions = frozenset(ObjectPermissionChecker(actor).get_perms(referral))
    return membership, transitions.Caller(
        organisation_id=membership.organisation_id, role=membership.role, permissions=permissions
    )


def _authorise(actor, referral: Referral, action: str, *, state: bool = True, caller=None) -> Membership:
    """Ask the transition table; its refusal becomes a 403 (who) or a 409 (when)."""
    membership, caller = caller or caller_for(actor, referral)
    refused = transitions.refusal(action, facts.state_of(referral), caller, state=state)
    if refused is not None:
        error = PermissionDenied if refused.kind == "permission" else Conflict
        raise error(refused.message, code=refused.code)
    return membership


def _check_reason(transition: transitions.Transition, reason_code: str, note: str) -> None:
    if not transition.reasons:
        return
    if reason_code not in transition.reasons:
        raise ServiceError(
            f"A reason is required: one of {', '.join(transition.reasons)}.",
            code="reason_required",
            field="reason",
        )
    if reason_code == "other" and not note:
        raise ServiceError("Explain the reason in the note.", code="note_required", field="note")


def _check_outcome(transition: transitions.Transition, outcome: str) -> None:
    if transition.outcome_required and outcome not in Referral.Outcome.values:
        raise ServiceError(
            f"An outcome is required: one of {', '.join(Referral.Outcome.values)}.",
            code="outcome_required",
            field="outcome",
        )


@transaction.atomic
def referral_transition(
    *, actor, referral: Referral, action: str, reason_code: str = "", note: str = "", outcome: str = ""
) -> Referral:
    """Move a referral along the transition table: lock, ask the table, save, write the event and
    carry out the side effects the table names."""
    transition = transitions.STATE_CHANGES.get(action)
    if transition is None:
        raise ServiceError(f"Unknown action {action!r}.", code="unknown_action", field="action")
    referral_get_visible(user=actor, referral_id=referral.pk)  # not visible → 404, before anything else
    # lock first: two partners may accept at once; the second sees the new state and gets a conflict
    referral = (
        Referral.objects.select_for_update()
        .select_related("to_organisation", "from_organisation", "to_service")
        .get(pk=referral.pk)
    )
    membership = _authorise(actor, referral, action)
    note = _clean_note(note)
    _check_reason(transition, reason_code, note)
    _check_outcome(transition, outcome)
    if transition.outcome_required:
        referral.outcome = outcome
        referral.outcome_note = note
    previous = referral.status
    referral.status = transition.target
    if transition.starts_outcome_clock:
        referral.escalation_level = 0  # the answer came: escalation climbs on the outcome clock now
        referral.outcome_due_by = outcome_due(referral.to_service, timezone.now())
    save_with_history(referral, actor, validate=False)
    _event(
        referral,
        transition.event,
        actor=actor,
        organisation=membership.organisation,
        from_status=previous,
        reason_code=reason_code or outcome,
        note=note,
    )
    _carry_out(transition, referral, reason_code or outcome)
    return referral


@transaction.atomic
def referral_assign(*, actor, referral: Referral, caseworker, restrict: bool = False) -> Referral:
    """The receiving focal point gives the referral to one caseworker, optionally hiding it from the rest."""
    referral_get_visible(user=actor, referral_id=referral.pk)
    referral = Referral.objects.select_for_update().select_related("to_organisation").get(pk=referral.pk)
    membership = _authorise(actor, referral, "assign")
    target = Membership.objects.filter(
        user=caseworker,
        organisation_id=referral.to_organisation_id,
        is_active=True,
        role__in=transitions.ACTING_ROLES,
    ).first()
    if target is None:
        raise ServiceError(
            "Assign to an active caseworker of the receiving organisation.",
            code="invalid_assignee",
            field="caseworker",
        )
    referral.assigned_to = caseworker
    if restrict and not referral.restricted:
        group = referral.to_organisation.group
        ReferralGroupObjectPermission.objects.filter(content_object=referral, group=group).delete()
        referral.restricted = True
    if referral.restricted:
        # the previous assignee is restricted out: only the new one and the focal point remain
        _receiving_user_grants(referral).exclude(user_id__in=[caseworker.pk, actor.pk]).delete()
        for user in (caseworker, actor):
            for perm in ("view_referral", "respond_referral"):
                assign_perm(f"referrals.{perm}", user, referral)
    save_with_history(referral, actor, validate=False)
    _event(
        referral,
        ReferralEvent.Kind.ASSIGNED,
        actor=actor,
        organisation=membership.organisation,
        from_status=referral.status,
        reason_code="restricted" if referral.restricted else "",
    )
    return referral


@transaction.atomic
def referral_refer_onward(
    *,
    actor,
    referral: Referral,
    to_service: Service,
    idempotency_key: str,
    urgency: str | None = None,
    reason_note: str = "",
    optional_fields: Iterable[str] = (),
    pathway_link: PathwayLink | None = None,
) -> Referral:
    """From an accepted referral, a child referral to another service; the parent stays accepted.

    The receiving organisation does not hold the person: the child rests on the same consent,
    re-checked for the new recipient, and can carry only what the parent shared with it.
    """
    referral_get_visible(user=actor, referral_id=referral.pk)
    parent = Referral.objects.select_for_update().select_related("consent", "person").get(pk=referral.pk)
    caller = caller_for(actor, parent)
    membership = _authorise(actor, parent, "refer_onward", state=False, caller=caller)
    existing = _idempotent_existing(membership.organisation, idempotency_key)
    if existing is not None:  # a retry is answered whatever the parent's state is now
        _same_request_or_conflict(
            existing, person_id=parent.person_id, to_service_id=to_service.pk, parent_id=parent.pk
        )
        existing.replayed = True
        return existing
    _authorise(actor, parent, "refer_onward", caller=caller)
    child = _create_referral(
        actor=actor,
        organisation=membership.organisation,
        person=parent.person,
        consent=_current_version(parent.consent),
        to_service=to_service,
        from_service=parent.to_service,
        pathway_link=pathway_link,
        urgency=urgency or parent.urgency,
        source=Referral.Source.INTERNAL,
        reason_note=reason_note,
        optional_fields=optional_fields,
        idempotency_key=idempotency_key,
        parent=parent,
    )
    _event(
        parent,
        ReferralEvent.Kind.REFERRED_ONWARD,
        actor=actor,
        organisation=membership.organisation,
        from_status=parent.status,
        reason_code=child.reference,
    )
    return child


@dataclass(frozen=True)
class OnwardOffers:
    """Where a referral may be sent on (``pathways.selectors.Offer``s): the pathway's next steps
    from its service (each with the link a child referral follows), and open services of the same
    kind. Each service once, never the referral's own."""

    next_steps: list
    alternatives: list

    def __bool__(self) -> bool:
        return bool(self.next_steps or self.alternatives)


def referral_onward_offers(*, actor, referral: Referral) -> OnwardOffers:
    """What the pathway suggests for referring ``referral`` onward: its next steps on the pathway
    the referral followed, then ``pathway_alternatives`` for its service. The eligibility rules see
    the person as :func:`referral_refer_onward` checks them (``person_profile``); nothing of the
    person is returned. Empty when the caller may not refer it onward (the transition table)."""
    if not facts_for(user=actor, referral=referral).can("refer_onward"):
        return OnwardOffers(next_steps=[], alternatives=[])
    parent = Referral.objects.select_related("person", "pathway", "to_service__organisation").get(
        pk=referral.pk
    )
    profile = person_profile(parent.person, parent.urgency)
    next_steps, alternatives = [], []
    # the pathway it followed; sent directly, every published pathway of the operation with its service
    pathways = [parent.pathway] if parent.pathway is not None else _published_with(parent.to_service)
    for pathway in pathways:
        # a service no longer on the pathway's graph, or a profile the rules refuse: nothing there
        with suppress(ServiceError):
            next_steps += pathway_next_steps(
                pathway=pathway, service_id=parent.to_service_id, profile=profile
            )
    with suppress(ServiceError):
        alternatives = pathway_alternatives(
            service=parent.to_service, profile=profile, pathway=parent.pathway
        )
    seen = {parent.to_service_id}

    def first_of_each(offers):
        kept = []
        for offer in offers:
            if offer.service.pk not in seen:
                seen.add(offer.service.pk)
                kept.append(offer)
        return kept

    return OnwardOffers(next_steps=first_of_each(next_steps), alternatives=first_of_each(alternatives))


def _published_with(service: Service) -> list[Pathway]:
    return list(
        Pathway.objects.filter(
            operation_id=service.organisation.operation_id,
            status=Pathway.Status.PUBLISHED,
            steps__service=service,
        )
        .distinct()
        .order_by("name", "id")
    )


def _current_version(consent: ConsentRecord) -> ConsentRecord:
    """The record now in force in this consent's line (a newer version may widen the scope)."""
    while consent.status == ConsentRecord.Status.SUPERSEDED and hasattr(consent, "superseded_by"):
        consent = consent.superseded_by
    return consent


def _restricted_holders(referral: Referral) -> list:
    """The users who may see a restricted referral on its receiving side (its assignee and the
    focal point), active members only."""
    active = Membership.objects.filter(organisation_id=referral.to_organisation_id, is_active=True)
    grants = _receiving_user_grants(referral).filter(
        permission__codename=transitions.VIEW, user_id__in=active.values("user_id")
    )
    return [grant.user for grant in grants.select_related("user").order_by("user_id")]


# Escalation, information, access log ------------------------------------------------------


def escalation_level_2_after(urgency: str) -> timedelta:
    """How long after level 1 a referral still overdue climbs to level 2."""
    if urgency == Referral.Urgency.EMERGENCY:
        return timedelta(hours=settings.ESCALATION_LEVEL_2_HOURS_EMERGENCY)
    return timedelta(hours=settings.ESCALATION_LEVEL_2_HOURS)


def escalation_due_at(referral: Referral):
    """When ``referral`` climbs its next escalation level, or None when it never will as it stands."""
    step = transitions.next_escalation(referral.status, referral.escalation_level)
    if step is None:
        return None
    if step.level == 2:
        return referral.escalated_at + escalation_level_2_after(referral.urgency)
    return referral.outcome_due_by if step.action.startswith(transitions.NO_OUTCOME) else referral.due_by


def _escalation_due(step: transitions.Transition, now) -> Q:
    """The referrals due to climb to ``step`` at ``now`` (the query twin of ``escalation_due_at``)."""
    due = Q(status__in=step.sources, escalation_level=step.level - 1)
    if step.level == 2:
        emergency = Q(urgency=Referral.Urgency.EMERGENCY)
        return due & (
            (emergency & Q(escalated_at__lte=now - escalation_level_2_after(Referral.Urgency.EMERGENCY)))
            | (~emergency & Q(escalated_at__lte=now - escalation_level_2_after(Referral.Urgency.NORMAL)))
        )
    if step.action.startswith(transitions.NO_OUTCOME):
        return due & Q(outcome_due_by__lt=now)
    return due & Q(due_by__lt=now)


@transaction.atomic
def referrals_escalate_overdue(*, now=None) -> int:
    """Climb one escalation level for every referral due at ``now``: no answer by its due date
    (level 1: the receiving focal point), still none a period later (level 2: the sending focal
    point and the operation's coordinator); the same for an accepted referral without an outcome
    by its ``outcome_due_by``. Each level is reached once, however often this runs; a referral
    climbs at most one level per run. Returns how many escalations were made."""
    now = now or timezone.now()
    done: set = set()
    count = 0
    for step in transitions.ESCALATIONS:
        due = list(
            Referral.objects.select_for_update(skip_locked=True)
            .filter(_escalation_due(step, now))
            .exclude(pk__in=done)
            .order_by("pk")
        )
        for referral in due:
            referral.escalation_level = step.level
            referral.escalated_at = now
            referral.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
            _event(referral, step.event, from_status=referral.status, reason_code=step.action, at=now)
        _carry_out_many(step, due, step.action)
        done |= {referral.pk for referral in due}
        count += len(due)
    return count


@transaction.atomic
def information_given(*, actor, service: Service, channel: str) -> InformationGiven:
    """Someone was given a service's contact details: counted, with no personal data at all."""
    membership = _acting_membership(actor)
    if channel not in InformationGiven.Channel.values:
        raise ServiceError(
            f"Unknown channel {channel!r}; one of {', '.join(InformationGiven.Channel.values)}.",
            code="invalid",
            field="channel",
        )
    return InformationGiven.objects.create(
        service=service, channel=channel, organisation=membership.organisation, actor=actor
    )


def payload_read(*, user, referrals: Iterable[Referral], api: str) -> None:
    """Log that ``user`` read these referrals' payloads: one bulk insert for the whole request."""
    membership = membership_active(user=user)
    rows = [
        AccessLog(
            referral_id=referral.pk,
            user=user,
            organisation_id=membership.organisation_id if membership else None,
            fields=list(referral.shared_fields),
            api=api,
        )
        for referral in referrals
        if referral.payload_erased_at is None and referral.shared_fields
    ]
    if rows:
        AccessLog.objects.bulk_create(rows)


@transaction.atomic
def access_log_purge(*, before) -> int:
    """Retention: forget reads of referral payloads logged before ``before`` (ACCESS_LOG_RETENTION_DAYS)."""
    deleted, _ = AccessLog.objects.filter(at__lt=before).delete()
    return deleted


# The consent cascade -----------------------------------------------------------------------


def _erase_and_withdraw(referrals: list[Referral], *, actor, kind: str) -> None:
    """Consent withdrawn or person erased: open referrals are withdrawn; every one loses its shared
    data and free-text notes; the outcome code and the events stay for both sides.

    Set-based: a fixed number of statements whatever the number of referrals (one update with
    its history rows, one insert each for events and notices, one update for event notes, the
    grant deletes). ``referrals`` are locked by the caller."""
    if not referrals:
        return
    cascade = transitions.CONSENT_WITHDRAWAL
    now = timezone.now()
    events, previous_status = [], {}
    for referral in referrals:
        previous_status[referral.pk] = referral.status
        if referral.status in cascade.sources:
            referral.status = cascade.target
        referral.payload = None
        referral.reason_note = ""
        referral.outcome_note = ""
        referral.payload_erased_at = now
        referral.updated_at = now
        if previous_status[referral.pk] != referral.status:
            events.append(
                _event_row(
                    referral,
                    kind,
                    actor=actor,
                    from_status=previous_status[referral.pk],
                    at=now,
                    reason_code="consent_withdrawn",
                )
            )
        events.append(
            _event_row(
                referral,
                ReferralEvent.Kind.PAYLOAD_ERASED,
                actor=actor,
                from_status=referral.status,
                at=now + timedelta(microseconds=1),  # after the withdrawal, in the events' order
            )
        )
    bulk_update_with_history(
        referrals,
        Referral,
        ["status", "payload", "reason_note", "outcome_note", "payload_erased_at", "updated_at"],
        default_user=actor,
        default_date=now,
    )
    ReferralEvent.objects.bulk_create(events)
    ids = [referral.pk for referral in referrals]
    # free-text notes on events may name the person too
    ReferralEvent.objects.filter(referral_id__in=ids, note__isnull=False).update(note=None)
    _notify_many(referrals, cascade.notice, cascade.notify)
    _revoke_receiving_respond(referrals)


def _event_row(
    referral, kind, *, actor=None, organisation=None, from_status="", reason_code="", note="", at=None
):
    return ReferralEvent(
        referral=referral,
        kind=kind,
        actor=actor,
        organisation=organisation,
        from_status=from_status,
        to_status=referral.status,
        reason_code=reason_code,
        note=note,
        at=at or timezone.now(),
    )


def _notify_many(referrals: list[Referral], kind: str, who: Iterable[str], reason_code: str = "") -> None:
    """The notices of a cascade in one insert: the focal points looked up once for all. Only active
    members are told: an organisation's active focal point, a coordinator with an active membership."""
    who = tuple(who)
    organisation_ids = {referral.to_organisation_id for referral in referrals}
    if transitions.SENDING_FOCAL_POINT in who:
        organisation_ids |= {referral.from_organisation_id for referral in referrals}
    focal_points = {
        membership.organisation_id: membership.user_id
        for membership in Membership.objects.filter(
            organisation_id__in=organisation_ids, role=Membership.Role.FOCAL_POINT, is_active=True
        )
    }
    coordinators = _coordinators_of(referrals) if transitions.COORDINATOR in who else {}
    rows = []
    for referral in referrals:
        # who is told, and as a member of which side
        recipients = {
            transitions.RECEIVING_FOCAL_POINT: (
                focal_points.get(referral.to_organisation_id),
                referral.to_organisation_id,
            ),
            transitions.SENDING_FOCAL_POINT: (
                focal_points.get(referral.from_organisation_id),
                referral.from_organisation_id,
            ),
            transitions.ASSIGNEE: (referral.assigned_to_id, referral.to_organisation_id),
            transitions.REFERRER: (referral.from_user_id, referral.from_organisation_id),
            transitions.COORDINATOR: coordinators.get(referral.to_organisation_id, (None, None)),
        }
        told = {}
        for name in who:
            if name == transitions.EARLIER_REFERRERS:
                continue
            user_id, organisation_id = recipients[name]
            if user_id is not None:
                told.setdefault(user_id, organisation_id)
        rows += [_notice(referral, kind, user_id, org_id, reason_code) for user_id, org_id in told.items()]
        if transitions.EARLIER_REFERRERS in who:
            rows += _notices_up_the_chain(referral, reason_code, already=set(told))
    outbox_write(rows)


def _coordinators_of(referrals: list[Referral]) -> dict:
    """Per receiving organisation: (its operation's coordinator, the organisation they are an
    active member of). A coordinator without an active membership, or whose account is
    deactivated, is left out: they receive nothing."""
    coordinator_of = dict(
        Organisation.objects.filter(
            pk__in={referral.to_organisation_id for referral in referrals},
            operation__coordinator__isnull=False,
        ).values_list("pk", "operation__coordinator_id")
    )
    if not coordinator_of:
        return {}
    member_of = dict(
        Membership.objects.filter(
            user_id__in=set(coordinator_of.values()), is_active=True, user__is_active=True
        ).values_list("user_id", "organisation_id")
    )
    return {
        organisation_id: (user_id, member_of[user_id])
        for organisation_id, user_id in coordinator_of.items()
        if user_id in member_of
    }


def _notices_up_the_chain(referral: Referral, reason_code: str, *, already: set) -> list[Notification]:
    """The referrer of each referral this one was referred onward from, told on their own
    referral (its reference and link): they never learn the onward referral itself."""
    rows, parent_id = [], referral.parent_id
    while parent_id is not None:
        parent = Referral.objects.only(
            "id", "reference", "urgency", "from_user_id", "from_organisation_id", "parent_id"
        ).get(pk=parent_id)
        if parent.from_user_id not in already:
            already.add(parent.from_user_id)
            rows.append(
                _notice(
                    parent,
                    transitions.ONWARD_NOTICE,
                    parent.from_user_id,
                    parent.from_organisation_id,
                    reason_code,
                )
            )
        parent_id = parent.parent_id
    return rows


def on_consent_withdrawn(*, record, lineage, actor) -> None:
    referrals = list(
        Referral.objects.select_for_update()
        .filter(
            consent_id__in=lineage, payload_erased_at__isnull=True
        )  # a narrower version may have come first
        .order_by("pk")
    )
    _erase_and_withdraw(referrals, actor=actor, kind=ReferralEvent.Kind.CONSENT_WITHDRAWN)


def on_consent_narrowed(*, previous, record, actor) -> None:
    """A new version no longer covers some referrals on earlier ones: withdraw and erase those."""
    candidates = (
        Referral.objects.select_for_update(of=("self",))
        .filter(consent_id__in=previous.lineage_ids(), payload_erased_at__isnull=True)
        .select_related("to_service__category", "to_organisation")
        .order_by("pk")
    )
    uncovered = [
        referral
        for referral in candidates
        if not record.is_valid_for(
            referral.to_service.category, referral.to_organisation, referral.shared_fields
        )
    ]
    _erase_and_withdraw(uncovered, actor=actor, kind=ReferralEvent.Kind.CONSENT_WITHDRAWN)


def on_focal_point_handed_over(*, organisation, previous, new, actor) -> None:
    """What the outgoing focal point held in person passes to the new one: on the receiving side
    PSEA reports and the restricted referrals they narrowed (they keep only what is assigned to them
    as a caseworker); on the sending side the PSEA reports their organisation sent (the officer who
    sent one keeps it)."""
    if previous is None:
        return
    grants = ReferralUserObjectPermission.objects.filter(user=previous).select_related("permission")
    held_perms: dict = {}
    for grant in grants:
        held_perms.setdefault(grant.content_object_id, set()).add(grant.permission.codename)
    held = (
        Referral.objects.select_for_update(of=("self",))
        .filter(Q(to_organisation=organisation) | Q(from_organisation=organisation), pk__in=list(held_perms))
        .select_related("to_service__category", "pathway")
    )
    for referral in held:
        perms, drop = held_perms[referral.pk], set()
        if transitions.RESPOND in perms and referral.to_organisation_id == organisation.id:
            psea = _is_psea(referral.to_service, referral.pathway)
            for perm in (transitions.VIEW, transitions.RESPOND):
                assign_perm(f"referrals.{perm}", new, referral)
            if psea or referral.assigned_to_id != previous.pk:
                drop |= {transitions.VIEW, transitions.RESPOND}
            if psea and referral.assigned_to_id == previous.pk:
                referral.assigned_to = new
                save_with_history(
                    referral, actor, validate=False, update_fields=["assigned_to", "updated_at"]
                )
        if transitions.MANAGE in perms and referral.from_organisation_id == organisation.id:
            for perm in (transitions.VIEW, transitions.MANAGE):
                assign_perm(f"referrals.{perm}", new, referral)
            if referral.from_user_id != previous.pk:
                drop |= {transitions.VIEW, transitions.MANAGE}
            else:
                drop.discard(transitions.VIEW)  # still the officer who sent it
        if drop:
            ReferralUserObjectPermission.objects.filter(
                content_object=referral, user=previous, permission__codename__in=drop
            ).delete()


def on_membership_deactivated(*, membership, actor) -> None:
    """A deactivated member loses every referral held in person at that organisation: a confined
    referral stays with the focal point (and is no longer assigned to them) rather than coming back
    if the account is ever reactivated."""
    organisation_id = membership.organisation_id
    in_organisation = Referral.objects.filter(
        Q(to_organisation_id=organisation_id) | Q(from_organisation_id=organisation_id)
    )
    ReferralUserObjectPermission.objects.filter(
        user_id=membership.user_id, content_object__in=in_organisation
    ).delete()
    assigned = list(
        in_organisation.select_for_update(of=("self",)).filter(
            to_organisation_id=organisation_id,
            assigned_to_id=membership.user_id,
            status__in=Referral.OPEN_STATUSES,
        )
    )
    for referral in assigned:
        referral.assigned_to = None
        save_with_history(referral, actor, validate=False, update_fields=["assigned_to", "updated_at"])
        _event(
            referral,
            ReferralEvent.Kind.ASSIGNED,
            actor=actor,
            from_status=referral.status,
            reason_code="unassigned",
        )


def on_person_erased(*, person, actor) -> None:
    referrals = list(
        Referral.objects.select_for_update()
        .filter(person=person, payload_erased_at__isnull=True)  # a consent withdrawal may have come first
        .order_by("pk")
    )
    _erase_and_withdraw(referrals, actor=actor, kind=ReferralEvent.Kind.CONSENT_WITHDRAWN)


def export_for_person(*, person, actor=None) -> list[dict]:
    """What the exporting organisation holds about the person in referrals, for a subject-access
    request: exactly what ``actor`` could read through the API (the same selector and the same
    facts), never an onward referral between other organisations or a note that is not theirs to
    read. Handing the shared data over is a read like any other: it is written to the access log."""
    if actor is None:
        return []
    referrals = list(
        referral_list(user=actor)
        .filter(person=person)
        .prefetch_related(
            Prefetch("events", queryset=ReferralEvent.objects.select_related("organisation").order_by("at")),
            Prefetch("access_log", queryset=AccessLog.objects.select_related("organisation").order_by("at")),
        )
    )
    shown = {referral.pk: facts_for(user=actor, referral=referral) for referral in referrals}
    payload_read(user=actor, referrals=[r for r in referrals if shown[r.pk].payload], api=AccessLog.Api.REST)
    return [_exported(referral, shown[referral.pk]) for referral in referrals]


def _exported(referral: Referral, seen) -> dict:
    return {
        "reference": referral.reference,
        "side": seen.side,
        "from_organisation": referral.from_organisation.acronym,
        "to_service": referral.to_service.name,
        "to_organisation": referral.to_organisation.acronym,
        "status": referral.status,
        "urgency": referral.urgency,
        "created_at": referral.created_at.isoformat(),
        "due_by": referral.due_by.isoformat(),
        "shared_fields": list(seen.shared_fields),
        "payload": seen.payload,
        "reason_note": seen.reason_note or "",
        "outcome": referral.outcome,
        "outcome_note": seen.outcome_note or "",
        "payload_erased_at": referral.payload_erased_at.isoformat() if referral.payload_erased_at else None,
        "events": [
            {
                "kind": event.kind,
                "at": event.at.isoformat(),
                "organisation": event.organisation.acronym if event.organisation else None,
                "reason": event.reason_code,
                "note": (event.note or "") if seen.event_notes else "",
            }
            for event in referral.events.all()
        ],
        "read_by": [
            {
                "at": entry.at.isoformat(),
                "organisation": entry.organisation.acronym if entry.organisation else None,
                "fields": list(entry.fields) if not seen.tombstone else [],
                "api": entry.api,
            }
            for entry in referral.access_log.all()
        ],
    }
