"""No enumeration on the door: the same answer, in about the same time, whether or not the
reference or the phone exists; codes of one person never open another's session."""

import re
import statistics
import time

import pytest

from community import services
from community.models import PersonSession, StatusCheckChallenge
from tests.community.conftest import deliver_codes, sign_in, sms_lines
from tests.factories import ConsentRecordFactory, PersonFactory

pytestmark = pytest.mark.django_db

CASES = {
    "known pair": lambda referral: (referral.reference, "+254700111222"),
    "known reference, wrong phone": lambda referral: (referral.reference, "+254700999999"),
    "unknown reference, known phone": lambda referral: ("R-ZZZZZZZZ", "+254700111222"),
    "unknown both": lambda referral: ("R-YYYYYYYY", "+33 1 00 00 00 00"),
    "not even a reference": lambda referral: ("hello", "+1"),
}


def test_the_answer_is_byte_identical_for_known_and_unknown_pairs(client, settings, world):
    referral = world.send()
    answers = set()
    for case in CASES.values():
        reference, phone = case(referral)
        response = client.post("/check/", {"reference": reference, "phone": phone})
        answers.add((response.status_code, response["Location"], response.content))
        page = client.get("/check/code")
        body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page.content)
        answers.add((page.status_code, body))
    assert len(answers) == 2  # one redirect, one code page: the same for every case


def test_known_and_unknown_pairs_take_about_the_same_time(client, settings, world):
    settings.PERSON_DOOR_CODES_PER_REFERENCE = settings.PERSON_DOOR_CODES_PER_PHONE = 10_000
    settings.PERSON_DOOR_CODES_PER_ADDRESS = 10_000
    referral = world.send()
    timings = {name: [] for name in CASES}
    for _round in range(25):
        for name, case in CASES.items():
            reference, phone = case(referral)
            started = time.perf_counter()
            client.post("/check/", {"reference": reference, "phone": phone})
            timings[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    fastest, slowest = min(medians.values()), max(medians.values())
    assert slowest < fastest * 1.5, medians


def test_the_same_queries_run_whether_or_not_the_pair_exists(world, django_assert_num_queries):
    referral = world.send()
    counts = []
    for case in CASES.values():
        reference, phone = case(referral)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            services.status_code_request(
                reference=reference, phone=phone, client_address="203.0.113.9", language="en"
            )
        counts.append(len(captured))
    # a found person's phone needs their data key: at most that one query more
    assert max(counts) - min(counts) <= 1, counts


def test_a_code_for_one_person_never_opens_another_persons_session(client, settings, world):
    mine = world.send()
    other_person = PersonFactory(organisation=world.a, phone="+254700333444")
    other_consent = ConsentRecordFactory(
        person=other_person,
        obtained_by=world.a.caseworker,
        recipient_scope="named",
        recipients=[world.b.pk],
        purposes=["gbv_case_management"],
    )
    theirs = world.send(person=other_person, consent=other_consent)
    # they ask for their code; I ask for mine; I type theirs
    client.post("/check/", {"reference": theirs.reference, "phone": "+254700333444"})
    deliver_codes()
    their_code = re.search(r"\d{6}", sms_lines(settings)[-1]["text"]).group()
    client.post("/check/", {"reference": mine.reference, "phone": "+254700111222"})
    response = client.post("/check/code", {"code": their_code})
    assert response.status_code == 400
    assert not PersonSession.objects.exists()
    # and with my own code the session is mine, showing nothing of theirs
    deliver_codes()
    my_code = re.search(r"\d{6}", sms_lines(settings)[-1]["text"]).group()
    assert client.post("/check/code", {"code": my_code}).status_code == 303
    assert PersonSession.objects.get().person_id == world.person.pk
    body = client.get("/check/status").content.decode()
    assert mine.reference in body and theirs.reference not in body


def test_brute_force_of_a_code_is_stopped(client, settings, world):
    referral = world.send()
    client.post("/check/", {"reference": referral.reference, "phone": "+254700111222"})
    refused = 0
    for guess in range(settings.PERSON_DOOR_CODE_ATTEMPTS + 5):
        if client.post("/check/code", {"code": f"{guess:06d}"}).status_code == 400:
            refused += 1
    challenge = StatusCheckChallenge.objects.get()
    assert challenge.attempts == settings.PERSON_DOOR_CODE_ATTEMPTS + 5 and challenge.used_at is None
    assert not PersonSession.objects.exists()


def test_codes_are_stored_only_as_digests(world, settings):
    referral = world.send()
    services.status_code_request(
        reference=referral.reference, phone="+254700111222", client_address="198.51.100.1", language="en"
    )
    deliver_codes()
    code = re.search(r"\d{6}", sms_lines(settings)[-1]["text"]).group()
    challenge = StatusCheckChallenge.objects.get()
    assert code not in challenge.code_digest and len(challenge.code_digest) == 64
    from procrastinate.contrib.django.models import ProcrastinateJob

    assert all(code not in str(job.args) for job in ProcrastinateJob.objects.all())
    assert referral.reference not in challenge.reference_digest


def test_the_status_page_shows_no_partner_note_and_no_payload(client, settings, world):
    referral = world.send(reason_note="SENTINEL-NOTE-7781")
    sign_in(client, settings, referral)
    body = client.get("/check/status").content.decode()
    assert "SENTINEL-NOTE-7781" not in body
    assert "mornings" not in body and "neighbour" not in body
