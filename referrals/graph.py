"""Pathway graph logic on plain data: validation, suggestions, routes and drawings.

Nothing here touches the database. ``referrals.pathway_selectors`` reads rows into the dataclasses
below; this module builds a networkx ``DiGraph`` from them and answers questions. Service
availability (active, accepting, organisation able to receive, the service's own eligibility)
changes without a new pathway version, so it is passed in per call as ``states`` and never baked
into the cached graph.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from referrals.conditions import ADULT_AGE, condition_matches, describe, never_matches

EXPORT_FORMAT = "referral-hub/pathway"
EXPORT_FORMAT_VERSION = 1


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
    graph = pg.graph
    steps = pg.steps
    states = states or {}
    problems: list[Problem] = []

    if not pg.entries:
        problems.append(Problem("no_entry_step", "The pathway has no entry step."))
    else:
        reachable = set(pg.entries)
        for entry in pg.entries:
            reachable |= nx.descendants(graph, entry)
        for step in data.steps:
            if step.id not in reachable:
                problems.append(
                    Problem(
                        "unreachable_step",
                        f"{_name(step)} cannot be reached from any entry step.",
                        step_ids=(step.id,),
                    )
                )

    for step in data.steps:
        state = states.get(step.service_id)
        if state is not None and step.is_entry and not state.is_active:
            problems.append(
                Problem(
                    "inactive_entry_service", f"Entry step {_name(step)} is inactive.", step_ids=(step.id,)
                )
            )

    by_pair: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for link in data.links:
        source, target = steps.get(link.source), steps.get(link.target)
        if source is None or target is None:
            problems.append(
                Problem(
                    "link_outside_pathway", "The link joins a step of another pathway.", link_ids=(link.id,)
                )
            )
            continue
        by_pair[link.source, link.target].append(link)
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

    for (source, target), links in by_pair.items():
        if len(links) > 1:
            problems.append(
                Problem(
                    "duplicate_link",
                    f"{len(links)} links go from {_name(steps[source])} to {_name(steps[target])}; "
                    'combine their conditions with "any".',
                    step_ids=(source, target),
                    link_ids=tuple(link.id for link in links),
                )
            )

    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            members = sorted(component, key=lambda step_id: steps[step_id].key)
            problems.append(
                Problem(
                    "cycle",
                    "A person can be referred back along: "
                    + ", ".join(_name(steps[step_id]) for step_id in members)
                    + ".",
                    severity="info",
                    step_ids=tuple(members),
                )
            )
    for step in data.steps:
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
    problems.sort(key=lambda problem: problem.severity != "error")
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
    """Whether a person can be referred into ``step_id`` at all, and the best link that does it."""
    best: Link | None = None
    for source in pg.graph.predecessors(step_id):
        if source == step_id:
            continue
        link = pg.matching_link(source, step_id, profile)
        if link is not None and (best is None or link.preference < best.preference):
            best = link
    return (best is not None or pg.steps[step_id].is_entry), best


def _distances(pg: PathwayGraph, sources: Iterable[str], wanted: set[str]) -> dict[str, int]:
    """Hop distances over links in either direction, stopping once every wanted step is found."""
    graph = pg.graph
    seen = {source: 0 for source in sources}
    queue = deque(seen)
    found = {node: 0 for node in seen if node in wanted}
    while queue and len(found) < len(wanted):
        node = queue.popleft()
        for neighbour in (*graph.successors(node), *graph.predecessors(node)):
            if neighbour not in seen:
                seen[neighbour] = seen[node] + 1
                if neighbour in wanted:
                    found[neighbour] = seen[neighbour]
                queue.append(neighbour)
    return found


def alternatives(
    pg: PathwayGraph,
    service_id: str,
    profile: Mapping,
    states: Mapping[str, ServiceState] | None = None,
    *,
    category: str | None = None,
    exclude_service_ids: Iterable[str] = (),
) -> list[Suggestion]:
    """Other services of the same category on this pathway that the person can be referred to.

    Nearest first: hops from the unreachable service's step (links in either direction), or, when
    the service is not on this pathway (``category`` given), hops from the nearest entry step.
    """
    own = pg.steps.get(pg.by_service.get(str(service_id), ""))
    if own is None and category is None:
        raise ServiceNotOnPathway(str(service_id))
    category = category or own.category
    excluded = {str(service_id), *map(str, exclude_service_ids)}
    candidates: dict[str, Link | None] = {}
    for step_id in pg.by_category.get(category, ()):
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


# Exports -----------------------------------------------------------------------------------


def _sorted_steps(data: PathwayData) -> list[Step]:
    return sorted(data.steps, key=lambda step: step.key)


def _sorted_links(data: PathwayData) -> list[Link]:
    return sorted(data.links, key=lambda link: link.key)


def export_document(data: PathwayData) -> dict:
    """The JSON export: stable keys for steps and links, services named and identified."""
    keys = {step.id: step.key for step in data.steps}
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "pathway": {
            "name": data.name,
            "theme": data.theme,
            "description": data.description,
            "operation": data.operation,
            "version": data.version,
            "status": data.status,
        },
        "steps": [
            {
                "key": step.key,
                "service": {
                    "id": step.service_id,
                    "organisation": step.organisation,
                    "name": step.service_name,
                    "category": step.category,
                },
                "entry": step.is_entry,
                "x": step.x,
                "y": step.y,
            }
            for step in _sorted_steps(data)
        ],
        "links": [
            {
                "key": link.key,
                "from": keys.get(link.source),
                "to": keys.get(link.target),
                "condition": link.condition,
                "preference": link.preference,
                "note": link.note,
            }
            for link in _sorted_links(data)
        ],
    }


def _state_flags(states: Mapping[str, ServiceState] | None, service_id: str) -> dict:
    state = (states or {}).get(service_id) or ServiceState()
    return {
        "active": state.is_active,
        "accepting": state.is_accepting,
        "can_receive": state.blocked_reason is None,
    }


def export_graphml(data: PathwayData, states: Mapping[str, ServiceState] | None = None) -> str:
    """GraphML (nodes keyed by step key, edges by link key) for yEd, Gephi or networkx."""
    graph = nx.MultiDiGraph(name=data.name, theme=data.theme, version=data.version, status=data.status)
    keys = {step.id: step.key for step in data.steps}
    for step in _sorted_steps(data):
        graph.add_node(
            step.key,
            service_id=step.service_id,
            service=step.service_name,
            organisation=step.organisation,
            category=step.category,
            entry=step.is_entry,
            **_state_flags(states, step.service_id),
        )
    for link in _sorted_links(data):
        graph.add_edge(
            keys[link.source],
            keys[link.target],
            key=link.key,
            condition=json.dumps(link.condition, sort_keys=True),
            eligibility=describe(link.condition),
            preference=link.preference,
            note=link.note,
        )
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer, encoding="utf-8")
    return buffer.getvalue().decode("utf-8")


def _dot_quote(text) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def export_dot(data: PathwayData, states: Mapping[str, ServiceState] | None = None) -> str:
    """Graphviz DOT; entry steps drawn double, inactive ones dashed and grey."""
    keys = {step.id: step.key for step in data.steps}
    lines = [
        f"digraph {_dot_quote(data.name)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for step in _sorted_steps(data):
        flags = _state_flags(states, step.service_id)
        label = f"{step.service_name}\n{step.organisation} · {step.category}"
        attrs = []
        if step.is_entry:
            attrs.append("peripheries=2")
        if not flags["active"]:
            attrs.append('style="rounded,dashed", color="grey50", fontcolor="grey50"')
            label += "\nINACTIVE"
        attrs.insert(0, f"label={_dot_quote(label)}")
        lines.append(f"  {_dot_quote(step.key)} [{', '.join(attrs)}];")
    for link in _sorted_links(data):
        label = f"{link.preference}: {describe(link.condition)}"
        lines.append(
            f"  {_dot_quote(keys[link.source])} -> {_dot_quote(keys[link.target])} "
            f"[id={_dot_quote(link.key)}, label={_dot_quote(label)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# SVG drawing -------------------------------------------------------------------------------

BOX_W, BOX_H = 230, 70
GAP_X, GAP_Y = 190, 30
MARGIN = 40
HEADER = 50
LEGEND_H = 40


def layout(data: PathwayData) -> dict[str, tuple[float, float]]:
    """Top-left corners of the step boxes: stored coordinates when every step has them, else layers.

    Layers are hop distances from the entry steps (networkx multi-source shortest paths), left to
    right; steps no entry reaches go in a last layer. Inside a layer, steps follow the average
    position of their predecessors (one barycentre pass), which keeps most links from crossing.
    """
    if data.steps and all(step.x is not None and step.y is not None for step in data.steps):
        return {step.id: (float(step.x), float(step.y)) for step in data.steps}
    pg = PathwayGraph(data)
    depth = nx.multi_source_dijkstra_path_length(pg.graph, set(pg.entries)) if pg.entries else {}
    last = max(depth.values(), default=-1) + 1
    layers: dict[int, list[str]] = defaultdict(list)
    for step in data.steps:
        layers[depth.get(step.id, last)].append(step.id)
    position: dict[str, int] = {}
    coords: dict[str, tuple[float, float]] = {}
    tallest = max((len(members) for members in layers.values()), default=0)
    for index in sorted(layers):
        members = layers[index]

        def barycentre(step_id: str) -> float:
            placed = [position[p] for p in pg.graph.predecessors(step_id) if p in position and p != step_id]
            return sum(placed) / len(placed) if placed else float("inf")

        members.sort(key=lambda s: (barycentre(s), not pg.steps[s].is_entry, pg.steps[s].service_name))
        offset = (tallest - len(members)) * (BOX_H + GAP_Y) / 2
        for row, step_id in enumerate(members):
            position[step_id] = row
            coords[step_id] = (MARGIN + index * (BOX_W + GAP_X), HEADER + offset + row * (BOX_H + GAP_Y))
    return coords


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def export_svg(data: PathwayData, states: Mapping[str, ServiceState] | None = None) -> str:
    """A readable drawing: one box per service with its organisation; entries and closures marked."""
    coords = layout(data)
    width = max((x for x, _ in coords.values()), default=0) + BOX_W + MARGIN
    height = max((y for _, y in coords.values()), default=HEADER) + BOX_H + MARGIN + LEGEND_H
    width = max(width, 640)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12" '
        'role="img">',
        f"<title>{escape(data.name)} (version {data.version}, {escape(data.status)})</title>",
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>'
        "</defs>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{MARGIN}" y="28" font-size="18" font-weight="bold">{escape(data.name)}</text>',
        f'<text x="{MARGIN}" y="44" fill="#555">{escape(data.theme)} · version {data.version} · '
        f"{escape(data.status)}</text>",
    ]
    out.append('<g class="links">')
    for link in _sorted_links(data):
        if link.source not in coords or link.target not in coords:
            continue
        out.append(_svg_link(link, coords[link.source], coords[link.target]))
    out.append("</g>")
    out.append('<g class="steps">')
    for step in _sorted_steps(data):
        out.append(_svg_step(step, coords[step.id], (states or {}).get(step.service_id)))
    out.append("</g>")
    legend_y = height - LEGEND_H + 10
    out.append(
        f'<g class="legend" transform="translate({MARGIN},{legend_y:.0f})">'
        '<rect width="18" height="12" fill="#e8f5e9" stroke="#2e7d32" stroke-width="3"/>'
        '<text x="24" y="11">entry step</text>'
        '<rect x="110" width="18" height="12" fill="#eeeeee" stroke="#9e9e9e" stroke-dasharray="4 3"/>'
        '<text x="134" y="11">inactive service</text>'
        '<rect x="260" width="18" height="12" fill="#fff8e1" stroke="#f9a825"/>'
        '<text x="284" y="11">not accepting / cannot receive</text>'
        '<text x="480" y="11">link label: preference · eligibility</text>'
        "</g>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_step(step: Step, corner: tuple[float, float], state: ServiceState | None) -> str:
    x, y = corner
    state = state or ServiceState()
    classes = ["step"]
    fill, stroke, width, dash = "#e3f2fd", "#1565c0", 1.5, ""
    tags = []
    if step.is_entry:
        classes.append("entry")
        fill, stroke, width = "#e8f5e9", "#2e7d32", 3
        tags.append("ENTRY")
    if not state.is_active:
        classes.append("inactive")
        fill, stroke, dash = "#eeeeee", "#9e9e9e", ' stroke-dasharray="6 4"'
        tags.append("INACTIVE")
    elif not state.is_accepting or state.blocked_reason:
        classes.append("closed")
        fill = "#fff8e1"
        tags.append("NOT ACCEPTING" if not state.is_accepting else "CANNOT RECEIVE")
    text_fill = "#757575" if not state.is_active else "#111111"
    tooltip = f"{step.service_name} — {step.organisation} ({step.category})"
    parts = [
        f'<g class="{" ".join(classes)}" id={quoteattr("step-" + step.key)} data-key={quoteattr(step.key)}>',
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{width}"{dash}/>',
        f'<text class="service" x="{x + 10:.0f}" y="{y + 22:.0f}" font-weight="bold" fill="{text_fill}">'
        f"{escape(_short(step.service_name, 32))}</text>",
        f'<text class="organisation" x="{x + 10:.0f}" y="{y + 40:.0f}" fill="{text_fill}">'
        f"{escape(step.organisation)} · {escape(_short(step.category, 22))}</text>",
    ]
    if tags:
        parts.append(
            f'<text class="tags" x="{x + 10:.0f}" y="{y + 59:.0f}" font-size="10" font-weight="bold" '
            f'fill="{stroke}">{escape(" · ".join(tags))}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _svg_link(link: Link, source: tuple[float, float], target: tuple[float, float]) -> str:
    (sx, sy), (tx, ty) = source, target
    label = _short(f"{link.preference} · {describe(link.condition)}", 34)
    if link.source == link.target:
        x0, y0 = sx + BOX_W * 0.35, sy
        x1 = sx + BOX_W * 0.65
        path = f"M {x0:.0f} {y0:.0f} C {x0:.0f} {y0 - 40:.0f} {x1:.0f} {y0 - 40:.0f} {x1:.0f} {y0:.0f}"
        lx, ly = (x0 + x1) / 2, y0 - 34
    elif tx > sx:
        x0, y0, x1, y1 = sx + BOX_W, sy + BOX_H / 2, tx, ty + BOX_H / 2
        bend = (x1 - x0) / 2
        path = f"M {x0:.0f} {y0:.0f} C {x0 + bend:.0f} {y0:.0f} {x1 - bend:.0f} {y1:.0f} {x1:.0f} {y1:.0f}"
        lx, ly = (x0 + x1) / 2, (y0 + y1) / 2 - 4
    else:  # back or sideways link: loop below the boxes
        x0, y0, x1, y1 = sx + BOX_W / 2, sy + BOX_H, tx + BOX_W / 2, ty + BOX_H
        dip = max(y0, y1) + 45
        path = f"M {x0:.0f} {y0:.0f} C {x0:.0f} {dip:.0f} {x1:.0f} {dip:.0f} {x1:.0f} {y1:.0f}"
        lx, ly = (x0 + x1) / 2, dip - 8
    return (
        f'<g class="link" id={quoteattr("link-" + link.key)}>'
        f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.3" marker-end="url(#arrow)"/>'
        f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="10" text-anchor="middle" fill="#333">'
        f"{escape(label)}</text>"
        "</g>"
    )
