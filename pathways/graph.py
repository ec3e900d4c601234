"""Pathway graph logic on plain data: validation, next steps, alternatives and routes.

Nothing here touches the database. ``pathways.selectors`` reads rows into the dataclasses
below; this module builds a networkx ``DiGraph`` from them and answers questions. Service
availability (active, accepting, organisation able to receive, the service's own eligibility)
changes without a new pathway version, so it is passed in per call as ``states`` and never baked
into the cached graph.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

import networkx as nx

from pathways.conditions import ADULT_AGE, condition_matches, never_matches

# Plain data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    id: str
    key: str
    service_id: str
    service_name: str
    organisation: str  # acronym
    category: str
    is_entry: bool = False
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True, eq=False)
class Link:
    id: str
    key: str
    source: str  # step id
    target: str  # step id
    condition: dict = field(default_factory=dict)
    preference: int = 1
    note: str = ""


@dataclass(frozen=True, eq=False)
class ServiceState:
    """What may change about a service without a new pathway version."""

    is_active: bool = True
    is_accepting: bool = True
    blocked_reason: str | None = None  # why its organisation cannot receive referrals, if it cannot
    min_age: int | None = None
    max_age: int | None = None
    sexes: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.is_active and self.is_accepting and self.blocked_reason is None


@dataclass(frozen=True, eq=False)
class PathwayData:
    id: str
    name: str
    theme: str
    status: str
    version: int
    operation: str = ""
    description: str = ""
    steps: tuple[Step, ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    severity: str = "error"  # "info" problems (cycles, services closed for now) do not block publishing
    step_ids: tuple[str, ...] = ()
    link_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "step_ids": list(self.step_ids),
            "link_ids": list(self.link_ids),
        }


@dataclass(frozen=True)
class Suggestion:
    step_id: str
    service_id: str
    link_id: str | None  # the link a referral would follow (None: an entry step reached directly)
    preference: int | None
    distance: int | None = None  # hops from the service asked about (alternatives)
    note: str = ""


class ServiceNotOnPathway(LookupError):
    def __init__(self, service_id: str):
        super().__init__(f"Service {service_id} is not a step of this pathway.")
        self.service_id = service_id


# The graph ---------------------------------------------------------------------------------


class PathwayGraph:
    """A pathway version as a networkx ``DiGraph``; parallel links sit together on one edge."""

    def __init__(self, data: PathwayData):
        self.data = data
        self.graph = nx.DiGraph()
        self.steps: dict[str, Step] = {}
        self.by_service: dict[str, str] = {}
        self.by_category: dict[str, list[str]] = defaultdict(list)
        for step in data.steps:
            self.steps[step.id] = step
            self.by_service.setdefault(step.service_id, step.id)
            self.by_category[step.category].append(step.id)
            self.graph.add_node(step.id)
        self.entries = [step.id for step in data.steps if step.is_entry]
        for link in sorted(data.links, key=lambda item: (item.preference, item.key)):
            if link.source not in self.steps or link.target not in self.steps:
                continue
            if self.graph.has_edge(link.source, link.target):
                self.graph.edges[link.source, link.target]["links"].append(link)
            else:
                self.graph.add_edge(link.source, link.target, links=[link])
        # successors in preference order, computed once: next_steps then costs only the out-degree
        self._ordered_successors = {
            node: sorted(
                (target for target in self.graph.successors(node) if target != node),
                key=lambda target: (self._best_preference(node, target), self.steps[target].service_name),
            )
            for node in self.graph
        }
        # computed once per version too, so that a question walks plain data, not networkx views:
        # each step's neighbours one link away in either direction as a bit mask (hop distances),
        # and the links into each step from another step, most preferred first (ties: predecessor
        # order, then the edge's order)
        self._index = {node: i for i, node in enumerate(self.graph)}  # the steps' order
        self._masks = [
            reduce(
                or_,
                (
                    1 << self._index[other]
                    for other in (*self.graph.successors(node), *self.graph.predecessors(node))
                    if other != node
                ),
                0,
            )
            for node in self.graph
        ]
        self._links_in: dict[str, tuple[Link, ...]] = {}
        for node in self.graph:
            ranked = [
                (link.preference, rank, order, link)
                for rank, source in enumerate(self.graph.predecessors(node))
                if source != node
                for order, link in enumerate(self.graph.edges[source, node]["links"])
            ]
            ranked.sort(key=lambda item: item[:3])
            self._links_in[node] = tuple(item[3] for item in ranked)

    def _best_preference(self, source: str, target: str) -> int:
        return self.graph.edges[source, target]["links"][0].preference

    def step_of(self, service_id: str) -> Step:
        step_id = self.by_service.get(str(service_id))
        if step_id is None:
            raise ServiceNotOnPathway(str(service_id))
        return self.steps[step_id]

    def service_ids(self) -> set[str]:
        return set(self.by_service)

    def matching_link(self, source: str, target: str, profile: Mapping) -> Link | None:
        """The most preferred link from ``source`` to ``target`` whose condition the profile meets."""
        for link in self.graph.edges[source, target]["links"]:
            if condition_matches(link.condition, profile):
                return link
        return None


def service_eligible(state: ServiceState, profile: Mapping) -> bool:
    """The service's own eligibility. ``is_minor`` stands in for a missing age; a missing sex fails."""
    if state.min_age is not None or state.max_age is not None:
        low = state.min_age if state.min_age is not None else 0
        high = state.max_age if state.max_age is not None else 10**6
        age = profile.get("age")
        if age is not None:
            if not low <= age <= high:
                return False
        elif profile.get("is_minor") is True:
            if low >= ADULT_AGE:
                return False
        elif profile.get("is_minor") is False:
            if high < ADULT_AGE:
                return False
        else:
            return False
    return not state.sexes or profile.get("sex") in state.sexes


def _open_to(states: Mapping[str, ServiceState] | None, service_id: str, profile: Mapping) -> bool:
    if states is None:
        return True
    state = states.get(service_id)
    return state is not None and state.available and service_eligible(state, profile)


# Validation --------------------------------------------------------------------------------


def validate(data: PathwayData, states: Mapping[str, ServiceState] | None = None) -> list[Problem]:
    """Every problem of a pathway at once, errors first; ``info`` problems do not block publishing."""
    pg = PathwayGraph(data)
    states = states or {}
    problems = [
        *_reachability_problems(pg),
        *_inactive_entry_problems(pg, states),
        *_link_problems(pg, states),
        *_duplicate_link_problems(pg),
        *_cycle_problems(pg),
        *_not_accepting_problems(pg, states),
    ]
    problems.sort(key=lambda problem: problem.severity != "error")
    return problems


def _reachability_problems(pg: PathwayGraph) -> list[Problem]:
    if not pg.entries:
        return [Problem("no_entry_step", "The pathway has no entry step.")]
    reachable = set(pg.entries)
    for entry in pg.entries:
        reachable |= nx.descendants(pg.graph, entry)
    return [
        Problem(
            "unreachable_step",
            f"{_name(step)} cannot be reached from any entry step.",
            step_ids=(step.id,),
        )
        for step in pg.data.steps
        if step.id not in reachable
    ]


def _inactive_entry_problems(pg: PathwayGraph, states: Mapping[str, ServiceState]) -> list[Problem]:
    problems = []
    for step in pg.data.steps:
        state = states.get(step.service_id)
        if state is not None and step.is_entry and not state.is_active:
            problems.append(
                Problem(
                    "inactive_entry_service", f"Entry step {_name(step)} is inactive.", step_ids=(step.id,)
                )
            )
    return problems


def _link_problems(pg: PathwayGraph, states: Mapping[str, ServiceState]) -> list[Problem]:
    """What is wrong with each link on its own: its ends, the services it leads to, its condition."""
    problems = []
    for link in pg.data.links:
        source, target = pg.steps.get(link.source), pg.steps.get(link.target)
        if source is None or target is None:
            problems.append(
                Problem(
                    "link_outside_pathway", "The link joins a step of another pathway.", link_ids=(link.id,)
                )
            )
            continue
        if link.source == link.target:
            problems.append(
                Problem(
                    "self_loop",
                    f"{_name(source)} links to itself.",
                    step_ids=(source.id,),
                    link_ids=(link.id,),
                )
            )
        state = states.get(target.service_id)
        if state is not None and not state.is_active:
            problems.append(
                Problem(
                    "link_to_inactive_service",
                    f"The link from {_name(source)} goes to {_name(target)}, which is inactive.",
                    step_ids=(target.id,),
                    link_ids=(link.id,),
                )
            )
        if state is not None and state.blocked_reason is not None:
            problems.append(
                Problem(
                    state.blocked_reason,
                    f"The link from {_name(source)} goes to {_name(target)}, "
                    "whose organisation cannot receive referrals "
                    f"({_REASONS.get(state.blocked_reason, '?')}).",
                    step_ids=(target.id,),
                    link_ids=(link.id,),
                )
            )
        if (reason := never_matches(link.condition)) is not None:
            problems.append(
                Problem(
                    "condition_never_matches",
                    f"The condition of the link from {_name(source)} to {_name(target)} can never match: "
                    f"{reason}.",
                    link_ids=(link.id,),
                )
            )
    return problems


def _duplicate_link_problems(pg: PathwayGraph) -> list[Problem]:
    by_pair: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for link in pg.data.links:
        if link.source in pg.steps and link.target in pg.steps:
            by_pair[link.source, link.target].append(link)
    return [
        Problem(
            "duplicate_link",
            f"{len(links)} links go from {_name(pg.steps[source])} to {_name(pg.steps[target])}; "
            'combine their conditions with "any".',
            step_ids=(source, target),
            link_ids=tuple(link.id for link in links),
        )
        for (source, target), links in by_pair.items()
        if len(links) > 1
    ]


def _cycle_problems(pg: PathwayGraph) -> list[Problem]:
    problems = []
    for component in nx.strongly_connected_components(pg.graph):
        if len(component) > 1:
            members = sorted(component, key=lambda step_id: pg.steps[step_id].key)
            problems.append(
                Problem(
                    "cycle",
                    "A person can be referred back along: "
                    + ", ".join(_name(pg.steps[step_id]) for step_id in members)
                    + ".",
                    severity="info",
                    step_ids=tuple(members),
                )
            )
    return problems


def _not_accepting_problems(pg: PathwayGraph, states: Mapping[str, ServiceState]) -> list[Problem]:
    problems = []
    for step in pg.data.steps:
        state = states.get(step.service_id)
        if state is not None and state.is_active and not state.is_accepting:
            problems.append(
                Problem(
                    "service_not_accepting",
                    f"{_name(step)} is not accepting referrals at the moment.",
                    severity="info",
                    step_ids=(step.id,),
                )
            )
    return problems


_REASONS = {
    "organisation_inactive": "the organisation is inactive",
    "organisation_without_valid_dsa": "no valid data-sharing agreement",
    "organisation_without_focal_point": "no active focal point",
}


def _name(step: Step) -> str:
    return f'"{step.service_name}" ({step.organisation})'


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(problem.severity == "error" for problem in problems)


# Questions ---------------------------------------------------------------------------------


def next_steps(
    pg: PathwayGraph, from_service_id: str, profile: Mapping, states: Mapping[str, ServiceState] | None = None
) -> list[Suggestion]:
    """Services the person may be referred to next, most preferred first."""
    source = pg.step_of(from_service_id).id
    suggestions = []
    for target in pg._ordered_successors[source]:
        link = pg.matching_link(source, target, profile)
        if link is None:
            continue
        step = pg.steps[target]
        if not _open_to(states, step.service_id, profile):
            continue
        suggestions.append(Suggestion(step.id, step.service_id, link.id, link.preference, 1, link.note))
    suggestions.sort(key=lambda s: (s.preference, pg.steps[s.step_id].service_name))
    return suggestions


def _entry_or_eligible_link(pg: PathwayGraph, step_id: str, profile: Mapping) -> tuple[bool, Link | None]:
    """Whether a person can be referred into ``step_id`` at all, and the best link that does it.

    The best link is the most preferred one the profile meets; among equals, that of the first
    predecessor, and on that edge the first by key: ``_links_in`` holds them in exactly that order.
    """
    best = next((link for link in pg._links_in[step_id] if condition_matches(link.condition, profile)), None)
    return (best is not None or pg.steps[step_id].is_entry), best


def _distances(pg: PathwayGraph, sources: Iterable[str], wanted: set[str]) -> dict[str, int]:
    """Hop distances over links in either direction, stopping once every wanted step is found.

    Breadth-first one level at a time on bit sets (bit ``i``: the ``i``-th step): a level is the
    union of its steps' neighbour masks less what was seen, so each step's distance is that of
    the first level reaching it, and the inner loops run in C rather than over networkx views.
    """
    index, masks = pg._index, pg._masks
    sources = list(sources)
    frontier = [index[source] for source in sources]
    seen = reduce(or_, (1 << i for i in frontier), 0)
    found = {node: 0 for node in sources if node in wanted}
    remaining = {node: index[node] for node in wanted if node not in found}
    distance = 0
    while frontier and remaining:
        distance += 1
        reached = reduce(or_, map(masks.__getitem__, frontier), 0) & ~seen
        seen |= reached
        for node, i in list(remaining.items()):
            if reached >> i & 1:
                found[node] = distance
                del remaining[node]
        if remaining:  # the last level is the widest: never spelled out for nothing
            frontier = _bits(reached)
    return found


_BITS_OF_BYTE = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))


def _bits(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, lowest first."""
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    return [8 * position + bit for position, byte in enumerate(data) if byte for bit in _BITS_OF_BYTE[byte]]


def alternatives(
    pg: PathwayGraph,
    service_id: str,
    profile: Mapping,
    states: Mapping[str, ServiceState] | None = None,
    *,
    category: str | None = None,
    exclude_service_ids: Iterable[str] = (),
    among: Iterable[str] | None = None,
) -> list[Suggestion]:
    """Other services of the same category on this pathway that the person can be referred to.

    Nearest first: hops from the unreachable service's step (links in either direction), or, when
    the service is not on this pathway (``category`` given), hops from the nearest entry step.

    ``among``: the services of the category, when the caller read them from the directory (a
    service's category may change without a new pathway version); the steps' own categories
    otherwise.
    """
    own = pg.steps.get(pg.by_service.get(str(service_id), ""))
    if own is None and category is None:
        raise ServiceNotOnPathway(str(service_id))
    category = category or own.category
    excluded = {str(service_id), *map(str, exclude_service_ids)}
    if among is None:
        steps_of_category = pg.by_category.get(category, ())
    else:
        on_pathway = (pg.by_service.get(str(service)) for service in among)
        steps_of_category = sorted((step for step in on_pathway if step is not None), key=pg._index.get)
    candidates: dict[str, Link | None] = {}
    for step_id in steps_of_category:
        step = pg.steps[step_id]
        if step.service_id in excluded or not _open_to(states, step.service_id, profile):
            continue
        reachable, link = _entry_or_eligible_link(pg, step_id, profile)
        if reachable:
            candidates[step_id] = link
    if not candidates:
        return []
    origin = [own.id] if own is not None else pg.entries
    distances = _distances(pg, origin, set(candidates))
    suggestions = [
        Suggestion(
            step_id,
            pg.steps[step_id].service_id,
            link.id if link else None,
            link.preference if link else None,
            distances.get(step_id),
            link.note if link else "",
        )
        for step_id, link in candidates.items()
    ]
    suggestions.sort(
        key=lambda s: (
            s.distance is None,
            s.distance or 0,
            s.preference or 0,
            pg.steps[s.step_id].service_name,
        )
    )
    return suggestions


def route(
    pg: PathwayGraph,
    from_service_id: str,
    target_category: str,
    profile: Mapping,
    states: Mapping[str, ServiceState] | None = None,
) -> list[Suggestion] | None:
    """The shortest chain of eligible referrals from a service to any service of a category.

    Each hop follows a link whose condition the person meets into a service that is open to them.
    Among equally short chains the more preferred links win. ``None`` when there is no such chain.
    """
    start = pg.step_of(from_service_id).id

    def usable(source: str, target: str) -> bool:
        return (
            source != target
            and pg.matching_link(source, target, profile) is not None
            and _open_to(states, pg.steps[target].service_id, profile)
        )

    # breadth-first over successors in preference order: the first target reached is the nearest,
    # and among equally near ones the chain of more preferred links
    parents: dict[str, str] = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in pg._ordered_successors[node]:
            if target in parents or not usable(node, target):
                continue
            parents[target] = node
            if pg.steps[target].category == target_category:
                return _chain(pg, parents, start, target, profile)
            queue.append(target)
    return None


def _chain(pg: PathwayGraph, parents: Mapping, start: str, end: str, profile: Mapping) -> list[Suggestion]:
    hops = []
    node = end
    while node != start:
        source = parents[node]
        link = pg.matching_link(source, node, profile)
        hops.append(Suggestion(node, pg.steps[node].service_id, link.id, link.preference, None, link.note))
        node = source
    hops.reverse()
    return [
        Suggestion(h.step_id, h.service_id, h.link_id, h.preference, index + 1, h.note)
        for index, h in enumerate(hops)
    ]
