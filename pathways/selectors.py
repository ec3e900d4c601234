"""Reads for pathways: visibility, the plain-data adapter for ``pathways.graph``, the graph cache,
and the questions an officer asks (next steps, alternatives, routes) answered with services.

Both APIs and the referral code call these; nothing here writes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, connections, router
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, prefetch_related_objects

from common.errors import NotFound, ServiceError
from partners.models import Membership, Organisation, Service, ServiceCategory
from partners.selectors import is_platform_admin, service_list_visible
from pathways import drawing, graph
from pathways.conditions import ConditionError, condition_matches, validate_profile
from pathways.models import Pathway, PathwayLink, PathwayStep

# Visibility --------------------------------------------------------------------------------


def pathway_list_visible(*, user: AbstractBaseUser) -> QuerySet[Pathway]:
    """Platform admins see every version; any other signed-in user sees published versions only."""
    queryset = Pathway.objects.select_related("operation")
    if is_platform_admin(user):
        return queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    return queryset.filter(status=Pathway.Status.PUBLISHED)


def steps_prefetch() -> Prefetch:
    """A pathway's steps with their service and organisation: one query for any number of pathways."""
    return Prefetch(
        "steps",
        queryset=PathwayStep.objects.select_related(
            "service", "service__organisation", "service__category"
        ).order_by("key"),
    )


def links_prefetch() -> Prefetch:
    """A pathway's links with both steps' services: one query for any number of pathways."""
    return Prefetch(
        "links",
        queryset=PathwayLink.objects.select_related(
            "from_step__service__organisation",
            "from_step__service__category",
            "to_step__service__organisation",
            "to_step__service__category",
        ).order_by("preference", "key"),
    )


def with_steps_and_links(queryset: QuerySet[Pathway]) -> QuerySet[Pathway]:
    """Prefetch a pathway's steps (with service and organisation) and links: three queries in all."""
    return queryset.prefetch_related(steps_prefetch(), links_prefetch())


def pathway_get_visible(*, user: AbstractBaseUser, pathway_id) -> Pathway:
    """The pathway if the caller may see it; a draft looks exactly like a missing pathway to partners."""
    try:
        return pathway_list_visible(user=user).get(pk=pathway_id)
    except (Pathway.DoesNotExist, ValueError, DjangoValidationError) as exc:  # malformed ids too
        raise NotFound("No such pathway.", code="pathway_not_found") from exc


# Plain data for the graph module -----------------------------------------------------------


def pathway_data(pathway: Pathway) -> graph.PathwayData:
    """The pathway's steps and links as plain data (two queries, whatever the size)."""
    rows = PathwayStep.objects.filter(pathway=pathway).values_list(
        "id",
        "key",
        "service_id",
        "service__name",
        "service__organisation__acronym",
        "service__category__code",
        "is_entry",
        "x",
        "y",
    )
    steps = tuple(
        graph.Step(
            id=str(step_id),
            key=key,
            service_id=str(service_id),
            service_name=service_name,
            organisation=acronym,
            category=category,
            is_entry=is_entry,
            x=x,
            y=y,
        )
        for step_id, key, service_id, service_name, acronym, category, is_entry, x, y in rows
    )
    links = tuple(
        graph.Link(
            id=str(link_id),
            key=key,
            source=str(source),
            target=str(target),
            condition=condition or {},
            preference=preference,
            note=note,
        )
        for link_id, key, source, target, condition, preference, note in PathwayLink.objects.filter(
            pathway=pathway
        ).values_list("id", "key", "from_step_id", "to_step_id", "condition", "preference", "note")
    )
    return graph.PathwayData(
        id=str(pathway.id),
        name=pathway.name,
        theme=pathway.theme,
        status=pathway.status,
        version=pathway.version,
        operation=pathway.operation.name,
        description=pathway.description,
        steps=steps,
        links=links,
    )


def services_with_state(service_ids: Iterable) -> dict[str, tuple[Service, graph.ServiceState]]:
    """Services and their current availability in one query (no per-organisation lookups).

    The organisation rule is the one of ``partners.selectors.organisation_can_receive_referrals``,
    evaluated for the whole batch: active, valid data-sharing agreement, an active focal point.
    """
    ids = {str(service_id) for service_id in service_ids}
    if not ids:
        return {}
    focal_point = Membership.objects.filter(
        organisation=OuterRef("organisation_id"), role=Membership.Role.FOCAL_POINT, is_active=True
    )
    result = {}
    for service in (
        Service.objects.filter(id__in=ids)
        .select_related("organisation", "category")
        .annotate(organisation_has_focal_point=Exists(focal_point))
    ):
        result[str(service.id)] = (service, service_state(service, service.organisation_has_focal_point))
    return result


def service_state(service: Service, organisation_has_focal_point: bool) -> graph.ServiceState:
    organisation: Organisation = service.organisation
    if not organisation.is_active:
        reason = "organisation_inactive"
    elif not organisation.has_valid_dsa():
        reason = "organisation_without_valid_dsa"
    elif not organisation_has_focal_point:
        reason = "organisation_without_focal_point"
    else:
        reason = None
    return graph.ServiceState(
        is_active=service.is_active,
        is_accepting=service.is_accepting_referrals,
        blocked_reason=reason,
        min_age=service.min_age,
        max_age=service.max_age,
        sexes=tuple(service.sexes or ()),
    )


def _states(loaded: Mapping[str, tuple[Service, graph.ServiceState]]) -> dict[str, graph.ServiceState]:
    return {service_id: state for service_id, (_, state) in loaded.items()}


# The graph cache ---------------------------------------------------------------------------
# Published and archived versions never change, so their graph is built once per process and
# kept under (pathway id, version). Drafts change with every edit and are always built fresh.
# A cached graph is served only while the status read with the question is the status it was
# built with (another worker may have archived the version). What belongs to the services — open
# or not, eligibility, organisation, and for alternatives their category — changes without a new
# version, so it is read per question; the names and categories inside the cached steps are the
# ones of publishing time, for drawings and exports.

GRAPH_CACHE_SIZE = 128
_graph_cache: OrderedDict[tuple[str, int], graph.PathwayGraph] = OrderedDict()
_graph_cache_lock = threading.Lock()


def pathway_graph(pathway: Pathway) -> graph.PathwayGraph:
    if pathway.status == Pathway.Status.DRAFT:
        return graph.PathwayGraph(pathway_data(pathway))
    key = (str(pathway.id), pathway.version)
    with _graph_cache_lock:
        cached = _graph_cache.get(key)
        if cached is not None and cached.data.status == pathway.status:
            _graph_cache.move_to_end(key)
            return cached
    built = graph.PathwayGraph(pathway_data(pathway))
    with _graph_cache_lock:
        _graph_cache[key] = built
        while len(_graph_cache) > GRAPH_CACHE_SIZE:
            _graph_cache.popitem(last=False)
    return built


def graph_cache_invalidate(pathway_id) -> None:
    with _graph_cache_lock:
        for key in [key for key in _graph_cache if key[0] == str(pathway_id)]:
            del _graph_cache[key]


def graph_cache_clear() -> None:
    with _graph_cache_lock:
        _graph_cache.clear()


# Questions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A service offered to a person, and how the pathway gets them there."""

    service: Service
    pathway: Pathway
    step_id: str
    link_id: str | None
    preference: int | None
    distance: int | None
    note: str = ""


def clean_profile(profile) -> dict:
    """The profile checked against the rule language; a 400 that names unknown or bad fields."""
    try:
        return validate_profile(profile)
    except ConditionError as exc:
        raise ServiceError(
            str(exc),
            code=exc.code,
            field="profile",
            extra={"problems": [problem.__dict__ for problem in exc.problems]},
        ) from exc


def _step_of(pg: graph.PathwayGraph, service_id) -> graph.Step:
    try:
        return pg.step_of(str(service_id))
    except graph.ServiceNotOnPathway as exc:
        raise ServiceError(str(exc), code="service_not_on_pathway", field="service") from exc


def _offers(pathway: Pathway, suggestions, loaded) -> list[Offer]:
    return [
        Offer(
            service=loaded[s.service_id][0],
            pathway=pathway,
            step_id=s.step_id,
            link_id=s.link_id,
            preference=s.preference,
            distance=s.distance,
            note=s.note,
        )
        for s in suggestions
    ]


def pathway_next_steps(*, pathway: Pathway, service_id, profile) -> list[Offer]:
    """Eligible, open next services from ``service_id`` in preference order (graph cached, 1 query)."""
    profile = clean_profile(profile)
    pg = pathway_graph(pathway)
    source = _step_of(pg, service_id)
    loaded = services_with_state(pg.steps[target].service_id for target in pg.graph.successors(source.id))
    return _offers(pathway, graph.next_steps(pg, source.service_id, profile, _states(loaded)), loaded)


def pathway_route(*, pathway: Pathway, service_id, target_category: str, profile) -> list[Offer] | None:
    profile = clean_profile(profile)
    pg = pathway_graph(pathway)
    source = _step_of(pg, service_id)
    loaded = services_with_state(pg.service_ids())
    hops = graph.route(pg, source.service_id, target_category, profile, _states(loaded))
    return None if hops is None else _offers(pathway, hops, loaded)


def pathway_alternatives(*, service: Service, profile, pathway: Pathway | None = None) -> list[Offer]:
    """Other open, eligible services of the same category, nearest first.

    First on ``pathway`` (or, without one, on every published pathway of the operation that has the
    service); failing that, on any published pathway of the operation.

    The graphs come from the cache; the candidates — services of the category on those pathways —
    are read from the directory with their state in one query, so a service that changed category,
    closed, or changed its eligibility since the version was published is seen as it is now. With
    ``pathway`` given and an offer on it, that is the only query.
    """
    profile = clean_profile(profile)
    if pathway is not None:
        offers = _alternatives_on([(pathway, pathway_graph(pathway))], service=service, profile=profile)
        if offers:
            return offers
        graphs = [(p, pathway_graph(p)) for p in _published_of(service) if p.id != pathway.id]
        return _alternatives_on(graphs, service=service, profile=profile)
    graphs = [(p, pathway_graph(p)) for p in _published_of(service)]
    first = [(p, pg) for p, pg in graphs if str(service.id) in pg.by_service]
    rest = [(p, pg) for p, pg in graphs if str(service.id) not in pg.by_service]
    loaded = _candidates(service, [p for p, _ in graphs])
    return _alternatives_on(first, service=service, profile=profile, loaded=loaded) or _alternatives_on(
        rest, service=service, profile=profile, loaded=loaded
    )


def _published_of(service: Service) -> list[Pathway]:
    return list(
        Pathway.objects.filter(
            operation_id=service.organisation.operation_id, status=Pathway.Status.PUBLISHED
        )
        .select_related("operation")
        .order_by("name", "id")
    )


def _candidates(service: Service, pathways: list[Pathway]) -> dict[str, tuple[Service, graph.ServiceState]]:
    """The other services of ``service``'s category on these pathways, as the directory has them now,
    each with its organisation and current state, in one query.

    A closed service is never offered, so the query leaves out the inactive, the not accepting and
    those of inactive organisations (the graph code treats a service without a state as closed);
    the rest of the rule is ``service_state``'s. Every question asks this, so the SQL is written
    once per process (``_candidate_sql``) instead of compiled from a queryset each time, which was
    most of the question's cost; the rows become model instances as the ORM would make them.
    """
    if not pathways:
        return {}
    sql, fields, expressions = _candidate_sql()
    alias = router.db_for_read(Service)  # where a queryset of services would read
    compiler = Service.objects.none().query.get_compiler(using=alias)
    converters = compiler.get_converters(expressions)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            sql,
            [
                Membership.Role.FOCAL_POINT.value,
                service.category_id,
                service.id,
                [pathway.id for pathway in pathways],
            ],
        )
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    split = len(fields[Service])
    result = {}
    for row in rows:
        candidate = Service.from_db(alias, fields[Service], row[:split])
        candidate.organisation = Organisation.from_db(alias, fields[Organisation], row[split:-1])
        candidate.category = service.category  # the category asked about, the same for every row
        result[str(candidate.id)] = (candidate, service_state(candidate, row[-1]))
    return result


_CANDIDATE_SQL = """
SELECT {columns}, EXISTS (
    SELECT 1 FROM {membership} m
    WHERE m.{membership_organisation} = o.{organisation_id} AND m.{membership_role} = %s
      AND m.{membership_is_active}
)
FROM {service} s JOIN {organisation} o ON o.{organisation_id} = s.{service_organisation}
WHERE s.{service_category} = %s AND s.{service_id} <> %s
  AND s.{service_is_active} AND s.{service_is_accepting_referrals} AND o.{organisation_is_active}
  AND s.{service_id} IN (SELECT {step_service} FROM {step} WHERE {step_pathway} = ANY(%s))
"""


@cache
def _candidate_sql():
    """The candidates' query: every column of the service and of its organisation, then whether the
    organisation has an active focal point; names from the models' metadata, values as parameters."""
    quote = connection.ops.quote_name
    models = {"service": Service, "organisation": Organisation, "membership": Membership, "step": PathwayStep}
    names = {prefix: quote(model._meta.db_table) for prefix, model in models.items()}
    for prefix, model, field_names in (
        ("service", Service, ("id", "organisation", "category", "is_active", "is_accepting_referrals")),
        ("organisation", Organisation, ("id", "is_active")),
        ("membership", Membership, ("organisation", "role", "is_active")),
        ("step", PathwayStep, ("service", "pathway")),
    ):
        for name in field_names:
            names[f"{prefix}_{name}"] = quote(model._meta.get_field(name).column)
    read = {Service: "s", Organisation: "o"}
    fields = {model: list(model._meta.concrete_fields) for model in read}
    names["columns"] = ", ".join(
        f"{alias}.{quote(field.column)}" for model, alias in read.items() for field in fields[model]
    )
    attnames = {model: [field.attname for field in fields[model]] for model in read}
    # the columns as expressions, for the ORM's converters of each field (applied per query)
    expressions = [field.get_col(model._meta.db_table) for model in read for field in fields[model]]
    return _CANDIDATE_SQL.format(**names), attnames, expressions


def _alternatives_on(graphs, *, service: Service, profile: dict, loaded=None) -> list[Offer]:
    """The nearest offer per service over ``graphs``, in the order the person is offered them."""
    if not graphs:
        return []
    if loaded is None:
        loaded = _candidates(service, [p for p, _ in graphs])
    states = _states(loaded)
    offers: dict[str, Offer] = {}
    for candidate_pathway, pg in graphs:
        suggestions = graph.alternatives(
            pg, str(service.id), profile, states, category=service.category.code, among=loaded
        )
        for offer in _offers(candidate_pathway, suggestions, loaded):
            known = offers.get(str(offer.service.id))
            if known is None or _nearness(offer) < _nearness(known):
                offers[str(offer.service.id)] = offer
    return sorted(offers.values(), key=lambda o: (*_nearness(o), o.service.name))


def _nearness(offer: Offer) -> tuple:
    return (offer.distance is None, offer.distance or 0, offer.preference or 0)


# For referrals -----------------------------------------------------------------------------


def published_link_get(*, link_id) -> PathwayLink:
    """A link of a *published* pathway, with its steps' services; NotFound otherwise."""
    link = (
        PathwayLink.objects.select_related("pathway", "from_step__service", "to_step__service")
        .filter(pk=link_id, pathway__status=Pathway.Status.PUBLISHED)
        .first()
    )
    if link is None:
        raise NotFound("No such link on a published pathway.", code="pathway_link_not_found", field="link")
    return link


def link_admits(*, link: PathwayLink, from_service_id, to_service_id=None, profile: Mapping) -> str | None:
    """``None`` if a referral may follow ``link`` from that service for this profile, else why not."""
    if str(link.from_step.service_id) != str(from_service_id):
        return "link_not_from_service"
    if to_service_id is not None and str(link.to_step.service_id) != str(to_service_id):
        return "link_not_to_service"
    if not condition_matches(link.condition, profile):
        return "link_condition_not_met"
    return None


# Validation and export ---------------------------------------------------------------------


def pathway_problems(pathway: Pathway) -> list[graph.Problem]:
    """Every problem of the pathway (three queries: steps, links, services with their state)."""
    data = pathway_data(pathway)
    loaded = services_with_state({step.service_id for step in data.steps})
    return graph.validate(data, _states(loaded))


EXPORT_FORMATS = {
    "json": "application/json",
    "graphml": "application/graphml+xml",
    "dot": "text/vnd.graphviz",
    "svg": "image/svg+xml",
}


def pathway_export(*, pathway: Pathway, export_format: str) -> str | dict:
    data = pathway_data(pathway)
    if export_format == "json":
        return drawing.export_document(data)
    states = _states(services_with_state({step.service_id for step in data.steps}))
    if export_format == "graphml":
        return drawing.export_graphml(data, states)
    if export_format == "dot":
        return drawing.export_dot(data, states)
    if export_format == "svg":
        return drawing.export_svg(data, states)
    raise ServiceError(
        f"Unknown export format {export_format!r}. Allowed: {', '.join(EXPORT_FORMATS)}.",
        code="unknown_export_format",
        field="format",
    )


# For the officer's send flow ---------------------------------------------------------------


def need_list(*, user: AbstractBaseUser) -> QuerySet[ServiceCategory]:
    """The needs a person can be referred for: categories of the services the caller's directory shows."""
    services = service_list_visible(user=user).filter(category_id=OuterRef("pk"))
    return ServiceCategory.objects.filter(Exists(services)).order_by("name")


def pathway_list_for_need(
    *, user: AbstractBaseUser, organisation: Organisation, category_code: str
) -> QuerySet[Pathway]:
    """Published pathways of the organisation's operation that reach a service of the need's category
    and on which one of the organisation's own services stands (where its referrals start)."""
    own = PathwayStep.objects.filter(pathway_id=OuterRef("pk"), service__organisation_id=organisation.id)
    need = PathwayStep.objects.filter(pathway_id=OuterRef("pk"), service__category__code=category_code)
    return (
        pathway_list_visible(user=user)
        .filter(status=Pathway.Status.PUBLISHED, operation_id=organisation.operation_id)
        .filter(Exists(own), Exists(need))
        .order_by("name", "id")
    )


def pathway_start_of(*, pathway: Pathway, organisation: Organisation) -> Service | None:
    """The organisation's service on the pathway that its referrals start from (an entry first)."""
    step = (
        PathwayStep.objects.filter(pathway=pathway, service__organisation_id=organisation.id)
        .select_related("service", "service__organisation", "service__category")
        .order_by("-is_entry", "key")
        .first()
    )
    return step.service if step else None


def pathway_link_to(
    *, pathway: Pathway, from_service: Service, to_service: Service, profile
) -> PathwayLink | None:
    """The link of the pathway from one service to another: the most preferred one whose condition the
    person meets, else the most preferred one (the send then says why the person does not meet it)."""
    links = list(
        PathwayLink.objects.filter(
            pathway=pathway, from_step__service_id=from_service.id, to_step__service_id=to_service.id
        )
        .select_related("from_step__service", "to_step__service")
        .order_by("preference", "key")
    )
    profile = clean_profile(profile)
    return next(
        (link for link in links if condition_matches(link.condition, profile)), links[0] if links else None
    )


# The console's map, versions and comparison -----------------------------------------------


def step_get(*, pathway: Pathway, step_id) -> PathwayStep:
    """A step of this pathway (its service and organisation with it); NotFound otherwise."""
    try:
        return PathwayStep.objects.select_related("service__organisation").get(pathway=pathway, pk=step_id)
    except (PathwayStep.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("No such step on this pathway.", code="pathway_step_not_found") from exc


def link_get(*, pathway: Pathway, link_id) -> PathwayLink:
    """A link of this pathway; NotFound otherwise."""
    try:
        return PathwayLink.objects.select_related("from_step", "to_step").get(pathway=pathway, pk=link_id)
    except (PathwayLink.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise NotFound("No such link on this pathway.", code="pathway_link_not_found") from exc


def pathway_versions(*, user: AbstractBaseUser, pathway: Pathway) -> QuerySet[Pathway]:
    """The versions of the pathway's family the caller may see, newest first."""
    return pathway_list_visible(user=user).filter(family=pathway.family).order_by("-version")


@dataclass(frozen=True)
class MapStep:
    step: graph.Step
    service: Service  # with its organisation, category, contacts and phones
    state: graph.ServiceState
    links_out: tuple[graph.Link, ...]
    links_in: tuple[graph.Link, ...]


@dataclass(frozen=True)
class PathwayMap:
    data: graph.PathwayData
    svg: str
    steps: tuple[MapStep, ...]  # in the order of their keys
    by_id: dict[str, MapStep]


def pathway_map(*, pathway: Pathway, route: Iterable[str] = (), step_href=None, words=None) -> PathwayMap:
    """The drawing and what each step's panel shows: the service as the directory has it now (open
    or not, its contacts), its links out and in. ``route`` (step and link ids, in order) is drawn
    highlighted. Five queries whatever the size."""
    data = pathway_data(pathway)
    loaded = services_with_state({step.service_id for step in data.steps})
    prefetch_related_objects([service for service, _ in loaded.values()], "contacts__phones", "phones")
    outs: dict[str, list[graph.Link]] = {step.id: [] for step in data.steps}
    ins: dict[str, list[graph.Link]] = {step.id: [] for step in data.steps}
    for link in sorted(data.links, key=lambda item: (item.preference, item.key)):
        outs[link.source].append(link)
        ins[link.target].append(link)
    steps = tuple(
        MapStep(step, *loaded[step.service_id], tuple(outs[step.id]), tuple(ins[step.id]))
        for step in sorted(data.steps, key=lambda item: item.key)
    )
    svg = drawing.export_svg(data, _states(loaded), step_href=step_href, route=tuple(route), words=words)
    return PathwayMap(data=data, svg=svg, steps=steps, by_id={item.step.id: item for item in steps})


def route_items(offers: list[Offer], from_step_id: str) -> tuple[str, ...]:
    """The ids a route goes through, in order: the start step, then each link and its step."""
    items = [from_step_id]
    for offer in offers:
        if offer.link_id:
            items.append(offer.link_id)
        items.append(offer.step_id)
    return tuple(items)


@dataclass(frozen=True)
class Change:
    key: str
    old: graph.Step | graph.Link | None
    new: graph.Step | graph.Link | None
    fields: tuple[str, ...] = ()  # what changed, for a step or link in both versions


@dataclass(frozen=True)
class Comparison:
    old: graph.PathwayData
    new: graph.PathwayData
    steps: tuple[Change, ...]  # added, removed or changed, by key
    links: tuple[Change, ...]

    def of(self, changes: tuple[Change, ...], kind: str) -> list[Change]:
        """``added``, ``removed`` or ``changed``."""
        if kind == "added":
            return [c for c in changes if c.old is None]
        if kind == "removed":
            return [c for c in changes if c.new is None]
        return [c for c in changes if c.old is not None and c.new is not None]


def compare_data(old: graph.PathwayData, new: graph.PathwayData) -> Comparison:
    """What changed from ``old`` to ``new``, matched by the keys that versions keep."""

    def step_fields(step: graph.Step) -> dict:
        return {"service": step.service_id, "entry": step.is_entry}

    def link_fields(link: graph.Link, keys: Mapping[str, str]) -> dict:
        return {
            "from": keys.get(link.source),
            "to": keys.get(link.target),
            "condition": link.condition,
            "preference": link.preference,
            "note": link.note,
        }

    def diff(before: dict, after: dict, old_fields, new_fields) -> list[Change]:
        changes = []
        for key in sorted(set(before) | set(after)):
            a, b = before.get(key), after.get(key)
            if a is None or b is None:
                changes.append(Change(key, a, b))
                continue
            was, now = old_fields(a), new_fields(b)
            if changed := tuple(name for name in was if was[name] != now[name]):
                changes.append(Change(key, a, b, changed))
        return changes

    old_keys = {step.id: step.key for step in old.steps}
    new_keys = {step.id: step.key for step in new.steps}
    steps = diff({s.key: s for s in old.steps}, {s.key: s for s in new.steps}, step_fields, step_fields)
    links = diff(
        {link.key: link for link in old.links},
        {link.key: link for link in new.links},
        lambda link: link_fields(link, old_keys),
        lambda link: link_fields(link, new_keys),
    )
    return Comparison(old=old, new=new, steps=tuple(steps), links=tuple(links))


def pathway_compare(*, old: Pathway, new: Pathway) -> Comparison:
    """Two versions compared (four queries); the caller fetched both through the visibility selector."""
    return compare_data(pathway_data(old), pathway_data(new))
