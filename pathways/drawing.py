"""Pathway drawings and exports on plain data: the JSON document, GraphML, DOT, and an SVG drawing
with its layout.

Like ``pathways.graph`` it touches no database: ``pathways.selectors.pathway_export`` reads the rows
and the services' current state and hands them in.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from pathways.conditions import describe
from pathways.graph import Link, PathwayData, ServiceState, Step

EXPORT_FORMAT = "referral-hub/pathway"
EXPORT_FORMAT_VERSION = 1


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
# The drawing is a grid: steps in columns (layers), links routed orthogonally through the box-free
# space only — the gaps between columns and lanes below every box — so that no link ever passes
# behind a box. Each label sits on its own link, in a gap or on its lane, and is placed only where
# it overlaps no box and no other label; a link whose label finds no room in its gap is routed
# along a lane of its own, where its label always fits. ``plan`` returns the geometry, which the
# tests check directly.

BOX_W, BOX_H = 230, 70
GAP_X, GAP_Y = 190, 30  # the least room between two columns, and between two boxes of a column
MARGIN = 40
HEADER = 50
LEGEND_H = 40
MIN_WIDTH = 640
TRACK = 8  # room per vertical track in a gap
LANE = 18  # room per horizontal lane below the boxes
PAD = 6
LABEL_SIZE = 10
LABEL_CHAR_W = 6.2  # generous for Helvetica/Arial at LABEL_SIZE (their average is nearer 5.5)
LABEL_H = 13
LABEL_CHARS = 34


class Rect(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Rect) -> bool:
        """Whether the interiors meet (touching edges do not)."""
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


class RoutedLink(NamedTuple):
    link: Link
    points: tuple[tuple[float, float], ...]  # an orthogonal polyline, source box to target box
    label: str
    label_box: Rect
    label_x: float
    label_y: float  # the text's baseline
    anchor: str  # SVG text-anchor: start, middle or end
    lane: bool  # routed below the boxes


@dataclass(frozen=True)
class Plan:
    width: float
    height: float
    boxes: dict[str, Rect]  # by step id
    links: tuple[RoutedLink, ...]


def _columns(data: PathwayData) -> list[list[str]]:
    """Step ids by column, top to bottom.

    With stored coordinates for every step, columns and rows follow them (steps less than half a box
    apart horizontally share a column). Otherwise layers are hop distances from the entry steps
    (networkx multi-source shortest paths), left to right; steps no entry reaches go in a last
    layer. Inside a layer, steps follow the average position of their predecessors (one barycentre
    pass), which keeps most links from crossing.
    """
    if data.steps and all(step.x is not None and step.y is not None for step in data.steps):
        columns: list[list[Step]] = []
        for step in sorted(data.steps, key=lambda s: (s.x, s.y, s.key)):
            if columns and step.x < columns[-1][0].x + BOX_W / 2:
                columns[-1].append(step)
            else:
                columns.append([step])
        return [[s.id for s in sorted(column, key=lambda s: (s.y, s.key))] for column in columns]
    steps = {step.id: step for step in data.steps}
    graph = nx.DiGraph()
    graph.add_nodes_from(steps)
    graph.add_edges_from(
        (link.source, link.target) for link in data.links if link.source in steps and link.target in steps
    )
    entries = {step.id for step in data.steps if step.is_entry}
    depth = nx.multi_source_dijkstra_path_length(graph, entries) if entries else {}
    last = max(depth.values(), default=-1) + 1
    layers: dict[int, list[str]] = defaultdict(list)
    for step in data.steps:
        layers[depth.get(step.id, last)].append(step.id)
    position: dict[str, int] = {}
    result = []
    for index in sorted(layers):
        members = layers[index]

        def barycentre(step_id: str) -> float:
            placed = [position[p] for p in graph.predecessors(step_id) if p in position and p != step_id]
            return sum(placed) / len(placed) if placed else float("inf")

        members.sort(key=lambda s: (barycentre(s), not steps[s].is_entry, steps[s].service_name, s))
        for row, step_id in enumerate(members):
            position[step_id] = row
        result.append(members)
    return result


# The drawing's own words, in English; the console passes them translated (``words=``), together
# with describe()'s (pathways.conditions.DESCRIBE_WORDS).
SVG_WORDS = {
    "entry_step": "entry step",
    "inactive_service": "inactive service",
    "not_accepting": "not accepting / cannot receive",
    "link_label": "link label: preference · eligibility",
    "entry": "ENTRY",
    "route": "ROUTE {number}",
}


def _label_text(link: Link, words: Mapping[str, str] | None = None) -> str:
    return _short(f"{link.preference} · {describe(link.condition, words)}", LABEL_CHARS)


def _label_width(text: str) -> float:
    return len(text) * LABEL_CHAR_W


def _label_rect(x: float, baseline: float, width: float, anchor: str) -> Rect:
    left = x if anchor == "start" else x - width / 2 if anchor == "middle" else x - width
    return Rect(left, baseline - LABEL_SIZE, width, LABEL_H)


class _Placed:
    """Placed label rectangles, bucketed by height so a check looks at near ones only."""

    def __init__(self):
        self.buckets: dict[int, list[Rect]] = defaultdict(list)

    def free(self, rect: Rect) -> bool:
        first, last = int(rect.y // LABEL_H), int((rect.y + rect.h) // LABEL_H)
        return not any(
            rect.overlaps(other) for b in range(first - 1, last + 2) for other in self.buckets.get(b, ())
        )

    def add(self, rect: Rect) -> None:
        self.buckets[int(rect.y // LABEL_H)].append(rect)


def plan(data: PathwayData, words: Mapping[str, str] | None = None) -> Plan:
    """Where every box, link and label goes (see the section's comment for the guarantees).

    One pass: each gap is made wide enough for its widest label and for two tracks per link that
    might cross it, so moving a link whose label finds no room to a lane changes no other position.
    """
    columns = _columns(data)
    column_of = {step_id: c for c, members in enumerate(columns) for step_id in members}
    row_of = {step_id: row for members in columns for row, step_id in enumerate(members)}
    links = [link for link in _sorted_links(data) if link.source in column_of and link.target in column_of]
    labels = {link.id: _label_text(link, words) for link in links}
    lanes = {link.id for link in links if column_of[link.target] != column_of[link.source] + 1}
    count = len(columns)
    crossing: dict[int, int] = defaultdict(int)  # the most tracks each gap may need
    widest: dict[int, float] = {}
    for link in links:
        source, target = column_of[link.source], column_of[link.target]
        if link.id in lanes:
            crossing[source] += 1
            crossing[target - 1] += 1
        else:
            crossing[source] += 2
            widest[source] = max(widest.get(source, 0), _label_width(labels[link.id]))
    gap_width = {}
    for g in range(-1, count):
        least = GAP_X if 0 <= g < count - 1 else 0
        tracks_room = crossing[g] * TRACK + 2 * PAD if crossing[g] else 0
        label_room = widest[g] + 2 * PAD if g in widest else 0
        gap_width[g] = max(least, tracks_room, label_room)
    column_x = []
    x = MARGIN + gap_width[-1]
    for c in range(count):
        column_x.append(x)
        x += BOX_W + gap_width[c]
    width = max(x + MARGIN, MIN_WIDTH)
    # whole rows: boxes of neighbouring columns line up, so out-ports (lower half of a box) and
    # in-ports (upper half) of the boxes facing each other never share a height
    tallest = max((len(members) for members in columns), default=0)
    boxes = {}
    for c, members in enumerate(columns):
        offset = (tallest - len(members)) // 2
        for row, step_id in enumerate(members):
            boxes[step_id] = Rect(column_x[c], HEADER + (offset + row) * (BOX_H + GAP_Y), BOX_W, BOX_H)
    port_out, port_in = _ports(links, boxes)
    # labels of links between neighbouring columns: on the link, in its gap, where there is room
    placed: dict[int, _Placed] = defaultdict(_Placed)
    label_at: dict[str, tuple[float, float, str, Rect]] = {}
    for link in links:
        if link.id in lanes:
            continue
        g = column_of[link.source]
        label_w = _label_width(labels[link.id])
        source_x, target_x = boxes[link.source].x + BOX_W, boxes[link.target].x
        for label_x, baseline, anchor in (
            (target_x - PAD, port_in[link.id] - 3, "end"),
            (source_x + PAD, port_out[link.id] - 3, "start"),
            (target_x - PAD, port_in[link.id] + LABEL_SIZE + 2, "end"),
            (source_x + PAD, port_out[link.id] + LABEL_SIZE + 2, "start"),
        ):
            rect = _label_rect(label_x, baseline, label_w, anchor)
            if placed[g].free(rect):
                placed[g].add(rect)
                label_at[link.id] = (label_x, baseline, anchor, rect)
                break
        else:
            lanes.add(link.id)  # no room: it goes along a lane of its own
    # the vertical tracks of each gap: exits to the lanes, links across, entries from the lanes
    tracks: dict[int, list[tuple]] = defaultdict(list)
    for link in links:
        source, target = column_of[link.source], column_of[link.target]
        if link.id in lanes:
            tracks[source].append((0, row_of[link.source], 0, link.key, link.id + ">"))
            tracks[target - 1].append((2, row_of[link.target], 0, link.key, link.id + "<"))
        else:
            tracks[source].append((1, row_of[link.source], row_of[link.target], link.key, link.id))
    track_x: dict[str, float] = {}
    for g, members in tracks.items():
        left = (column_x[g] + BOX_W) if g >= 0 else MARGIN
        room = (gap_width[g] - 2 * PAD) / len(members)
        for i, member in enumerate(sorted(members)):
            track_x[member[-1]] = left + PAD + (i + 0.5) * room
    bottom = max((box.y + box.h for box in boxes.values()), default=HEADER)
    lane_y = {}
    routed = []
    for link in links:
        start = (boxes[link.source].x + BOX_W, port_out[link.id])
        end = (boxes[link.target].x, port_in[link.id])
        text = labels[link.id]
        if link.id in lanes:
            y = lane_y[link.id] = bottom + GAP_Y + len(lane_y) * LANE
            out_x, in_x = track_x[link.id + ">"], track_x[link.id + "<"]
            points = (start, (out_x, start[1]), (out_x, y), (in_x, y), (in_x, end[1]), end)
            label_w = _label_width(text)
            label_x = min(max((out_x + in_x) / 2, label_w / 2 + PAD), width - label_w / 2 - PAD)
            baseline, anchor = y - 4, "middle"
            rect = _label_rect(label_x, baseline, label_w, anchor)
        else:
            across = track_x[link.id]
            points = (start, (across, start[1]), (across, end[1]), end)
            label_x, baseline, anchor, rect = label_at[link.id]
        routed.append(RoutedLink(link, points, text, rect, label_x, baseline, anchor, link.id in lanes))
    height = (max(lane_y.values()) if lane_y else bottom) + MARGIN + LEGEND_H
    return Plan(width=width, height=height, boxes=boxes, links=tuple(routed))


def _ports(links: list[Link], boxes: Mapping[str, Rect]) -> tuple[dict[str, float], dict[str, float]]:
    """Where each link leaves its source (right side, lower half) and enters its target (left side,
    upper half), each at a height of its own, in the order of the other ends."""
    outs, ins = defaultdict(list), defaultdict(list)
    for link in links:
        outs[link.source].append(link)
        ins[link.target].append(link)
    port_out, port_in = {}, {}
    for step_id, group in outs.items():
        group.sort(key=lambda link: (boxes[link.target].y, link.key))
        for k, link in enumerate(group):
            port_out[link.id] = boxes[step_id].y + BOX_H * (0.5 + 0.5 * (k + 1) / (len(group) + 1))
    for step_id, group in ins.items():
        group.sort(key=lambda link: (boxes[link.source].y, link.key))
        for k, link in enumerate(group):
            port_in[link.id] = boxes[step_id].y + BOX_H * 0.5 * (k + 1) / (len(group) + 1)
    return port_out, port_in


def layout(data: PathwayData) -> dict[str, tuple[float, float]]:
    """Top-left corners of the step boxes (see ``plan``)."""
    return {step_id: (box.x, box.y) for step_id, box in plan(data).boxes.items()}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def export_svg(
    data: PathwayData,
    states: Mapping[str, ServiceState] | None = None,
    *,
    step_href: Callable[[Step], str] | None = None,
    route: tuple[str, ...] = (),
    words: Mapping[str, str] | None = None,
) -> str:
    """A readable drawing: one box per service with its organisation; entries and closures marked.

    ``step_href`` makes each box a link (the console's interactive map); ``route`` is a chain of
    step and link ids to highlight, in order: drawn thicker and numbered, so not by colour alone.
    """
    w = {**SVG_WORDS, **(words or {})}
    drawn = plan(data, words)
    on_route = {item: n for n, item in enumerate(route)}
    step_order = {item: n + 1 for n, item in enumerate(i for i in route if i in drawn.boxes)}
    width, height = drawn.width, drawn.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12" '
        'role="img">',
        f"<title>{escape(data.name)} (version {data.version}, {escape(data.status)})</title>",
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>'
        '<marker id="arrow-route" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#0b5394"/></marker>'
        "</defs>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{MARGIN}" y="28" font-size="18" font-weight="bold">{escape(data.name)}</text>',
        f'<text x="{MARGIN}" y="44" fill="#555">{escape(data.theme)} · version {data.version} · '
        f"{escape(data.status)}</text>",
    ]
    quoted = {step.id: quoteattr(step.key) for step in data.steps}  # once per step, not per link end
    link_keys = {item.link.id: quoteattr(item.link.key) for item in drawn.links}
    link_ids = {item.link.id: quoteattr("link-" + item.link.key) for item in drawn.links}
    out.append('<g class="links">')
    for item in drawn.links:
        out.append(_svg_link(item, quoted, link_ids[item.link.id], item.link.id in on_route))
    out.append("</g>")
    out.append('<g class="steps">')
    for step in _sorted_steps(data):
        box = drawn.boxes[step.id]
        state = (states or {}).get(step.service_id)
        out.append(_svg_step(step, (box.x, box.y), state, step_order.get(step.id), step_href, w=w))
    out.append("</g>")
    # labels last: nothing is ever drawn over them
    out.append('<g class="labels">')
    texts: dict[str, str] = {}
    for item in drawn.links:
        text = texts.get(item.label) or texts.setdefault(item.label, escape(item.label))
        out.append(
            f'<text class="link-label" data-link={link_keys[item.link.id]} x="{item.label_x:.1f}" '
            f'y="{item.label_y:.1f}" font-size="{LABEL_SIZE}" text-anchor="{item.anchor}" fill="#333" '
            f'stroke="white" stroke-width="3" paint-order="stroke">{text}</text>'
        )
    out.append("</g>")
    legend_y = height - LEGEND_H + 10
    out.append(
        f'<g class="legend" transform="translate({MARGIN},{legend_y:.0f})">'
        '<rect width="18" height="12" fill="#e8f5e9" stroke="#2e7d32" stroke-width="3"/>'
        f'<text x="24" y="11">{escape(w["entry_step"])}</text>'
        '<rect x="110" width="18" height="12" fill="#eeeeee" stroke="#9e9e9e" stroke-dasharray="4 3"/>'
        f'<text x="134" y="11">{escape(w["inactive_service"])}</text>'
        '<rect x="260" width="18" height="12" fill="#fff8e1" stroke="#f9a825"/>'
        f'<text x="284" y="11">{escape(w["not_accepting"])}</text>'
        f'<text x="480" y="11">{escape(w["link_label"])}</text>'
        "</g>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_step(
    step: Step,
    corner: tuple[float, float],
    state: ServiceState | None,
    route_number: int | None = None,
    step_href: Callable[[Step], str] | None = None,
    w: Mapping[str, str] = SVG_WORDS,
) -> str:
    x, y = corner
    state = state or ServiceState()
    classes = ["step"]
    fill, stroke, width, dash = "#e3f2fd", "#1565c0", 1.5, ""
    tags = []
    if step.is_entry:
        classes.append("entry")
        fill, stroke, width = "#e8f5e9", "#2e7d32", 3
        tags.append(w["entry"])
    if not state.is_active:
        classes.append("inactive")
        fill, stroke, dash = "#eeeeee", "#9e9e9e", ' stroke-dasharray="6 4"'
        tags.append("INACTIVE")
    elif not state.is_accepting or state.blocked_reason:
        classes.append("closed")
        fill = "#fff8e1"
        tags.append("NOT ACCEPTING" if not state.is_accepting else "CANNOT RECEIVE")
    if route_number is not None:
        classes.append("on-route")
        stroke, width = "#0b5394", 5
        tags.insert(0, w["route"].format(number=route_number))
    text_fill = "#757575" if not state.is_active else "#111111"
    tooltip = f"{step.service_name} — {step.organisation} ({step.category})"
    parts = [
        f'<g class="{" ".join(classes)}" id={quoteattr("step-" + step.key)} data-key={quoteattr(step.key)}>',
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
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
    group = "".join(parts)
    if step_href is None:
        return group
    return (
        f'<a class="step-link" href={quoteattr(step_href(step))} data-key={quoteattr(step.key)} '
        f"aria-label={quoteattr(tooltip)}>{group}</a>"
    )


def _svg_link(item: RoutedLink, quoted: Mapping[str, str], element_id: str, on_route: bool) -> str:
    link = item.link
    path = "M " + " L ".join(f"{x:.1f} {y:.1f}" for x, y in item.points)
    stroke, width, marker = ("#0b5394", 4, "arrow-route") if on_route else ("#555", 1.3, "arrow")
    return (
        f'<g class="link{" on-route" if on_route else ""}" id={element_id} '
        f"data-from={quoted[link.source]} data-to={quoted[link.target]}>"
        f'<path d="{path}" fill="none" stroke="{stroke}" stroke-width="{width}" marker-end="url(#{marker})"/>'
        "</g>"
    )
