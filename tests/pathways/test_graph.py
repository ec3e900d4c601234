"""pathways.graph on plain data: validation, suggestions and routes (no database)."""

import pytest

from pathways import graph
from pathways.graph import PathwayGraph, ServiceState
from tests.pathways.plain_data import HEALTHY, OPEN, link, pathway, step


def problem_codes(data, states=None):
    return [(p.code, p.severity) for p in graph.validate(data, states)]


# Validation --------------------------------------------------------------------------------


def test_a_healthy_pathway_has_only_the_cycle_as_information():
    problems = graph.validate(HEALTHY)
    assert [(p.code, p.severity) for p in problems] == [("cycle", "info")]
    assert set(problems[0].step_ids) == {"id-gbv", "id-clinic", "id-legal"}
    assert not graph.has_errors(problems)


def test_no_entry_step_is_reported():
    data = pathway([step("a", "x"), step("b", "y")], [link("l1", "a", "b")])
    assert ("no_entry_step", "error") in problem_codes(data)


def test_steps_unreachable_from_every_entry_are_reported_with_their_ids():
    data = pathway(
        [step("a", "x", entry=True), step("b", "y"), step("c", "z"), step("d", "z")],
        [link("l1", "a", "b"), link("l2", "c", "d")],
    )
    unreachable = [p for p in graph.validate(data) if p.code == "unreachable_step"]
    assert [p.step_ids for p in unreachable] == [("id-c",), ("id-d",)]


def test_links_to_inactive_services_are_reported():
    states = {f"svc-{k}": ServiceState() for k in ("a", "b")} | {"svc-b": ServiceState(is_active=False)}
    data = pathway([step("a", "x", entry=True), step("b", "y")], [link("l1", "a", "b")])
    [problem] = [p for p in graph.validate(data, states) if p.code == "link_to_inactive_service"]
    assert problem.link_ids == ("id-l1",) and problem.step_ids == ("id-b",)


def test_an_inactive_entry_service_is_reported():
    data = pathway([step("a", "x", entry=True)], [])
    assert ("inactive_entry_service", "error") in problem_codes(
        data, {"svc-a": ServiceState(is_active=False)}
    )


@pytest.mark.parametrize(
    "reason", ["organisation_without_focal_point", "organisation_without_valid_dsa", "organisation_inactive"]
)
def test_links_to_organisations_that_cannot_receive_are_reported_with_the_reason(reason):
    data = pathway([step("a", "x", entry=True), step("b", "y")], [link("l1", "a", "b")])
    states = {"svc-a": ServiceState(), "svc-b": ServiceState(blocked_reason=reason)}
    [problem] = [p for p in graph.validate(data, states) if p.code == reason]
    assert problem.link_ids == ("id-l1",) and problem.severity == "error"


def test_self_loops_are_reported():
    data = pathway([step("a", "x", entry=True)], [link("l1", "a", "a")])
    [problem] = [p for p in graph.validate(data) if p.code == "self_loop"]
    assert problem.link_ids == ("id-l1",)


def test_duplicate_links_are_reported_together():
    data = pathway(
        [step("a", "x", entry=True), step("b", "y")],
        [link("l1", "a", "b"), link("l2", "a", "b", {"age": {"min": 3}})],
    )
    [problem] = [p for p in graph.validate(data) if p.code == "duplicate_link"]
    assert set(problem.link_ids) == {"id-l1", "id-l2"}


def test_conditions_that_can_never_match_are_reported():
    data = pathway(
        [step("a", "x", entry=True), step("b", "y")], [link("l1", "a", "b", {"age": {"min": 30, "max": 20}})]
    )
    [problem] = [p for p in graph.validate(data) if p.code == "condition_never_matches"]
    assert problem.link_ids == ("id-l1",)
    assert "at least 30 and at most 20" in problem.message


def test_a_service_closed_for_now_is_information_only():
    data = pathway([step("a", "x", entry=True)], [])
    assert problem_codes(data, {"svc-a": ServiceState(is_accepting=False)}) == [
        ("service_not_accepting", "info")
    ]


def test_every_problem_is_reported_at_once_errors_first():
    data = pathway(
        [step("a", "x"), step("b", "y"), step("c", "z")],
        [
            link("l1", "a", "a"),
            link("l2", "a", "b"),
            link("l3", "a", "b"),
            link("l4", "b", "c", {"sex": {"in": []}}),
            link("l5", "c", "b"),
        ],
    )
    states = {
        "svc-a": ServiceState(),
        "svc-b": ServiceState(is_active=False),
        "svc-c": ServiceState(blocked_reason="organisation_without_focal_point"),
    }
    codes = problem_codes(data, states)
    assert sorted(code for code, severity in codes if severity == "error") == sorted(
        [
            "no_entry_step",
            "self_loop",
            "link_to_inactive_service",
            "link_to_inactive_service",
            "link_to_inactive_service",
            "organisation_without_focal_point",
            "condition_never_matches",
            "duplicate_link",
        ]
    )
    assert [code for code, severity in codes if severity == "info"] == ["cycle"]
    assert codes.index(("cycle", "info")) == len(codes) - 1


# Questions ---------------------------------------------------------------------------------


def names(suggestions):
    return [s.service_id.removeprefix("svc-") for s in suggestions]


def test_next_steps_follow_preference_and_conditions():
    pg = PathwayGraph(HEALTHY)
    assert names(graph.next_steps(pg, "svc-gbv", {"urgency": "urgent", "sex": "female"}, OPEN)) == [
        "cmr",
        "clinic",
        "shelter",
    ]
    assert names(graph.next_steps(pg, "svc-gbv", {"urgency": "normal", "sex": "male"}, OPEN)) == ["clinic"]


def test_next_steps_skip_services_that_are_closed_or_cannot_receive_or_do_not_fit():
    pg = PathwayGraph(HEALTHY)
    profile = {"urgency": "urgent", "sex": "female", "age": 30}
    states = OPEN | {
        "svc-cmr": ServiceState(is_accepting=False),
        "svc-clinic": ServiceState(blocked_reason="organisation_without_valid_dsa"),
        "svc-shelter": ServiceState(max_age=17),
    }
    assert graph.next_steps(pg, "svc-gbv", profile, states) == []
    assert names(
        graph.next_steps(pg, "svc-gbv", profile, OPEN | {"svc-shelter": ServiceState(max_age=40)})
    ) == [
        "cmr",
        "clinic",
        "shelter",
    ]


def test_next_steps_from_a_service_off_the_pathway_is_an_error():
    with pytest.raises(graph.ServiceNotOnPathway):
        graph.next_steps(PathwayGraph(HEALTHY), "svc-nowhere", {})


def test_service_eligibility_uses_is_minor_when_age_is_missing():
    child_only = ServiceState(max_age=17)
    assert graph.service_eligible(child_only, {"is_minor": True})
    assert not graph.service_eligible(child_only, {"is_minor": False})
    assert not graph.service_eligible(child_only, {})
    assert not graph.service_eligible(ServiceState(sexes=("female",)), {})


def test_alternatives_are_same_category_open_and_nearest_first():
    data = pathway(
        [
            step("desk", "protection_desk", entry=True),
            step("gbv", "gbv"),
            step("h1", "health"),
            step("h2", "health"),
            step("far", "legal"),
            step("h3", "health"),
            step("h4", "health"),
        ],
        [
            link("l1", "desk", "gbv"),
            link("l2", "gbv", "h1"),
            link("l3", "gbv", "h2", {}, 2),
            link("l4", "gbv", "far"),
            link("l5", "far", "h3"),
            link("l6", "far", "h4", {"age": {"max": 10}}),
        ],
    )
    pg = PathwayGraph(data)
    states = {f"svc-{s.key}": ServiceState() for s in data.steps}
    suggestions = graph.alternatives(pg, "svc-h1", {"age": 30}, states)
    assert names(suggestions) == ["h2", "h3"]  # h4 only for children
    assert [s.distance for s in suggestions] == [2, 3]
    assert suggestions[0].link_id == "id-l3"
    states["svc-h2"] = ServiceState(is_accepting=False)
    assert names(graph.alternatives(pg, "svc-h1", {"age": 30}, states)) == ["h3"]


def test_alternatives_for_a_service_not_on_the_pathway_start_from_the_entries():
    pg = PathwayGraph(HEALTHY)
    suggestions = graph.alternatives(pg, "svc-elsewhere", {}, OPEN, category="health")
    assert names(suggestions) == ["clinic"]  # cmr needs an urgency the profile does not give
    assert suggestions[0].distance == 2


def test_route_finds_the_shortest_eligible_chain():
    pg = PathwayGraph(HEALTHY)
    hops = graph.route(pg, "svc-desk", "legal_aid", {}, OPEN)
    assert names(hops) == ["gbv", "clinic", "legal"]
    assert [h.link_id for h in hops] == ["id-l1", "id-l3", "id-l5"]
    assert [h.distance for h in hops] == [1, 2, 3]


def test_route_prefers_the_preferred_link_among_equal_lengths_and_respects_conditions():
    pg = PathwayGraph(HEALTHY)
    assert names(graph.route(pg, "svc-desk", "health", {"urgency": "urgent"}, OPEN)) == ["gbv", "cmr"]
    assert names(graph.route(pg, "svc-desk", "health", {"urgency": "normal"}, OPEN)) == ["gbv", "clinic"]
    closed = OPEN | {"svc-clinic": ServiceState(is_active=False)}
    assert graph.route(pg, "svc-desk", "legal_aid", {}, closed) is None
