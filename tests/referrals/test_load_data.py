"""The load-data generator writes exactly what the services write.

Each case plans one referral (who sends it where, then what happens to it), writes it with the
generator's row writer, then sends an equivalent referral through ``referral_send`` and moves it
with ``referral_transition`` / ``referral_assign`` / ``referrals_escalate_overdue``. The two are
compared column by column — the referral row, its events, its group and user grants, its history
rows, its notifications and its decrypted payload — leaving out only what is random or a clock
reading (ids, references, idempotency keys, times). Then every kind of caller sees the two the same
way through ``referral_list`` and ``facts_for``.
"""

import random
import uuid
from dataclasses import asdict
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from consent import crypto, keys
from consent.models import ConsentRecord, Person
from consent.services import consent_create, person_create
from partners.models import Organisation
from referrals import load_data, services
from referrals.load_data import ReferralPlan, Step
from referrals.models import (
    AccessLog,
    Notification,
    Referral,
    ReferralEvent,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from referrals.selectors import facts_for, referral_list
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

# random, or read from the clock: the rest of every row must be equal
UNEQUAL = {
    "id",
    "reference",
    "idempotency_key",
    "created_at",
    "updated_at",
    "due_by",
    "escalated_at",
    "outcome_due_by",
}
HISTORY_UNEQUAL = UNEQUAL | {"history_id", "history_date"}
PERSON_FIELDS = {
    "registration_number": "G-0000001",
    "given_name": "Amal",
    "family_name": "Hassan",
    "phone": "+254700111222",
    "best_time_to_call": "mornings",
    "preferred_language": "so",
    "preferred_channel": "phone",
    "sex": "female",
    "location_detail": "Block 4, shelter 12",
    "specific_needs": ["woman_at_risk"],
    "protection_concerns": "threatened by a neighbour",
    "narrative": "long narrative held by the sender",
    "household_size": 4,
}
CATEGORIES = ["given_name", "phone", "best_time_to_call", "narrative", "protection_concerns"]


# who acts, by role in the world below
ACTORS = {
    "receiving focal point": lambda world: world.receiving.focal_point,
    "receiving caseworker": lambda world: world.receiving.caseworkers[0],
    "second receiving caseworker": lambda world: world.receiving.caseworkers[1],
    "sender": lambda world: world.sending.caseworkers[0],
    "sending focal point": lambda world: world.sending.focal_point,
    "PSEA focal point": lambda world: world.psea.focal_point,
}
ACCEPT = ("accept", "receiving caseworker")
# each case: what referral_send is asked, then (action, actor, arguments) in order
CASES = {
    "sent": {"steps": []},
    "sent_with_a_shared_note": {
        "steps": [],
        "reason_note": "  Asks for a woman caseworker. ",
        "optional_fields": ("narrative", "best_time_to_call"),
        "from_service": "the sender's first service",
        "urgency": "urgent",
        "source": "external",
    },
    "note_not_shared": {
        "steps": [],
        "reason_note": "Kept on our side.",
        "optional_fields": ("best_time_to_call",),
    },
    "acknowledged": {"steps": [("acknowledge", "second receiving caseworker")]},
    "declined_for_another_reason": {
        "steps": [
            ("acknowledge", "receiving caseworker"),
            ("decline", "second receiving caseworker", {"reason_code": "other", "note": "Outside our area."}),
        ]
    },
    "accepted_and_assigned": {
        "steps": [ACCEPT, ("assign", "receiving focal point", {"caseworker": "second receiving caseworker"})]
    },
    "completed": {
        "steps": [
            ACCEPT,
            ("complete", "receiving caseworker", {"outcome": "service_provided", "note": "Seen."}),
        ]
    },
    "closed": {
        "steps": [
            ACCEPT,
            ("assign", "receiving focal point", {"caseworker": "receiving caseworker"}),
            ("complete", "receiving caseworker", {"outcome": "person_unreachable"}),
            ("close", "sender"),
        ]
    },
    "withdrawn": {
        "steps": [
            ("acknowledge", "receiving caseworker"),
            ("withdraw", "sending focal point", {"reason_code": "person_request"}),
        ]
    },
    "restricted_then_withdrawn": {
        "steps": [
            ACCEPT,
            ("assign", "receiving focal point", {"caseworker": "receiving caseworker", "restrict": True}),
            ("withdraw", "sender", {"reason_code": "other", "note": "Moved away."}),
        ]
    },
    "restricted_then_reassigned_and_completed": {
        "steps": [
            ACCEPT,
            (
                "assign",
                "receiving focal point",
                {"caseworker": "second receiving caseworker", "restrict": True},
            ),
            ("assign", "receiving focal point", {"caseworker": "receiving caseworker"}),
            ("complete", "receiving caseworker", {"outcome": "partially_provided"}),
        ]
    },
    "psea_report_accepted": {"psea": True, "steps": [("accept", "PSEA focal point")]},
    "psea_report_withdrawn": {
        "psea": True,
        "steps": [("withdraw", "sender", {"reason_code": "sent_in_error"})],
    },
    # emergency: due a day after sending, so thirty hours ago is overdue
    "escalated": {"steps": [("escalate", None)], "urgency": "emergency", "created_hours_ago": 30},
    "escalated_then_declined": {
        "steps": [("escalate", None), ("decline", "receiving caseworker", {"reason_code": "no_capacity"})],
        "urgency": "emergency",
        "created_hours_ago": 30,
    },
    # level 2: the sending focal point and the operation's coordinator (the outside organisation's
    # focal point, as the generator names one)
    "escalated_to_level_2": {
        "steps": [("escalate", None), ("escalate", None)],
        "urgency": "emergency",
        "created_hours_ago": 30,
    },
    # GBV case management sets an outcome due date (30 days): accepted, then no outcome
    "accepted_then_outcome_overdue_to_level_2": {
        "steps": [("escalate", None), ACCEPT, ("escalate", None), ("escalate", None)],
        "urgency": "emergency",
        "created_hours_ago": 30,
    },
}


class World:
    """A generated directory: 0 receives (GBV case management), 1 has a PSEA focal point,
    2 sends, 3 is not a party. The person is 2's, with a consent naming 0 and 1."""

    def __init__(self):
        self.now = timezone.now()
        self.directory = load_data.build_directory(
            organisations=4, big_share=0.3, rng=random.Random(7), run=load_data.next_run(), now=self.now
        )
        self.receiving, self.psea, self.sending, self.outside = self.directory.staff
        self.gbv = next(s for s in self.receiving.services if s.category.code == "gbv_case_management")
        self.writer = load_data.RowWriter(self.directory)
        officer = self.sending.caseworkers[0]
        fields = {**PERSON_FIELDS, "location": self.directory.locations[0]}
        fields["date_of_birth"] = self.now.date() - timedelta(days=30 * 365)
        person = load_data.person_from_fields(
            fields,
            id=uuid.uuid4(),
            organisation=self.sending.organisation,
            registered_by=officer,
            created_at=self.now - timedelta(days=3),
        )
        consent = load_data.consent_from_fields(
            self.consent_data(person.created_at + timedelta(minutes=3)),
            id=uuid.uuid4(),
            person=person,
            obtained_by=officer,
        )
        self.writer.add_person(person)
        self.writer.add_consent(consent)
        self.writer.flush()
        self.person = Person.objects.get(pk=person.pk)
        self.consent = ConsentRecord.objects.get(pk=consent.pk)

    def consent_data(self, obtained_at) -> dict:
        return {
            "obtained_at": obtained_at,
            "collection_method": "oral",
            "language": "so",
            "interpreter_used": True,
            "purposes": ["gbv_case_management", "psea"],
            "recipient_scope": "named",
            "recipients": [self.receiving.organisation.id, self.psea.organisation.id],
            "data_categories": CATEGORIES,
            "expires_on": self.now.date() + timedelta(days=365),
        }

    def plan(self, case: str) -> ReferralPlan:
        fields = dict(CASES[case])
        steps = fields.pop("steps")
        psea = fields.pop("psea", False)
        created = self.now - timedelta(hours=fields.pop("created_hours_ago", 2))
        if fields.get("from_service"):
            fields["from_service"] = self.sending.services[0]
        plan = ReferralPlan(
            person=self.person,
            consent=self.consent,
            from_user=ACTORS["sender"](self),
            organisation=self.sending.organisation,
            to_service=self.psea.psea_service if psea else self.gbv,
            created_at=created,
            idempotency_key="generated",
            **fields,
        )
        for n, (action, actor, *arguments) in enumerate(steps):
            arguments = dict(arguments[0]) if arguments else {}
            if "caseworker" in arguments:
                arguments["caseworker"] = ACTORS[arguments["caseworker"]](self)
            plan.steps.append(
                Step(
                    action,
                    at=created + timedelta(minutes=10 * (n + 1)),
                    actor=ACTORS[actor](self) if actor else None,
                    **arguments,
                )
            )
        return plan


@pytest.fixture
def world():
    return World()


def generated(world: World, plan: ReferralPlan) -> Referral:
    world.writer.add_referral(plan)
    world.writer.flush()
    return Referral.objects.get(pk=plan.id)


def through_the_services(world: World, plan: ReferralPlan) -> Referral:
    referral = services.referral_send(
        actor=plan.from_user,
        person=world.person,
        consent=world.consent,
        to_service=plan.to_service,
        from_service=plan.from_service,
        urgency=plan.urgency,
        source=plan.source,
        reason_note=plan.reason_note,
        optional_fields=plan.optional_fields,
        idempotency_key="through-the-services",
    )
    for step in plan.steps:
        referral = Referral.objects.get(pk=referral.pk)
        if step.action == "assign":
            services.referral_assign(
                actor=step.actor, referral=referral, caseworker=step.caseworker, restrict=step.restrict
            )
        elif step.action == "escalate":
            # the clock as it was: move the referral's deadlines back until the next level is due
            # now, so its events keep the order they happened in
            back = services.escalation_due_at(referral) - timezone.now() + timedelta(minutes=1)
            deadlines = {"due_by": referral.due_by - back, "created_at": referral.created_at - back}
            if referral.outcome_due_by:
                deadlines["outcome_due_by"] = referral.outcome_due_by - back
            if referral.escalated_at:
                deadlines["escalated_at"] = referral.escalated_at - back
            Referral.objects.filter(pk=referral.pk).update(**deadlines)
            services.referrals_escalate_overdue(now=timezone.now())
        else:
            services.referral_transition(
                actor=step.actor,
                referral=referral,
                action=step.action,
                reason_code=step.reason_code,
                note=step.note,
                outcome=step.outcome,
            )
    return Referral.objects.get(pk=referral.pk)


def _without(row: dict, names) -> dict:
    return {key: value for key, value in row.items() if key not in names}


def referral_row(referral: Referral) -> dict:
    return _without(Referral.objects.filter(pk=referral.pk).values().get(), UNEQUAL)


def event_rows(referral: Referral) -> list[dict]:
    events = ReferralEvent.objects.filter(referral=referral).order_by("at", "id").values()
    return [_without(event, {"id", "referral_id", "at"}) for event in events]


def grants(referral: Referral) -> tuple[set, set]:
    groups = ReferralGroupObjectPermission.objects.filter(content_object=referral)
    users = ReferralUserObjectPermission.objects.filter(content_object=referral)
    return (
        set(groups.values_list("group_id", "permission__codename")),
        set(users.values_list("user_id", "permission__codename")),
    )


def history_rows(referral: Referral) -> list[dict]:
    rows = Referral.history.filter(id=referral.pk).order_by("history_id").values()
    return [_without(row, HISTORY_UNEQUAL) | {"escalated": row["escalated_at"] is not None} for row in rows]


def notifications(referral: Referral) -> list[tuple]:
    rows = Notification.objects.filter(referral=referral)
    assert all(row.reference == referral.reference for row in rows)
    assert all(row.link == f"/api/v1/referrals/{referral.pk}" for row in rows)
    return sorted(
        (row.recipient_id, row.organisation_id, row.kind, row.reason_code, row.urgent, row.sent_at)
        for row in rows
    )


def stored_ciphertext(referral: Referral) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload, reason_note, outcome_note FROM referrals_referral WHERE id = %s", [referral.pk]
        )
        return dict(zip(("payload", "reason_note", "outcome_note"), cursor.fetchone(), strict=True))


def callers(world: World) -> dict:
    r, s = world.receiving, world.sending
    return {
        "receiving focal point": r.focal_point,
        "receiving caseworker": r.caseworkers[0],
        "receiving caseworker left out of a restriction": r.caseworkers[1],
        "receiving viewer": r.viewer,
        "sender": s.caseworkers[0],
        "sending colleague": s.caseworkers[1],
        "sending focal point": s.focal_point,
        "PSEA focal point": world.psea.focal_point,
        "PSEA organisation's caseworker": world.psea.caseworkers[0],
        "outsider": world.outside.caseworkers[0],
    }


@pytest.mark.parametrize("case", CASES)
def test_a_generated_referral_has_the_rows_the_services_write(world, case):
    plan = world.plan(case)
    # the services first: the escalation job they run would climb a generated referral already there
    theirs = through_the_services(world, plan)
    ours = generated(world, plan)

    assert referral_row(ours) == referral_row(theirs)
    assert ours.payload == theirs.payload and ours.payload  # decrypted
    ours_stored, theirs_stored = stored_ciphertext(ours), stored_ciphertext(theirs)
    for column in ("payload", "reason_note", "outcome_note"):
        if theirs_stored[column]:
            # sealed with the person's data key, as a save seals it
            assert ours_stored[column].startswith(crypto.DATA_TOKEN_PREFIX)
            assert keys.unseal(ours_stored[column]) == keys.unseal(theirs_stored[column])
        else:
            assert ours_stored[column] == theirs_stored[column]  # NULL or "" alike
    assert abs((ours.due_by - ours.created_at) - (theirs.due_by - theirs.created_at)) < timedelta(seconds=5)
    assert (ours.escalated_at is None) == (theirs.escalated_at is None)
    assert (ours.outcome_due_by is None) == (theirs.outcome_due_by is None)
    assert event_rows(ours) == event_rows(theirs)
    assert grants(ours) == grants(theirs)
    assert history_rows(ours) == history_rows(theirs)
    assert notifications(ours) == notifications(theirs)
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(
    "case", ["sent", "withdrawn", "restricted_then_withdrawn", "psea_report_accepted", "closed"]
)
def test_every_caller_sees_a_generated_referral_as_a_service_made_one(world, case):
    plan = world.plan(case)
    ours, theirs = generated(world, plan), through_the_services(world, plan)
    seen_by_someone = set()
    for label, user in callers(world).items():
        user = type(user).objects.get(pk=user.pk)  # as the next request sees them
        rows = {row.pk: row for row in referral_list(user=user).filter(pk__in=[ours.pk, theirs.pk])}
        assert (ours.pk in rows) == (theirs.pk in rows), label
        if ours.pk in rows:
            seen_by_someone.add(label)
            assert asdict(facts_for(user=user, referral=rows[ours.pk])) == asdict(
                facts_for(user=user, referral=rows[theirs.pk])
            ), label
    assert "outsider" not in seen_by_someone
    assert "sender" in seen_by_someone


def test_a_generated_person_and_consent_are_what_person_create_and_consent_create_write(world):
    officer = world.sending.caseworkers[0]
    fields = {**PERSON_FIELDS, "registration_number": "G-0000002", "location": world.directory.locations[0]}
    fields["date_of_birth"] = world.now.date() - timedelta(days=30 * 365)
    theirs = person_create(actor=officer, **fields)
    ours = load_data.person_from_fields(
        {**fields, "registration_number": " G-0000003 "},  # one number, one person
        id=uuid.uuid4(),
        organisation=world.sending.organisation,
        registered_by=officer,
        created_at=timezone.now(),
    )
    world.writer.add_person(ours)
    data = world.consent_data(timezone.now())
    their_consent = consent_create(actor=officer, person=theirs, **data)
    our_consent = load_data.consent_from_fields(data, id=uuid.uuid4(), person=ours, obtained_by=officer)
    world.writer.add_consent(our_consent)
    world.writer.flush()

    ours = Person.objects.get(pk=ours.pk)
    assert ours.registration_number == "G-0000003"
    assert ours.registration_number_hash == crypto.registration_number_hash("G-0000003")
    person_unequal = {"id", "created_at", "updated_at", "registration_number", "registration_number_hash"}
    assert _without(Person.objects.filter(pk=ours.pk).values().get(), person_unequal) == _without(
        Person.objects.filter(pk=theirs.pk).values().get(), person_unequal
    )
    history_unequal = person_unequal | {"history_id", "history_date"}
    assert [_without(row, history_unequal) for row in Person.history.filter(id=ours.pk).values()] == [
        _without(row, history_unequal) for row in Person.history.filter(id=theirs.pk).values()
    ]
    consent_unequal = {"id", "person_id", "recorded_at"}
    assert _without(
        ConsentRecord.objects.filter(pk=our_consent.pk).values().get(), consent_unequal
    ) == _without(ConsentRecord.objects.filter(pk=their_consent.pk).values().get(), consent_unequal)
    history_unequal = consent_unequal | {"history_id", "history_date"}
    assert [
        _without(r, history_unequal) for r in ConsentRecord.history.filter(id=our_consent.pk).values()
    ] == [_without(r, history_unequal) for r in ConsentRecord.history.filter(id=their_consent.pk).values()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT given_name, phone FROM consent_person WHERE id = %s", [ours.pk])
        assert all(value.startswith(crypto.DATA_TOKEN_PREFIX) for value in cursor.fetchone())


def test_a_generated_operation_holds_together():
    summary = load_data.generate(organisations=6, referrals=400, seed=3, chunk=150)
    referrals = Referral.objects.filter(from_organisation__operation__name=summary.operation)
    assert summary.referrals == referrals.count() == 400
    assert summary.persons == Person.objects.filter(organisation__operation__name=summary.operation).count()
    for referral in referrals.select_related("consent", "to_service__category"):
        # each referral rests on a consent of its person that covered the recipient and the fields
        assert referral.consent.person_id == referral.person_id
        assert referral.consent.is_valid_for(
            referral.to_service.category,
            referral.to_organisation_id,
            referral.shared_fields,
            on=timezone.localdate(referral.created_at),
        )
        assert referral.payload == {name: referral.payload[name] for name in referral.shared_fields}
    ids = set(referrals.values_list("pk", flat=True))
    assert set(Referral.history.filter(history_type="+").values_list("id", flat=True)) == ids
    assert set(ReferralEvent.objects.filter(kind="sent").values_list("referral_id", flat=True)) == ids
    assert len(set(referrals.values_list("status", flat=True))) >= 5
    big = Organisation.objects.get(acronym=f"G{summary.run}-0000")
    assert referrals.filter(to_organisation=big).count() == round(summary.big_share * 400)
    assert abs(summary.big_share - load_data.DEFAULT_BIG_SHARE) < 0.08
    focal_point = big.memberships.get(role="focal_point").user
    # the focal point holds every referral its organisation received, confined ones included
    assert (
        referral_list(user=focal_point, direction="received").count()
        == referrals.filter(to_organisation=big).count()
    )
    assert not AccessLog.objects.exists()


def test_the_command_refuses_a_database_holding_data_it_did_not_write():
    OrganisationFactory(acronym="REAL")
    with pytest.raises(CommandError, match=r"Refusing to write into database .* 1 organisations"):
        call_command("generate_load_data", "--referrals", "10", "--no-progress", stdout=StringIO())
    assert not Referral.objects.exists()


def test_the_command_writes_with_force_and_says_where():
    OrganisationFactory(acronym="REAL")
    out = StringIO()
    call_command(
        "generate_load_data",
        "--organisations",
        "4",
        "--referrals",
        "30",
        "--force",
        "--no-progress",
        stdout=out,
    )
    assert Referral.objects.count() == 30
    assert f"written to database '{connection.settings_dict['NAME']}'" in out.getvalue()
