"""Small pathways as plain data, shared by the graph and drawing tests."""

from pathways.graph import Link, PathwayData, ServiceState, Step


def step(key, category, entry=False, organisation="ORG"):
    return Step(
        id=f"id-{key}",
        key=key,
        service_id=f"svc-{key}",
        service_name=f"Service {key}",
        organisation=organisation,
        category=category,
        is_entry=entry,
    )


def link(key, source, target, condition=None, preference=1, note=""):
    return Link(f"id-{key}", key, f"id-{source}", f"id-{target}", condition or {}, preference, note)


def pathway(steps, links, **fields):
    return PathwayData(
        id="p1",
        name="Test pathway",
        theme="gbv",
        status="draft",
        version=1,
        steps=tuple(steps),
        links=tuple(links),
        **fields,
    )


# desk ─▶ gbv ─▶ cmr (urgent only, pref 1)
#              ├▶ health (pref 2) ─▶ legal ─▶ gbv (back referral)
#              └▶ shelter (female, pref 3)
HEALTHY = pathway(
    [
        step("desk", "protection_desk", entry=True),
        step("gbv", "gbv_case_management"),
        step("cmr", "health"),
        step("clinic", "health"),
        step("legal", "legal_aid"),
        step("shelter", "safe_shelter"),
    ],
    [
        link("l1", "desk", "gbv"),
        link("l2", "gbv", "cmr", {"urgency": {"in": ["emergency", "urgent"]}}, 1),
        link("l3", "gbv", "clinic", {}, 2),
        link("l4", "gbv", "shelter", {"sex": {"in": ["female"]}}, 3),
        link("l5", "clinic", "legal"),
        link("l6", "legal", "gbv", {}, 1, "back to the caseworker"),
    ],
)


OPEN = {f"svc-{s.key}": ServiceState() for s in HEALTHY.steps}
