"""The person's door: ask for a code, open a session with it, act for oneself; staff locks.

Defences (docs/person.md):

- No enumeration: asking for a code does the same work and answers the same whether or not the
  reference exists, the phone matches or the reference is locked — one lookup, one phone
  comparison (against a stand-in when there is nothing to compare), one challenge row, one job
  deferred; the job alone finds out whether there is someone to text.
- Codes are random, six digits, stored as a keyed digest, valid ``PERSON_DOOR_CODE_MINUTES``,
  ``PERSON_DOOR_CODE_ATTEMPTS`` tries each, compared in constant time.
- Rate limits counted in the database (every worker sees the same counts) on the challenge rows
  themselves: per reference, per phone number and per client address (``hub.auth.client_address``,
  the trusted-proxy rule of the login limits).
- A session belongs to one person; it lasts ``PERSON_DOOR_SESSION_MINUTES``, ends on sign-out and
  when staff lock its reference.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from common.errors import Conflict, NotFound, PermissionDenied, ServiceError, TooManyRequests
from community.models import DoorEvent, PersonSession, StatusCheckChallenge, StatusCheckLock
from consent import services as consent_services
from consent.models import ConsentRecord, DataSubjectRequest, Person
from notifications import sms
from notifications.jobs import django_jobs
from partners.models import Membership
from partners.selectors import membership_active
from referrals.models import Referral

SEND_CODE = "community.send_code"
CODE_DIGITS = 6
# what the reference and phone of a missing pair are compared with: the same work as a real one
_STAND_IN_PHONE = "+000000000000"
_REFERENCE = re.compile(r"^R-?[A-Z0-9]{8}$")


# Digests and sealing -------------------------------------------------------------------------


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"community:{purpose}:{settings.SECRET_KEY}".encode()).digest()


def digest(purpose: str, value: str) -> str:
    return hmac.new(_key(purpose), value.encode(), hashlib.sha256).hexdigest()


def normalise_reference(value: str) -> str:
    """``r-7k2m 9xqa``, ``R7K2M9XQA`` and ``R-7K2M9XQA`` are one reference."""
    text = re.sub(r"[\s\-]", "", (value or "").upper())
    if text.startswith("R"):
        text = text[1:]
    return f"R-{text}"


def normalise_phone(value: str) -> str:
    """Digits only, a leading 00 read as +: ``+254 700-111 222`` is ``254700111222``."""
    digits = re.sub(r"\D", "", value or "")
    return digits[2:] if digits.startswith("00") else digits


def _code_digest(challenge_id, code: str) -> str:
    return digest("code", f"{challenge_id}:{code}")


def _sealer() -> Fernet:
    # the code travels to the job sealed: the job table never holds it in clear
    return Fernet(base64.urlsafe_b64encode(_key("job")))


# Asking for a code ---------------------------------------------------------------------------


def _limits_reached(*, reference_digest: str, phone_digest: str, address_digest: str) -> bool:
    since = timezone.now() - timedelta(minutes=settings.PERSON_DOOR_LIMIT_WINDOW_MINUTES)
    counts = StatusCheckChallenge.objects.filter(created_at__gte=since).aggregate(
        reference=Count("id", filter=Q(reference_digest=reference_digest)),
        phone=Count("id", filter=Q(phone_digest=phone_digest)),
        address=Count("id", filter=Q(address_digest=address_digest)),
        failures=Sum("attempts", filter=Q(address_digest=address_digest, used_at__isnull=True), default=0),
    )
    return (
        counts["reference"] >= settings.PERSON_DOOR_CODES_PER_REFERENCE
        or counts["phone"] >= settings.PERSON_DOOR_CODES_PER_PHONE
        or counts["address"] >= settings.PERSON_DOOR_CODES_PER_ADDRESS
        or counts["failures"] >= settings.PERSON_DOOR_FAILURES_PER_ADDRESS
    )


def _limited() -> TooManyRequests:
    seconds = settings.PERSON_DOOR_LIMIT_WINDOW_MINUTES * 60
    return TooManyRequests(
        "Too many requests for a code; try again later.",
        code="status_check_limited",
        extra={"retry_after": seconds},
    )


def _match(reference: str, phone: str):
    """(referral, person) when the pair is on file and not locked, else (None, None) — with one
    query and one phone comparison either way."""
    row = (
        Referral.objects.filter(reference=reference)
        .annotate(
            locked=Q(pk__in=StatusCheckLock.objects.filter(unlocked_at__isnull=True).values("referral_id"))
        )
        .values("id", "person_id", "locked")
        .first()
    )
    # a person is looked up either way (a random id finds nobody): the same queries for both
    person_id = row["person_id"] if row is not None else uuid.uuid4()
    person = Person.objects.filter(pk=person_id, erased_at__isnull=True).first()
    on_file = normalise_phone(person.phone or "") if person is not None else ""
    same = hmac.compare_digest(
        digest("phone-check", on_file or _STAND_IN_PHONE), digest("phone-check", normalise_phone(phone))
    )
    if row is None or person is None or row["locked"] or not on_file or not same:
        return None, None
    return row["id"], person


@transaction.atomic
def status_code_request(
    *, reference: str, phone: str, client_address: str, language: str
) -> StatusCheckChallenge:
    """A code for the person holding ``reference`` at ``phone``, by SMS, if they exist. The answer
    is the same challenge either way; only the job finds out whether to text someone."""
    reference = normalise_reference(reference)
    reference_digest = digest("reference", reference)
    phone_digest = digest("phone", normalise_phone(phone))
    address_digest = digest("address", client_address or "")
    if _limits_reached(
        reference_digest=reference_digest, phone_digest=phone_digest, address_digest=address_digest
    ):
        raise _limited()
    referral_id, person = _match(reference, phone) if _REFERENCE.match(reference) else _match("", phone)
    now = timezone.now()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    challenge = StatusCheckChallenge(
        reference_digest=reference_digest,
        phone_digest=phone_digest,
        address_digest=address_digest,
        person=person,
        referral_id=referral_id,
        language=_sms_language(person, language),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.PERSON_DOOR_CODE_MINUTES),
    )
    challenge.code_digest = _code_digest(challenge.id, code)
    challenge.save()
    if person is not None:
        _event(DoorEvent.Kind.CODE_SENT, person=person, referral_id=referral_id)
    # deferred in both cases: the worker, not this request, tells them apart
    django_jobs().configure_task(SEND_CODE).defer(
        challenge_id=str(challenge.id), sealed_code=_sealer().encrypt(code.encode()).decode()
    )
    return challenge


def _sms_language(person, fallback: str) -> str:
    supported = {code for code, _name in settings.LANGUAGES}
    preferred = ((person.preferred_language if person else "") or "").split("-")[0].lower()
    if preferred in supported:
        return preferred
    return fallback if fallback in supported else settings.LANGUAGE_CODE


def code_message(code: str, language: str) -> str:
    """The SMS: the code and nothing else — no name, no service, no organisation."""
    with translation.override(language):
        return _("Your code: %(code)s") % {"code": code}


def status_code_deliver(*, challenge_id: str, sealed_code: str) -> bool:
    """The job: text the code to the person's phone on file, when the challenge found a person and
    is still usable. Returns whether an SMS left."""
    challenge = StatusCheckChallenge.objects.select_related("person").filter(pk=challenge_id).first()
    if challenge is None or challenge.person is None or challenge.used_at is not None:
        return False
    if challenge.expires_at <= timezone.now() or not settings.SMS_BACKEND:
        return False
    try:
        code = _sealer().decrypt(sealed_code.encode()).decode()
    except InvalidToken:
        return False
    sms.gateway().send(challenge.person.phone, code_message(code, challenge.language), key=str(challenge.pk))
    return True


# Opening a session ---------------------------------------------------------------------------


def _code_refused() -> ServiceError:
    return ServiceError(
        "The code is wrong or no longer valid; check the SMS or ask for a new code.",
        code="status_code_invalid",
        field="code",
    )


def status_code_verify(*, challenge_id, code: str) -> PersonSession:
    """The session that a right code opens. A wrong code counts against the challenge (committed
    even though the answer is an error); after the last attempt, or past the expiry, or once used,
    no code opens it. Every refusal is the same error."""
    code = re.sub(r"\s", "", code or "")
    with transaction.atomic():
        challenge = StatusCheckChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if challenge is None:
            hmac.compare_digest(_code_digest(uuid.uuid4(), code), _code_digest(uuid.uuid4(), ""))
            raise _code_refused()
        usable = (
            challenge.used_at is None
            and challenge.expires_at > timezone.now()
            and challenge.attempts < settings.PERSON_DOOR_CODE_ATTEMPTS
        )
        right = hmac.compare_digest(challenge.code_digest, _code_digest(challenge.pk, code))
        challenge.attempts += 1
        if not (usable and right and challenge.person_id is not None and not _locked(challenge.referral_id)):
            challenge.save(update_fields=["attempts"])
            if challenge.person_id is not None:
                _event(
                    DoorEvent.Kind.CODE_REFUSED, person=challenge.person, referral_id=challenge.referral_id
                )
            refused = True
        else:
            refused = False
            now = timezone.now()
            challenge.used_at = now
            challenge.save(update_fields=["attempts", "used_at"])
            session = PersonSession.objects.create(
                person_id=challenge.person_id,
                referral_id=challenge.referral_id,
                challenge=challenge,
                created_at=now,
                expires_at=now + timedelta(minutes=settings.PERSON_DOOR_SESSION_MINUTES),
            )
            _event(DoorEvent.Kind.SIGNED_IN, person=challenge.person, referral_id=challenge.referral_id)
    if refused:  # after the commit: the attempt stays counted
        raise _code_refused()
    return session


def _locked(referral_id) -> bool:
    return StatusCheckLock.objects.filter(referral_id=referral_id, unlocked_at__isnull=True).exists()


def person_session_end(*, session: PersonSession) -> None:
    PersonSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=timezone.now())
    _event(DoorEvent.Kind.SIGNED_OUT, person=session.person, referral_id=session.referral_id)


# Acting for oneself --------------------------------------------------------------------------


def _event(kind, *, person=None, referral_id=None, user=None, subject_id=None) -> DoorEvent:
    return DoorEvent.objects.create(
        kind=kind,
        actor_kind=DoorEvent.ActorKind.STAFF if user is not None else DoorEvent.ActorKind.PERSON,
        person=person,
        referral_id=referral_id,
        user=user,
        subject_id=subject_id,
    )


def person_access_record(*, session: PersonSession, kind: str, subject_id=None) -> None:
    """Log a read of the person's own data, as theirs (status page, receipt)."""
    _event(kind, person=session.person, referral_id=session.referral_id, subject_id=subject_id)


@transaction.atomic
def person_consent_withdraw(*, session: PersonSession, consent_id, reason: str = "") -> ConsentRecord:
    """The person withdraws one of their consents: the whole cascade, with the person as author."""
    record = ConsentRecord.objects.filter(pk=consent_id, person_id=session.person_id).first()
    if record is None:
        raise NotFound("Not found.")
    record = consent_services.consent_withdraw_by_person(person=session.person, record=record, reason=reason)
    _event(
        DoorEvent.Kind.CONSENT_WITHDRAWN,
        person=session.person,
        referral_id=session.referral_id,
        subject_id=record.pk,
    )
    return record


@transaction.atomic
def person_request_make(*, session: PersonSession, kind: str, details: str = "") -> DataSubjectRequest:
    """The person asks for a copy of their data, a correction or erasure: a request of the
    organisation holding them, with its due date."""
    request = consent_services.data_subject_request_create_by_person(
        person=session.person, kind=kind, details=details
    )
    _event(
        DoorEvent.Kind.REQUEST_MADE,
        person=session.person,
        referral_id=session.referral_id,
        subject_id=request.pk,
    )
    return request


# Staff: locking a reference ------------------------------------------------------------------


def _staff_of_holder(actor, referral: Referral) -> Membership:
    """A focal point or caseworker of the organisation holding the referral's person; anyone else
    gets "not found" (the referral is not theirs to see), a viewer a refusal."""
    membership = membership_active(user=actor)
    if (
        membership is None
        or not actor.is_active
        or membership.organisation_id != referral.person.organisation_id
    ):
        raise NotFound("Not found.")
    if membership.role not in (Membership.Role.FOCAL_POINT, Membership.Role.CASEWORKER):
        raise PermissionDenied("Viewers may not lock or unlock status checks.", code="write_role_required")
    return membership


def referral_for_lock(*, actor, referral_id) -> Referral:
    """The referral ``actor`` may lock, by id; "not found" for another organisation's or a bad id."""
    try:
        referral_id = uuid.UUID(str(referral_id))
    except ValueError as exc:
        raise NotFound("Not found.") from exc
    referral = (
        Referral.objects.select_related("person")
        .only("id", "reference", "person__id", "person__organisation_id")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise NotFound("Not found.")
    _staff_of_holder(actor, referral)
    return referral


def status_check_lock_get(*, referral: Referral) -> StatusCheckLock | None:
    return StatusCheckLock.objects.filter(referral=referral, unlocked_at__isnull=True).first()


@transaction.atomic
def status_check_lock(*, actor, referral: Referral) -> StatusCheckLock:
    """Stop status checks with this reference (a lost phone): no code is sent for it, and the
    sessions opened with it end now."""
    membership = _staff_of_holder(actor, referral)
    try:
        with transaction.atomic():
            lock = StatusCheckLock.objects.create(
                referral=referral, organisation_id=membership.organisation_id, locked_by=actor
            )
    except IntegrityError as exc:
        raise Conflict(
            "Status checks with this reference are already locked.", code="status_check_already_locked"
        ) from exc
    PersonSession.objects.filter(referral=referral, ended_at__isnull=True).update(ended_at=timezone.now())
    _event(DoorEvent.Kind.LOCKED, referral_id=referral.pk, person=referral.person, user=actor)
    return lock


@transaction.atomic
def status_check_unlock(*, actor, referral: Referral) -> StatusCheckLock:
    _staff_of_holder(actor, referral)
    lock = (
        StatusCheckLock.objects.select_for_update()
        .filter(referral=referral, unlocked_at__isnull=True)
        .first()
    )
    if lock is None:
        raise Conflict("Status checks with this reference are not locked.", code="status_check_not_locked")
    lock.unlocked_at = timezone.now()
    lock.unlocked_by = actor
    lock.save(update_fields=["unlocked_at", "unlocked_by"])
    _event(DoorEvent.Kind.UNLOCKED, referral_id=referral.pk, person=referral.person, user=actor)
    return lock
