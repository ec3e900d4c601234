"""The eligibility rule language of pathway links: data, never code.

A condition is a JSON object. Every key of an object is a test and all of them must hold:

    {}                                           always eligible
    {"age": {"min": 0, "max": 17}}               inclusive bounds, either may be left out
    {"sex": {"in": ["female", "other"]}}
    {"specific_needs": {"any_of": ["disability", "unaccompanied_child"]}}
    {"urgency": {"in": ["emergency", "urgent"]}}
    {"is_minor": {"equals": true}}
    {"all": [condition, ...]}                    every one holds
    {"any": [condition, ...]}                    at least one holds

A profile is a plain dict (``age``, ``sex``, ``specific_needs``, ``urgency``, ``is_minor``). A test
on a field the profile does not give is *not* met: nobody is referred on a guess.

This module has no Django imports: the graph code and the benchmarks use it on plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import product

SEXES: tuple[str, ...] = ("female", "male", "other")
URGENCIES: tuple[str, ...] = ("emergency", "urgent", "normal")
AGE_LIMIT = 130
ADULT_AGE = 18
MAX_NODES = 64  # a pathway condition is a handful of tests; anything larger is a mistake or an attack
MAX_DEPTH = 6
MAX_LIST = 50
MAX_TEXT = 64

FIELD_OPERATORS: dict[str, tuple[str, ...]] = {
    "age": ("min", "max"),
    "sex": ("in",),
    "specific_needs": ("any_of",),
    "urgency": ("in",),
    "is_minor": ("equals",),
}
COMBINATORS: tuple[str, ...] = ("all", "any")
CONDITION_KEYS: tuple[str, ...] = (*FIELD_OPERATORS, *COMBINATORS)
PROFILE_FIELDS: tuple[str, ...] = ("age", "sex", "specific_needs", "urgency", "is_minor")


@dataclass(frozen=True)
class ConditionProblem:
    path: str  # where in the document, e.g. "all[1].age.min"
    code: str  # stable: unknown_condition_key, unknown_condition_operator, invalid_condition_value, …
    message: str


class ConditionError(ValueError):
    """The condition (or profile) is malformed; ``problems`` names every fault found."""

    def __init__(self, problems: list[ConditionProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path or '(root)'}: {p.message}" for p in problems))

    @property
    def code(self) -> str:
        return self.problems[0].code


# Validation --------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Validator:
    def __init__(self):
        self.problems: list[ConditionProblem] = []
        self.nodes = 0

    def fail(self, path: str, code: str, message: str) -> None:
        self.problems.append(ConditionProblem(path, code, message))

    def condition(self, value, path: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.fail(path, "condition_too_large", f"A condition has at most {MAX_NODES} tests.")
            return
        if depth > MAX_DEPTH:
            self.fail(path, "condition_too_deep", f"Conditions nest at most {MAX_DEPTH} levels.")
            return
        if not isinstance(value, dict):
            self.fail(path, "invalid_condition", "A condition is a JSON object.")
            return
        unknown = sorted(key for key in value if key not in CONDITION_KEYS)
        if unknown:
            self.fail(
                path,
                "unknown_condition_key",
                f"Unknown condition key(s): {', '.join(map(str, unknown))}. "
                f"Allowed: {', '.join(CONDITION_KEYS)}.",
            )
        for key in CONDITION_KEYS:
            if key not in value:
                continue
            sub = _join(path, key)
            if key in COMBINATORS:
                self.combinator(value[key], sub, depth)
            else:
                self.test(key, value[key], sub)

    def combinator(self, items, path: str, depth: int) -> None:
        if not isinstance(items, list) or not items:
            self.fail(path, "invalid_condition_value", "Expects a non-empty list of conditions.")
            return
        if len(items) > MAX_LIST:
            self.fail(path, "invalid_condition_value", f"At most {MAX_LIST} conditions.")
            return
        for index, item in enumerate(items):
            self.condition(item, f"{path}[{index}]", depth + 1)

    def test(self, name: str, spec, path: str) -> None:
        if not isinstance(spec, dict) or not spec:
            allowed = " or ".join(f'"{op}"' for op in FIELD_OPERATORS[name])
            self.fail(path, "invalid_condition_value", f"Expects an object with {allowed}.")
            return
        unknown = sorted(op for op in spec if op not in FIELD_OPERATORS[name])
        if unknown:
            self.fail(
                path,
                "unknown_condition_operator",
                f"Unknown operator(s) for {name}: {', '.join(map(str, unknown))}. "
                f"Allowed: {', '.join(FIELD_OPERATORS[name])}.",
            )
        getattr(self, f"test_{name}")(spec, path)

    def test_age(self, spec, path: str) -> None:
        for bound in ("min", "max"):
            if bound in spec:
                value = spec[bound]
                if not _is_int(value) or not 0 <= value <= AGE_LIMIT:
                    self.fail(
                        _join(path, bound),
                        "invalid_condition_value",
                        f"Age {bound} is a whole number from 0 to {AGE_LIMIT}.",
                    )

    def _choices(self, spec, path: str, operator: str, choices: tuple[str, ...]) -> None:
        if operator not in spec:
            return
        values = spec[operator]
        sub = _join(path, operator)
        if not isinstance(values, list) or len(values) > MAX_LIST:
            self.fail(sub, "invalid_condition_value", f"Expects a list of at most {MAX_LIST} values.")
            return
        if bad := [value for value in values if value not in choices]:
            self.fail(
                sub,
                "invalid_condition_value",
                f"Unknown value(s): {', '.join(map(str, bad))}. Allowed: {', '.join(choices)}.",
            )

    def test_sex(self, spec, path: str) -> None:
        self._choices(spec, path, "in", SEXES)

    def test_urgency(self, spec, path: str) -> None:
        self._choices(spec, path, "in", URGENCIES)

    def test_specific_needs(self, spec, path: str) -> None:
        if "any_of" not in spec:
            return
        values = spec["any_of"]
        sub = _join(path, "any_of")
        if not isinstance(values, list) or len(values) > MAX_LIST:
            self.fail(sub, "invalid_condition_value", f"Expects a list of at most {MAX_LIST} codes.")
            return
        if any(not isinstance(v, str) or not v.strip() or len(v) > MAX_TEXT for v in values):
            self.fail(
                sub, "invalid_condition_value", f"Specific needs are codes of 1 to {MAX_TEXT} characters."
            )

    def test_is_minor(self, spec, path: str) -> None:
        if "equals" in spec and not isinstance(spec["equals"], bool):
            self.fail(_join(path, "equals"), "invalid_condition_value", "Expects true or false.")


def condition_problems(condition) -> list[ConditionProblem]:
    """Every syntax problem of ``condition`` (empty when it is well formed). ``None`` means ``{}``."""
    if condition is None:
        return []
    validator = _Validator()
    validator.condition(condition, "", 0)
    return validator.problems


def validate_condition(condition) -> dict:
    """The condition, checked; raises :class:`ConditionError` naming every fault."""
    if problems := condition_problems(condition):
        raise ConditionError(problems)
    return condition or {}


# Satisfiability ----------------------------------------------------------------------------


@dataclass
class _Box:
    """The set of profiles one conjunction admits: an age interval and allowed values per field."""

    age_min: int = 0
    age_max: int = AGE_LIMIT
    sexes: frozenset = frozenset(SEXES)
    urgencies: frozenset = frozenset(URGENCIES)
    minor: frozenset = frozenset({True, False})
    needs_possible: bool = True
    reasons: list[str] = field(default_factory=list)

    def meet(self, other: _Box) -> _Box:
        return _Box(
            max(self.age_min, other.age_min),
            min(self.age_max, other.age_max),
            self.sexes & other.sexes,
            self.urgencies & other.urgencies,
            self.minor & other.minor,
            self.needs_possible and other.needs_possible,
            self.reasons + other.reasons,
        )

    def why_empty(self) -> str | None:
        if self.reasons:
            return self.reasons[0]
        if self.age_min > self.age_max:
            return f"age can never be both at least {self.age_min} and at most {self.age_max}"
        if not self.sexes:
            return "no sex is allowed"
        if not self.urgencies:
            return "no urgency is allowed"
        if not self.minor:
            return "is_minor can never be both true and false"
        if self.minor == {True} and self.age_min >= ADULT_AGE:
            return f"a minor is never {self.age_min} or older"
        if self.minor == {False} and self.age_max < ADULT_AGE:
            return f"an adult is never younger than {ADULT_AGE}"
        if not self.needs_possible:
            return "specific_needs any_of lists no need"
        return None


_MAX_BOXES = 256


def _boxes(condition: Mapping) -> list[_Box]:
    """Disjunctive normal form as boxes (bounded: a validated condition is small)."""
    parts: list[list[_Box]] = []
    for key, spec in condition.items():
        if key == "all":
            parts.append(_all([_boxes(child) for child in spec]))
        elif key == "any":
            parts.append([box for child in spec for box in _boxes(child)][:_MAX_BOXES])
        else:
            parts.append([_leaf(key, spec)])
    return _all(parts)


def _all(parts: list[list[_Box]]) -> list[_Box]:
    result = [_Box()]
    for options in parts:
        result = [a.meet(b) for a, b in product(result, options)][:_MAX_BOXES]
        result = [box for box in result if box.why_empty() is None] or result[:1]
    return result


def _leaf(key: str, spec: Mapping) -> _Box:
    box = _Box()
    if key == "age":
        box.age_min = spec.get("min", 0)
        box.age_max = spec.get("max", AGE_LIMIT)
    elif key == "sex":
        box.sexes = frozenset(spec.get("in", SEXES))
    elif key == "urgency":
        box.urgencies = frozenset(spec.get("in", URGENCIES))
    elif key == "is_minor" and "equals" in spec:
        box.minor = frozenset({spec["equals"]})
    elif key == "specific_needs" and "any_of" in spec:
        box.needs_possible = bool(spec["any_of"])
    return box


def never_matches(condition) -> str | None:
    """Why no profile can ever satisfy a *well-formed* condition, or ``None`` if some profile can.

    Catches contradictions such as ``min > max``, empty ``in`` lists, ``is_minor`` against an adult
    age range, and ``all`` of incompatible parts; ``any`` is unsatisfiable only if every branch is.
    """
    if not condition:
        return None
    boxes = _boxes(condition)
    reasons = [box.why_empty() for box in boxes]
    if any(reason is None for reason in reasons):
        return None
    return reasons[0]


# Matching ----------------------------------------------------------------------------------


def condition_matches(condition, profile: Mapping) -> bool:
    """Whether ``profile`` satisfies ``condition`` (assumed well formed). Missing fields never match."""
    if not condition:
        return True
    for key, spec in condition.items():
        if key == "all":
            if not all(condition_matches(child, profile) for child in spec):
                return False
        elif key == "any":
            if not any(condition_matches(child, profile) for child in spec):
                return False
        elif not _test(key, spec, profile):
            return False
    return True


def _test(key: str, spec: Mapping, profile: Mapping) -> bool:
    value = profile.get(key)
    if value is None:
        return False
    if key == "age":
        return spec.get("min", 0) <= value <= spec.get("max", AGE_LIMIT)
    if key in ("sex", "urgency"):
        return value in spec["in"] if "in" in spec else True
    if key == "specific_needs":
        return not set(spec["any_of"]).isdisjoint(value) if "any_of" in spec else True
    if key == "is_minor":
        return value is spec["equals"] if "equals" in spec else True
    return False  # pragma: no cover - validated conditions have no other keys


# The words of ``describe``, in English; a caller with a translation passes its own (the console).
DESCRIBE_WORDS = {
    "anyone": "anyone",
    "and": "and",
    "or": "or",
    "age_between": "age {low} to {high}",
    "age_from": "age ≥ {low}",
    "age_up_to": "age ≤ {high}",
    "minor": "minor",
    "adult": "adult",
    "needs": "needs: {needs}",
}


def describe(condition, words: Mapping[str, str] | None = None) -> str:
    """A short human reading of a condition, for drawings and admin pages."""
    w = DESCRIBE_WORDS if words is None else {**DESCRIBE_WORDS, **words}
    if not condition:
        return w["anyone"]
    parts = []
    for key, spec in condition.items():
        if key in COMBINATORS:
            joined = f" {w['and'] if key == 'all' else w['or']} ".join(describe(child, w) for child in spec)
            parts.append(f"({joined})")
        elif key == "age":
            low, high = spec.get("min"), spec.get("max")
            if low is not None and high is not None:
                parts.append(w["age_between"].format(low=low, high=high))
            elif low is not None:
                parts.append(w["age_from"].format(low=low))
            else:
                parts.append(w["age_up_to"].format(high=high))
        elif key == "is_minor":
            parts.append(w["minor"] if spec.get("equals") else w["adult"])
        elif key == "specific_needs":
            parts.append(w["needs"].format(needs="/".join(spec.get("any_of", []))))
        else:
            parts.append(f"{key}: " + "/".join(spec.get("in", [])))
    return ", ".join(parts)


# Profiles ----------------------------------------------------------------------------------


def validate_profile(profile) -> dict:
    """A clean copy of a profile; raises :class:`ConditionError` naming unknown or malformed fields."""
    if profile is None:
        return {}
    if not isinstance(profile, Mapping):
        raise ConditionError([ConditionProblem("", "invalid_profile", "A profile is a JSON object.")])
    problems: list[ConditionProblem] = []
    if unknown := sorted(str(key) for key in profile if key not in PROFILE_FIELDS):
        problems.append(
            ConditionProblem(
                "",
                "unknown_profile_field",
                f"Unknown profile field(s): {', '.join(unknown)}. Allowed: {', '.join(PROFILE_FIELDS)}.",
            )
        )
    clean: dict = {}
    for key in PROFILE_FIELDS:
        value = profile.get(key)
        if value is None:
            continue
        ok = True
        if key == "age":
            ok = _is_int(value) and 0 <= value <= AGE_LIMIT
        elif key == "sex":
            ok = value in SEXES
        elif key == "urgency":
            ok = value in URGENCIES
        elif key == "is_minor":
            ok = isinstance(value, bool)
        elif key == "specific_needs":
            ok = _is_string_list(value)
            value = list(value) if ok else value
        if not ok:
            problems.append(ConditionProblem(key, "invalid_profile_value", _PROFILE_HINTS[key]))
        else:
            clean[key] = value
    if problems:
        raise ConditionError(problems)
    return clean


def _is_string_list(value) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) <= MAX_LIST
        and all(isinstance(item, str) and 0 < len(item) <= MAX_TEXT for item in value)
    )


_PROFILE_HINTS = {
    "age": f"age is a whole number from 0 to {AGE_LIMIT}.",
    "sex": f"sex is one of {', '.join(SEXES)}.",
    "urgency": f"urgency is one of {', '.join(URGENCIES)}.",
    "is_minor": "is_minor is true or false.",
    "specific_needs": "specific_needs is a list of codes.",
}
