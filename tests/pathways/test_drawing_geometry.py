"""The drawing's layout guarantees, checked on the SVG it writes: no link passes through a box (not
even its own ends'), no label overlaps a box or another label, every label is on the drawing."""

import itertools
import random
import re
import xml.etree.ElementTree as ET

import pytest

from pathways import drawing
from pathways.graph import Link, Step
from tests.pathways.plain_data import HEALTHY, link, pathway, step

SVG = "{http://www.w3.org/2000/svg}"


def _boxes(root) -> dict[str, drawing.Rect]:
    boxes = {}
    for group in root.iter(f"{SVG}g"):
        if "step" in (group.get("class") or "").split():
            rect = group.find(f"{SVG}rect")
            boxes[group.get("data-key")] = drawing.Rect(
                *(float(rect.get(name)) for name in ("x", "y", "width", "height"))
            )
    return boxes


def _polylines(root) -> dict[str, list[tuple[float, float]]]:
    lines = {}
    for group in root.iter(f"{SVG}g"):
        if "link" in (group.get("class") or "").split():
            d = group.find(f"{SVG}path").get("d")
            numbers = [float(n) for n in re.findall(r"-?[0-9.]+", d)]
            assert re.fullmatch(r"M [-0-9. ]+( L [-0-9. ]+)+", d), d
            lines[group.get("id")[len("link-") :]] = list(zip(numbers[::2], numbers[1::2], strict=True))
    return lines


def _crosses(a, b, box: drawing.Rect) -> bool:
    """Whether the axis-parallel segment a-b enters the box's interior (touching an edge does not)."""
    (x1, y1), (x2, y2) = a, b
    return (
        min(x1, x2) < box.x + box.w
        and max(x1, x2) > box.x
        and min(y1, y2) < box.y + box.h
        and max(y1, y2) > box.y
    )


def check_geometry(data) -> None:
    svg = drawing.export_svg(data)
    root = ET.fromstring(svg)
    boxes = _boxes(root)
    lines = _polylines(root)
    keys = {s.id: s.key for s in data.steps}
    drawn = drawing.plan(data)
    width = float(root.get("width"))
    assert len(lines) == len([lk for lk in data.links if lk.source in keys and lk.target in keys])
    for item in data.links:
        points = lines[item.key]
        source, target = boxes[keys[item.source]], boxes[keys[item.target]]
        # it leaves its source on the right edge and arrives on its target's left edge
        assert points[0][0] == pytest.approx(source.x + source.w, abs=0.1)
        assert source.y < points[0][1] < source.y + source.h
        assert points[-1][0] == pytest.approx(target.x, abs=0.1)
        assert target.y < points[-1][1] < target.y + target.h
        for a, b in itertools.pairwise(points):
            assert a[0] == b[0] or a[1] == b[1], f"{item.key}: not orthogonal"
            for key, box in boxes.items():
                assert not _crosses(a, b, box), f"link {item.key} passes through the box of {key}"
    labels = [routed.label_box for routed in drawn.links]
    texts = {t.get("data-link"): t for t in root.iter(f"{SVG}text") if t.get("class") == "link-label"}
    for routed in drawn.links:
        text = texts[routed.link.key]
        assert float(text.get("x")) == pytest.approx(routed.label_x, abs=0.1)
        assert float(text.get("y")) == pytest.approx(routed.label_y, abs=0.1)
        assert text.text == routed.label
        assert routed.label_box.x >= 0 and routed.label_box.x + routed.label_box.w <= width
        for key, box in boxes.items():
            assert not routed.label_box.overlaps(box), f"the label of {routed.link.key} is behind {key}"
    for i, one in enumerate(labels):
        for other in labels[i + 1 :]:
            assert not one.overlaps(other), "two labels overlap"


def test_the_test_pathway_keeps_the_guarantees():
    check_geometry(HEALTHY)


def test_links_that_skip_columns_go_back_or_loop_keep_clear_of_boxes():
    steps = [step(k, "c", entry=k == "a") for k in "abcdef"]
    links = [
        link("l1", "a", "b"),
        link("l2", "a", "c"),
        link("l3", "b", "d"),
        link("l5", "d", "a"),  # back, over every column
        link("l6", "c", "c"),  # self-loop
        link("l7", "b", "c"),  # inside one column
        link("l8", "b", "c", {"sex": {"in": ["female"]}}),  # a duplicate
        link("l9", "e", "f"),  # unreachable: a last column
    ]
    data = pathway(steps, links)
    check_geometry(data)
    lanes = {routed.link.key for routed in drawing.plan(data).links if routed.lane}
    assert {"l5", "l6", "l7", "l8"} <= lanes and "l1" not in lanes


def test_a_link_that_skips_stored_columns_goes_below_the_boxes():
    steps = [
        Step("id-a", "a", "svc-a", "A", "ORG", "c", True, 0, 0),
        Step("id-b", "b", "svc-b", "B", "ORG", "c", False, 400, 0),
        Step("id-c", "c", "svc-c", "C", "ORG", "c", False, 800, 0),
    ]
    data = pathway(steps, [link("l1", "a", "b"), link("l2", "b", "c"), link("l3", "a", "c")])
    check_geometry(data)
    assert [routed.lane for routed in drawing.plan(data).links] == [False, False, True]


def test_many_links_into_one_step_keep_their_labels_apart():
    steps = [step("hub", "c"), *(step(f"s{i}", "c", entry=True) for i in range(12))]
    links = [
        link(f"l{i}", f"s{i}", "hub", {"specific_needs": {"any_of": [f"need_{i}_long_code"]}})
        for i in range(12)
    ]
    check_geometry(pathway(steps, links))


def test_labels_with_no_room_in_their_gap_move_to_lanes():
    steps = [step("a", "c", entry=True), step("b", "c")]
    data = pathway(steps, [link(f"l{i}", "a", "b", {}, i + 1) for i in range(6)])
    check_geometry(data)
    assert any(routed.lane for routed in drawing.plan(data).links)


def _random_pathway(seed: int):
    rng = random.Random(seed)
    count = rng.randint(1, 18)
    stored = rng.random() < 0.25
    steps = [
        Step(
            f"id-{i}",
            f"s{i}",
            f"svc-{i}",
            f"Service number {i} with a longer name",
            "ORG",
            "cat",
            rng.random() < 0.2 or i == 0,
            rng.uniform(0, 2000) if stored else None,
            rng.uniform(0, 1500) if stored else None,
        )
        for i in range(count)
    ]
    conditions = [
        {},
        {"age": {"min": 0, "max": 17}},
        {"sex": {"in": ["female", "other"]}},
        {"urgency": {"in": ["emergency", "urgent"]}},
        {"specific_needs": {"any_of": ["disability"]}},
    ]
    links = [
        Link(
            f"lid-{j}",
            f"l{j}",
            f"id-{rng.randrange(count)}",
            f"id-{rng.randrange(count)}",
            rng.choice(conditions),
            rng.randint(1, 9),
        )
        for j in range(rng.randint(0, count * 3))
    ]
    return pathway(steps, links)


@pytest.mark.parametrize("seed", range(60))
def test_random_pathways_keep_the_guarantees(seed):
    check_geometry(_random_pathway(seed))
