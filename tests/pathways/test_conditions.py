"""The eligibility rule language: syntax, contradictions and matching (no database)."""

import pytest

from pathways.conditions import (
    ConditionError,
    condition_matches,
    condition_problems,
    describe,
    never_matches,
    validate_condition,
    validate_profile,
)


def codes(condition) -> list[str]:
    return [problem.code for problem in condition_problems(condition)]


def test_empty_condition_admits_anyone_even_an_empty_profile():
    assert condition_matches({}, {})
    assert condition_matches(None, {"age": 3})
    assert validate_condition(None) == {}


def test_unknown_key_is_rejected_and_named():
    with pytest.raises(ConditionError) as caught:
        validate_condition({"age": {"min": 3}, "nationality": {"in": ["X"]}, "colour": 1})
    assert caught.value.code == "unknown_condition_key"
    assert "colour, nationality" in str(caught.value)


def test_unknown_operator_is_rejected_and_named():
    with pytest.raises(ConditionError) as caught:
        validate_condition({"age": {"gte": 18}})
    assert caught.value.code == "unknown_condition_operator"
    assert "gte" in str(caught.value)
    assert "min, max" in str(caught.value)


def test_unknown_key_deep_inside_combinators_is_found_with_its_path():
    problems = condition_problems({"all": [{"sex": {"in": ["female"]}}, {"any": [{"eval": "1"}]}]})
    assert [(p.path, p.code) for p in problems] == [("all[1].any[0]", "unknown_condition_key")]


@pytest.mark.parametrize(
    "condition",
    [
        {"age": {"min": -1}},
        {"age": {"max": 131}},
        {"age": {"min": "12"}},
        {"age": {"min": True}},
        {"sex": {"in": ["woman"]}},
        {"sex": {"in": "female"}},
        {"urgency": {"in": ["asap"]}},
        {"is_minor": {"equals": "yes"}},
        {"specific_needs": {"any_of": [""]}},
        {"specific_needs": {"any_of": [3]}},
        {"all": []},
        {"any": {"age": {"min": 1}}},
        {"age": {}},
        [],
        "age > 18",
    ],
)
def test_malformed_values_are_rejected(condition):
    assert codes(condition), condition


def test_every_problem_is_reported_together():
    assert codes({"bogus": 1, "age": {"min": 200, "over": 1}, "sex": {"in": ["x"]}}) == [
        "unknown_condition_key",
        "unknown_condition_operator",
        "invalid_condition_value",
        "invalid_condition_value",
    ]


def test_nesting_and_size_are_bounded():
    deep: dict = {"age": {"min": 1}}
    for _ in range(10):
        deep = {"all": [deep]}
    assert "condition_too_deep" in codes(deep)
    wide = {"any": [{"any": [{"age": {"min": n}} for n in range(40)]} for _ in range(3)]}
    assert "condition_too_large" in codes(wide)


@pytest.mark.parametrize(("age", "eligible"), [(11, False), (12, True), (15, True), (17, True), (18, False)])
def test_age_bounds_are_inclusive(age, eligible):
    assert condition_matches({"age": {"min": 12, "max": 17}}, {"age": age}) is eligible


@pytest.mark.parametrize(
    "condition",
    [
        {"age": {"max": 17}},
        {"sex": {"in": ["female"]}},
        {"urgency": {"in": ["normal", "urgent", "emergency"]}},
        {"specific_needs": {"any_of": ["disability"]}},
        {"is_minor": {"equals": False}},
    ],
)
def test_a_missing_profile_field_is_not_eligible(condition):
    assert not condition_matches(condition, {})
    assert not condition_matches(condition, {"age": None, "sex": None})


def test_specific_needs_match_on_any_shared_need():
    condition = {"specific_needs": {"any_of": ["disability", "unaccompanied_child"]}}
    assert condition_matches(condition, {"specific_needs": ["older_person", "disability"]})
    assert not condition_matches(condition, {"specific_needs": ["older_person"]})
    assert not condition_matches(condition, {"specific_needs": []})


def test_is_minor_matches_the_boolean_exactly():
    assert condition_matches({"is_minor": {"equals": True}}, {"is_minor": True})
    assert not condition_matches({"is_minor": {"equals": True}}, {"is_minor": False})


def test_all_and_any_combine_and_several_keys_mean_all():
    condition = {
        "sex": {"in": ["female"]},
        "any": [{"urgency": {"in": ["emergency"]}}, {"specific_needs": {"any_of": ["woman_at_risk"]}}],
    }
    assert condition_matches(condition, {"sex": "female", "urgency": "emergency"})
    assert condition_matches(
        condition, {"sex": "female", "urgency": "normal", "specific_needs": ["woman_at_risk"]}
    )
    assert not condition_matches(condition, {"sex": "female", "urgency": "normal"})
    assert not condition_matches(condition, {"sex": "male", "urgency": "emergency"})
    assert condition_matches({"all": [{"age": {"min": 5}}, {"age": {"max": 9}}]}, {"age": 9})
    assert not condition_matches({"all": [{"age": {"min": 5}}, {"age": {"max": 9}}]}, {"age": 10})


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ({"age": {"min": 18, "max": 17}}, "age can never be both at least 18 and at most 17"),
        ({"sex": {"in": []}}, "no sex is allowed"),
        ({"urgency": {"in": []}}, "no urgency is allowed"),
        ({"specific_needs": {"any_of": []}}, "specific_needs any_of lists no need"),
        ({"is_minor": {"equals": True}, "age": {"min": 18}}, "a minor is never 18 or older"),
        ({"is_minor": {"equals": False}, "age": {"max": 10}}, "an adult is never younger than 18"),
        (
            {"all": [{"sex": {"in": ["female"]}}, {"sex": {"in": ["male"]}}]},
            "no sex is allowed",
        ),
        ({"any": [{"age": {"min": 9, "max": 3}}, {"urgency": {"in": []}}]}, "age can never"),
    ],
)
def test_conditions_that_can_never_match_are_explained(condition, reason):
    assert never_matches(validate_condition(condition)).startswith(reason)


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"age": {"min": 17, "max": 17}},
        {"any": [{"age": {"min": 9, "max": 3}}, {"urgency": {"in": ["urgent"]}}]},
        {"all": [{"age": {"min": 10}}, {"any": [{"age": {"max": 5}}, {"age": {"max": 12}}]}]},
        {"is_minor": {"equals": True}, "age": {"min": 15}},
    ],
)
def test_satisfiable_conditions_are_not_flagged(condition):
    assert never_matches(validate_condition(condition)) is None


def test_profile_validation_names_unknown_and_malformed_fields():
    with pytest.raises(ConditionError) as caught:
        validate_profile({"age": "15", "religion": "x", "sex": "female"})
    assert [p.code for p in caught.value.problems] == ["unknown_profile_field", "invalid_profile_value"]
    assert "religion" in str(caught.value) and "age" in str(caught.value)
    assert validate_profile({"age": 15, "is_minor": True, "specific_needs": ("a",)}) == {
        "age": 15,
        "is_minor": True,
        "specific_needs": ["a"],
    }


def test_describe_reads_like_a_sentence():
    assert describe({}) == "anyone"
    assert describe({"age": {"max": 17}, "sex": {"in": ["female"]}}) == "age ≤ 17, sex: female"
