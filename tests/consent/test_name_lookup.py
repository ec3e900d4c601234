"""Finding a person by name through keyed hashes of the words of their names: no name is opened
to search, another organisation's person is never found, erasure leaves nothing to find."""

from django.core.management import call_command

from consent import crypto, services
from consent.models import Person
from consent.selectors import person_find_by_name


def test_a_person_is_found_by_whole_words_of_their_names_in_any_order(org_a, adult_a):
    for typed in ("Amani", "wekesa", "WEKESA amani", "  Amani   Wekesa "):
        assert list(person_find_by_name(user=org_a.caseworker, name=typed)) == [adult_a], typed
    for typed in ("Aman", "Amani Okello", "", "  -  "):
        assert list(person_find_by_name(user=org_a.caseworker, name=typed)) == [], typed


def test_case_accents_arabic_vowels_and_punctuation_do_not_matter(org_a):
    person = services.person_create(
        actor=org_a.caseworker, given_name="José-María", family_name="عَلِيّ", age_band="18_59"
    )
    for typed in ("jose maria", "MARIA", "علي", "عليّ"):
        assert list(person_find_by_name(user=org_a.caseworker, name=typed)) == [person], typed


def test_another_organisations_person_is_never_found_by_name(org_b, adult_a):
    assert list(person_find_by_name(user=org_b.caseworker, name="Amani")) == []


def test_the_search_asks_the_hashes_and_opens_no_name(org_a, adult_a):
    rows = person_find_by_name(user=org_a.caseworker, name="Amani")
    sql = str(rows.query)
    assert "name_hashes" in sql and "@>" in sql and "Amani" not in sql
    found = list(rows)
    # nothing has been opened yet: the names are still sealed on the row read
    assert type(found[0].__dict__["given_name"]).__name__ == "Sealed"


def test_the_hashes_are_keyed_and_never_those_of_a_registration_number(settings, adult_a):
    stored = Person.objects.get(pk=adult_a.pk).name_hashes
    assert stored == crypto.name_word_hashes("Amani", "Wekesa") and len(stored) == 2
    assert crypto.registration_number_hash("AMANI") not in stored
    settings.FIELD_HMAC_KEY = "another key"
    assert crypto.name_word_hashes("Amani") != stored[:1]


def test_an_update_of_the_names_moves_the_lookup(org_a, adult_a):
    services.person_update(actor=org_a.caseworker, person=adult_a, family_name="Otieno")
    assert list(person_find_by_name(user=org_a.caseworker, name="Otieno")) == [adult_a]
    assert list(person_find_by_name(user=org_a.caseworker, name="Wekesa")) == []


def test_erasure_clears_the_name_lookup_history_included(org_a, adult_a):
    services.person_erase(actor=org_a.focal_point, person=adult_a)
    assert list(person_find_by_name(user=org_a.caseworker, name="Amani")) == []
    assert Person.objects.get(pk=adult_a.pk).name_hashes is None
    assert not Person.history.filter(id=adult_a.pk, name_hashes__isnull=False).exists()


def test_rotation_recomputes_the_name_hashes_for_a_new_hmac_key(settings, org_a, adult_a):
    settings.FIELD_HMAC_KEY = "a new lookup key"
    assert list(person_find_by_name(user=org_a.caseworker, name="Amani")) == []
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(person_find_by_name(user=org_a.caseworker, name="Amani")) == [adult_a]
