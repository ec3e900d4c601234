"""pathways.drawing on plain data: the JSON document, GraphML, DOT, SVG and the layout (no database)."""

import io
import re
import xml.etree.ElementTree as ET

import networkx as nx

from pathways import drawing
from pathways.graph import ServiceState, Step
from tests.pathways.plain_data import HEALTHY, OPEN, pathway, step

SVG = "{http://www.w3.org/2000/svg}"


# Exports -----------------------------------------------------------------------------------


def test_json_export_has_stable_keys_and_named_services():
    document = drawing.export_document(HEALTHY)
    assert document["format"] == "referral-hub/pathway"
    assert [s["key"] for s in document["steps"]] == sorted(s.key for s in HEALTHY.steps)
    assert document["links"][5] == {
        "key": "l6",
        "from": "legal",
        "to": "gbv",
        "condition": {},
        "preference": 1,
        "note": "back to the caseworker",
    }
    assert drawing.export_document(HEALTHY) == document


def test_graphml_export_reads_back_with_networkx():
    states = OPEN | {"svc-shelter": ServiceState(is_active=False)}
    text = drawing.export_graphml(HEALTHY, states)
    parsed = nx.read_graphml(io.StringIO(text), force_multigraph=True)
    assert set(parsed.nodes) == {s.key for s in HEALTHY.steps}
    assert parsed.nodes["desk"]["entry"] is True
    assert parsed.nodes["shelter"]["active"] is False
    assert parsed.number_of_edges() == len(HEALTHY.links)
    assert parsed.edges["gbv", "cmr", "l2"]["condition"] == '{"urgency": {"in": ["emergency", "urgent"]}}'


def test_dot_export_is_structurally_sound():
    text = drawing.export_dot(HEALTHY, OPEN | {"svc-shelter": ServiceState(is_active=False)})
    assert text.startswith('digraph "Test pathway" {') and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    nodes = re.findall(r'^  "([^"]+)" \[label=', text, re.MULTILINE)
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)" \[id="([^"]+)"', text, re.MULTILINE)
    assert sorted(nodes) == sorted(s.key for s in HEALTHY.steps)
    assert ("legal", "gbv", "l6") in edges and len(edges) == 6
    assert re.search(r'"desk" \[.*peripheries=2', text)
    assert re.search(r'"shelter" \[label="[^"]*INACTIVE", .*dashed', text)


def test_dot_quotes_awkward_names():
    data = pathway([Step("1", "a", "s", 'The "best" \\ desk', "ORG", "x", True)], [])
    assert '"The \\"best\\" \\\\ desk\\nORG · x"' in drawing.export_dot(data)


def test_svg_is_valid_xml_with_names_acronyms_and_marks():
    states = OPEN | {
        "svc-shelter": ServiceState(is_active=False),
        "svc-cmr": ServiceState(is_accepting=False),
    }
    data = pathway(
        [*HEALTHY.steps[:-1], step("shelter", "safe_shelter", organisation="W&G <NGO>")], HEALTHY.links
    )
    root = ET.fromstring(drawing.export_svg(data, states))
    assert root.tag == f"{SVG}svg"
    groups = {g.get("data-key"): g for g in root.iter(f"{SVG}g") if g.get("data-key")}
    assert set(groups) == {s.key for s in HEALTHY.steps}

    def texts(g):
        return {t.get("class"): t.text for t in g.iter(f"{SVG}text")}

    assert texts(groups["desk"])["service"] == "Service desk"
    assert texts(groups["desk"])["organisation"].startswith("ORG")
    assert "entry" in groups["desk"].get("class") and texts(groups["desk"])["tags"] == "ENTRY"
    assert "inactive" in groups["shelter"].get("class") and "INACTIVE" in texts(groups["shelter"])["tags"]
    assert texts(groups["shelter"])["organisation"].startswith("W&G <NGO>")
    assert texts(groups["cmr"])["tags"] == "NOT ACCEPTING"
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "link"]) == len(HEALTHY.links)


def test_layout_puts_entries_first_and_follows_stored_coordinates_when_complete():
    coords = drawing.layout(HEALTHY)
    assert coords["id-desk"][0] < coords["id-gbv"][0] < coords["id-clinic"][0] < coords["id-legal"][0]
    # stored coordinates give the columns and the rows; the grid keeps the routing's guarantees
    placed = pathway(
        [
            Step("1", "a", "s1", "S", "O", "c", True, 500, 20),
            Step("2", "b", "s2", "S", "O", "c", False, 10, 300),
            Step("3", "c", "s3", "S", "O", "c", False, 40, 20),
        ],
        [],
    )
    coords = drawing.layout(placed)
    assert coords["3"][0] == coords["2"][0] < coords["1"][0]
    assert coords["3"][1] < coords["2"][1]
