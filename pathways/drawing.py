"""Pathway drawings and exports on plain data: the JSON document, GraphML, DOT, and an SVG drawing
with its layout.

Like ``pathways.graph`` it touches no database: ``pathways.selectors.pathway_export`` reads the rows
and the services' current state and hands them in.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from pathways.conditions import describe
from pathways.graph import Link, PathwayData, PathwayGraph, ServiceState, Step

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
