"""pathways.graph on plain data: validation, suggestions and routes (no database)."""

import random

import networkx as nx
import pytest

from pathways import graph
from pathways.conditions import condition_matches
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


def test_alternatives_among_the_services_the_directory_names_not_the_steps_categories():
    """A service's category may change after publishing: the caller passes the category's services."""
    pg = PathwayGraph(HEALTHY)
    # the clinic left health and the legal aid service became one
    suggestions = graph.alternatives(pg, "svc-cmr", {}, OPEN, category="health", among=["svc-legal"])
    assert names(suggestions) == ["legal"]
    assert suggestions[0].distance == 2  # cmr ← gbv ← legal (the back referral)
    assert graph.alternatives(pg, "svc-cmr", {}, OPEN, category="health", among=["svc-elsewhere"]) == []


def _oracle_alternatives(data, service_id, profile, states):
    """The rule written out on networkx alone: same category, open to the person, reachable by an
    eligible link (or an entry), nearest first over links in either direction, then preference."""
    digraph = nx.DiGraph()
    digraph.add_nodes_from(item.id for item in data.steps)
    links_between = {}
    for item in sorted(data.links, key=lambda item: (item.preference, item.key)):
        digraph.add_edge(item.source, item.target)
        links_between.setdefault((item.source, item.target), []).append(item)
    steps = {item.id: item for item in data.steps}
    own = next(item for item in data.steps if item.service_id == service_id)
    hops = nx.single_source_shortest_path_length(digraph.to_undirected(as_view=True), own.id)
    found = []
    for candidate in data.steps:
        state = states.get(candidate.service_id)
        if candidate.category != own.category or candidate.id == own.id:
            continue
        if state is None or not state.available or not graph.service_eligible(state, profile):
            continue
        best = None
        for source in digraph.predecessors(candidate.id):
            if source == candidate.id:
                continue
            match = next(
                (x for x in links_between[source, candidate.id] if condition_matches(x.condition, profile)),
                None,
            )
            if match is not None and (best is None or match.preference < best.preference):
                best = match
        if best is None and not candidate.is_entry:
            continue
        found.append((candidate.id, best.id if best else None, hops.get(candidate.id)))
    found.sort(
        key=lambda item: (
            item[2] is None,
            item[2] or 0,
            (next(x for x in data.links if x.id == item[1]).preference if item[1] else 0),
            steps[item[0]].service_name,
        )
    )
    return found


CONDITIONS = [{}, {}, {"age": {"max": 17}}, {"sex": {"in": ["female"]}}, {"urgency": {"in": ["urgent"]}}]
PROFILES = [{"age": 24, "sex": "female", "urgency": "urgent"}, {"age": 12, "sex": "male"}, {}]


def random_pathway(rng, size=120, links=400, categories=6):
    """Entries, a spanning tree so most steps are reachable, then random links: parallel ones and
    self-loops included (a draft may hold them) and equal preferences, so that ties are exercised."""
    steps = [step(f"s{n}", f"c{n % categories}", entry=n < 4) for n in range(size)]
    pairs = [(rng.randrange(n), n) for n in range(4, size)]
    pairs += [(rng.randrange(size), rng.randrange(size)) for _ in range(links - len(pairs))]
    data = pathway(
        steps,
        [
            link(f"l{n}", f"s{a}", f"s{b}", rng.choice(CONDITIONS), rng.randint(1, 3))
            for n, (a, b) in enumerate(pairs)
        ],
    )
    states = {
        s.service_id: ServiceState(
            is_accepting=rng.random() > 0.2, max_age=17 if rng.random() < 0.1 else None
        )
        for s in steps
    }
    return data, states


@pytest.mark.parametrize("seed", range(6))
def test_alternatives_agree_with_a_plain_networkx_oracle_on_random_pathways(seed):
    rng = random.Random(seed)
    data, states = random_pathway(rng)
    pg = PathwayGraph(data)
    for _ in range(40):
        service_id = rng.choice(data.steps).service_id
        profile = rng.choice(PROFILES)
        ours = graph.alternatives(pg, service_id, profile, states)
        assert [(s.step_id, s.link_id, s.distance) for s in ours] == _oracle_alternatives(
            data, service_id, profile, states
        )
