"""Writes for pathways: drafting, publishing, versioning, importing. Only platform admins write.

Published and archived versions are immutable: every edit below starts with ``_require_draft``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from common.errors import Conflict, PermissionDenied, Problem, ServiceError
from common.saving import save_with_history
from partners.models import Operation, Service
from partners.selectors import is_platform_admin
from pathways import drawing, graph
from pathways.conditions import ConditionError, condition_problems, validate_condition
from pathways.models import Pathway, PathwayLink, PathwayStep
from pathways.selectors import graph_cache_invalidate, pathway_problems

MAX_KEY = 64
KEY_PATTERN = re.compile(rf"^[-a-zA-Z0-9_]{{1,{MAX_KEY}}}$")
PATHWAY_EDITABLE_FIELDS = ("name", "theme", "description")
STEP_EDITABLE_FIELDS = ("key", "is_entry", "x", "y")
LINK_EDITABLE_FIELDS = ("key", "from_step", "to_step", "condition", "preference", "note")
MAX_PREFERENCE = 1000
MAX_NOTE = 500
MAX_NAME = 200


def _require_platform_admin(actor) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins may change pathways.", code="platform_admin_required")


def _require_draft(pathway: Pathway) -> None:
    if pathway.status != Pathway.Status.DRAFT:
        raise Conflict(
            f"Version {pathway.version} of {pathway.name!r} is {pathway.status} and cannot be changed; "
            "make a new version.",
            code="pathway_not_editable",
        )


def _locked_draft(pathway: Pathway) -> Pathway:
    # lock: a publish running at the same moment must not freeze a half-edited graph
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    _require_draft(pathway)
    return pathway


# Each rule on a single value has a twin that returns the problem instead of raising: the services
# below raise it (``_clean_*``), ``pathway_import`` collects it, so both say the same thing.


def key_problem(key, field: str = "key") -> Problem | None:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        message = f"A key is 1 to {MAX_KEY} letters, digits, '-' or '_'."
        return Problem(field=field, code="invalid_key", message=message)
    return None


def key_taken_problem(key: str, field: str = "key") -> Problem:
    return Problem(field=field, code="duplicate_key", message=f"The key {key!r} is taken in this pathway.")


def preference_problem(value, field: str = "preference") -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PREFERENCE:
        message = f"The preference is a whole number from 1 to {MAX_PREFERENCE}."
        return Problem(field=field, code="invalid_preference", message=message)
    return None


def theme_problem(theme, field: str = "theme") -> Problem | None:
    if theme not in Pathway.Theme.values:
        message = f"Unknown theme {theme!r}. Allowed: {', '.join(Pathway.Theme.values)}."
        return Problem(field=field, code="invalid_theme", message=message)
    return None


def name_problem(name, field: str = "name") -> Problem | None:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        return Problem(field=field, code="invalid_name", message=f"A name is 1 to {MAX_NAME} characters.")
    return None


def note_problem(note, field: str = "note") -> Problem | None:
    """``None`` is no note."""
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        message = f"A note is text of at most {MAX_NOTE} characters."
        return Problem(field=field, code="invalid_note", message=message)
    return None


def _raise(problem: Problem | None) -> None:
    if problem is not None:
        raise problem.error()


def _clean_condition(condition, field: str = "condition") -> dict:
    # the twin is pathways.conditions.condition_problems, which validate_condition raises from
    try:
        return validate_condition(condition)
    except ConditionError as exc:
        raise ServiceError(
            str(exc),
            code=exc.code,
            field=field,
            extra={"problems": [problem.__dict__ for problem in exc.problems]},
        ) from exc


def _clean_key(key: str, field: str = "key") -> str:
    _raise(key_problem(key, field))
    return key


def _clean_preference(value, field: str = "preference") -> int:
    _raise(preference_problem(value, field))
    return value


def _clean_theme(theme) -> str:
    _raise(theme_problem(theme))
    return theme


def _clean_name(name) -> str:
    _raise(name_problem(name))
    return name.strip()


def _clean_note(note) -> str:
    _raise(note_problem(note))
    return note or ""


# Pathways ----------------------------------------------------------------------------------


@transaction.atomic
def pathway_create(*, actor, operation: Operation, name: str, theme: str, description: str = "") -> Pathway:
    _require_platform_admin(actor)
    name = _clean_name(name)
    if Pathway.objects.filter(operation=operation, name__iexact=name).exists():
        raise Conflict(
            f"The operation already has a pathway named {name!r}; make a new version of it instead.",
            code="duplicate_pathway_name",
            field="name",
        )
    pathway = Pathway(operation=operation, name=name, theme=_clean_theme(theme), description=description)
    save_with_history(pathway, actor, validate=False)
    return pathway


@transaction.atomic
def pathway_update(*, actor, pathway: Pathway, **fields) -> Pathway:
    _require_platform_admin(actor)
    pathway = _locked_draft(pathway)
    if unexpected := set(fields) - set(PATHWAY_EDITABLE_FIELDS):
        raise ServiceError(f"Cannot change: {', '.join(sorted(unexpected))}.", code="field_not_editable")
    if "name" in fields:
        fields["name"] = _clean_name(fields["name"])
        taken = (
            Pathway.objects.filter(operation_id=pathway.operation_id, name__iexact=fields["name"])
            .exclude(family=pathway.family)
            .exists()
        )
        if taken:
            raise Conflict(
                f"The operation already has a pathway named {fields['name']!r}.",
                code="duplicate_pathway_name",
                field="name",
            )
    if "theme" in fields:
        _clean_theme(fields["theme"])
    for key, value in fields.items():
        setattr(pathway, key, value)
    save_with_history(pathway, actor, validate=False)
    return pathway


@transaction.atomic
def pathway_delete(*, actor, pathway: Pathway) -> None:
    _require_platform_admin(actor)
    pathway = _locked_draft(pathway)
    pathway._history_user = actor
    pathway.delete()


@transaction.atomic
def pathway_publish(*, actor, pathway: Pathway) -> Pathway:
    """Publish a draft after validation; the version published before it is archived.

    Refuses with every validation error at once (``extra["problems"]``); ``info`` problems such as
    cycles do not block.
    """
    _require_platform_admin(actor)
    # lock every version of the family: two admins publishing at once get one success
    family = list(Pathway.objects.select_for_update().filter(family=pathway.family).order_by("version"))
    pathway = next(version for version in family if version.pk == pathway.pk)
    _require_draft(pathway)
    problems = pathway_problems(pathway)
    if graph.has_errors(problems):
        errors = [problem for problem in problems if problem.severity == "error"]
        raise ServiceError(
            f"The pathway has {len(errors)} problem(s) to fix before publishing: "
            + "; ".join(problem.message for problem in errors[:5])
            + (" …" if len(errors) > 5 else ""),
            code="pathway_invalid",
            extra={"problems": [problem.as_dict() for problem in problems]},
        )
    now = timezone.now()
    for previous in family:
        if previous.status == Pathway.Status.PUBLISHED:
            previous.status = Pathway.Status.ARCHIVED
            save_with_history(previous, actor, validate=False)
            graph_cache_invalidate(previous.pk)
    pathway.status = Pathway.Status.PUBLISHED
    pathway.published_at = now
    pathway.published_by = actor
    save_with_history(pathway, actor, validate=False)
    graph_cache_invalidate(pathway.pk)
    return pathway


@transaction.atomic
def pathway_archive(*, actor, pathway: Pathway) -> Pathway:
    """Withdraw a published version without a successor (referrals keep pointing at it)."""
    _require_platform_admin(actor)
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    if pathway.status != Pathway.Status.PUBLISHED:
        raise Conflict("Only a published version can be archived.", code="pathway_not_published")
    pathway.status = Pathway.Status.ARCHIVED
    save_with_history(pathway, actor, validate=False)
    graph_cache_invalidate(pathway.pk)
    return pathway


def _copy_graph(*, source: Pathway, target: Pathway, actor) -> None:
    steps = list(PathwayStep.objects.filter(pathway=source))
    links = list(PathwayLink.objects.filter(pathway=source))
    new_steps = {
        step.pk: PathwayStep(
            pathway=target,
            key=step.key,
            service_id=step.service_id,
            is_entry=step.is_entry,
            x=step.x,
            y=step.y,
        )
        for step in steps
    }
    bulk_create_with_history(list(new_steps.values()), PathwayStep, default_user=actor)
    bulk_create_with_history(
        [
            PathwayLink(
                pathway=target,
                key=link.key,
                from_step=new_steps[link.from_step_id],
                to_step=new_steps[link.to_step_id],
                condition=link.condition,
                preference=link.preference,
                note=link.note,
            )
            for link in links
        ],
        PathwayLink,
        default_user=actor,
    )


@transaction.atomic
def pathway_new_version(*, actor, pathway: Pathway) -> Pathway:
    """Copy a version (steps, links, keys) into a new draft with the next version number."""
    _require_platform_admin(actor)
    family = list(Pathway.objects.select_for_update().filter(family=pathway.family).order_by("version"))
    if draft := next((p for p in family if p.status == Pathway.Status.DRAFT), None):
        raise Conflict(
            f"Version {draft.version} of {draft.name!r} is already a draft; edit that one.",
            code="draft_exists",
            extra={"draft_id": str(draft.pk)},
        )
    source = next(version for version in family if version.pk == pathway.pk)
    copy = Pathway(
        family=source.family,
        operation_id=source.operation_id,
        name=source.name,
        theme=source.theme,
        description=source.description,
        version=max(p.version for p in family) + 1,
    )
    save_with_history(copy, actor, validate=False)
    _copy_graph(source=source, target=copy, actor=actor)
    return copy


# Steps -------------------------------------------------------------------------------------


def _free_step_key(pathway: Pathway, service: Service) -> str:
    base = slugify(f"{service.organisation.acronym}-{service.name}")[:56] or "step"
    taken = set(
        PathwayStep.objects.filter(pathway=pathway, key__startswith=base).values_list("key", flat=True)
    )
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


@transaction.atomic
def step_add(
    *,
    actor,
    pathway: Pathway,
    service: Service,
    is_entry: bool = False,
    key: str | None = None,
    x: float | None = None,
    y: float | None = None,
) -> PathwayStep:
    _require_platform_admin(actor)
    pathway = _locked_draft(pathway)
    if service.organisation.operation_id != pathway.operation_id:
        raise ServiceError(
            "The service belongs to another operation.", code="service_outside_operation", field="service"
        )
    if PathwayStep.objects.filter(pathway=pathway, service=service).exists():
        raise Conflict(
            "The service is already a step of this pathway.", code="duplicate_step", field="service"
        )
    key = _clean_key(key) if key else _free_step_key(pathway, service)
    if PathwayStep.objects.filter(pathway=pathway, key=key).exists():
        raise key_taken_problem(key).error()
    step = PathwayStep(pathway=pathway, service=service, is_entry=is_entry, key=key, x=x, y=y)
    save_with_history(step, actor, validate=False)
    return step


@transaction.atomic
def step_update(*, actor, step: PathwayStep, **fields) -> PathwayStep:
    _require_platform_admin(actor)
    _locked_draft(step.pathway)
    if unexpected := set(fields) - set(STEP_EDITABLE_FIELDS):
        raise ServiceError(f"Cannot change: {', '.join(sorted(unexpected))}.", code="field_not_editable")
    if "key" in fields:
        _clean_key(fields["key"])
        if (
            PathwayStep.objects.filter(pathway_id=step.pathway_id, key=fields["key"])
            .exclude(pk=step.pk)
            .exists()
        ):
            raise key_taken_problem(fields["key"]).error()
    for name, value in fields.items():
        setattr(step, name, value)
    save_with_history(step, actor, validate=False)
    return step


@transaction.atomic
def step_remove(*, actor, step: PathwayStep) -> None:
    """Remove a step and the links that touch it."""
    _require_platform_admin(actor)
    _locked_draft(step.pathway)
    for link in PathwayLink.objects.filter(
        pathway_id=step.pathway_id, from_step=step
    ) | PathwayLink.objects.filter(pathway_id=step.pathway_id, to_step=step):
        link._history_user = actor
        link.delete()
    step._history_user = actor
    step.delete()


# Links -------------------------------------------------------------------------------------


def _free_link_key(pathway: Pathway) -> str:
    numbers = [
        int(key[1:])
        for key in PathwayLink.objects.filter(pathway=pathway, key__regex=r"^l[0-9]+$").values_list(
            "key", flat=True
        )
    ]
    return f"l{max(numbers, default=0) + 1}"


def _check_steps(pathway: Pathway, *steps: PathwayStep) -> None:
    for step in steps:
        if step.pathway_id != pathway.pk:
            raise ServiceError(
                "Both ends of a link must be steps of the same pathway.",
                code="step_outside_pathway",
                field="to_step",
            )


@transaction.atomic
def link_add(
    *,
    actor,
    pathway: Pathway,
    from_step: PathwayStep,
    to_step: PathwayStep,
    condition: Mapping | None = None,
    preference: int = 1,
    note: str = "",
    key: str | None = None,
) -> PathwayLink:
    """Add a link. Self-loops and duplicates are accepted in a draft and reported by validation."""
    _require_platform_admin(actor)
    pathway = _locked_draft(pathway)
    _check_steps(pathway, from_step, to_step)
    condition = _clean_condition(condition)
    key = _clean_key(key) if key else _free_link_key(pathway)
    if PathwayLink.objects.filter(pathway=pathway, key=key).exists():
        raise key_taken_problem(key).error()
    link = PathwayLink(
        pathway=pathway,
        from_step=from_step,
        to_step=to_step,
        condition=condition,
        preference=_clean_preference(preference),
        note=_clean_note(note),
        key=key,
    )
    save_with_history(link, actor, validate=False)
    return link


@transaction.atomic
def link_update(*, actor, link: PathwayLink, **fields) -> PathwayLink:
    _require_platform_admin(actor)
    pathway = _locked_draft(link.pathway)
    if unexpected := set(fields) - set(LINK_EDITABLE_FIELDS):
        raise ServiceError(f"Cannot change: {', '.join(sorted(unexpected))}.", code="field_not_editable")
    if "condition" in fields:
        fields["condition"] = _clean_condition(fields["condition"])
    if "preference" in fields:
        _clean_preference(fields["preference"])
    if "note" in fields:
        fields["note"] = _clean_note(fields["note"])
    if "key" in fields:
        _clean_key(fields["key"])
        if PathwayLink.objects.filter(pathway=pathway, key=fields["key"]).exclude(pk=link.pk).exists():
            raise key_taken_problem(fields["key"]).error()
    _check_steps(pathway, fields.get("from_step", link.from_step), fields.get("to_step", link.to_step))
    for name, value in fields.items():
        setattr(link, name, value)
    save_with_history(link, actor, validate=False)
    return link


@transaction.atomic
def link_remove(*, actor, link: PathwayLink) -> None:
    _require_platform_admin(actor)
    _locked_draft(link.pathway)
    link._history_user = actor
    link.delete()


# Import ------------------------------------------------------------------------------------

_DOCUMENT_KEYS = {"format", "format_version", "pathway", "steps", "links"}
_PATHWAY_KEYS = {"name", "theme", "description", "operation", "version", "status"}
_STEP_KEYS = {"key", "service", "entry", "x", "y"}
_SERVICE_KEYS = {"id", "organisation", "name", "category"}
_LINK_KEYS = {"key", "from", "to", "condition", "preference", "note"}
MAX_IMPORT_STEPS = 5000
MAX_IMPORT_LINKS = 25000


class _Problems(list):
    def unknown(self, where: str, value, allowed: set) -> None:
        if isinstance(value, dict) and (unknown := sorted(set(value) - allowed)):
            self.append(
                {
                    "path": where,
                    "code": "unknown_field",
                    "message": f"{where or 'document'}: unknown field(s) {', '.join(map(str, unknown))}.",
                }
            )

    def add(self, where: str, code: str, message: str) -> None:
        self.append({"path": where, "code": code, "message": f"{where}: {message}"})

    def rule(self, where: str, problem: Problem | None) -> bool:
        """Add the problem a rule's twin found at ``where``; true when there was one."""
        if problem is not None:
            self.add(where, problem.code, problem.message)
        return problem is not None


def _number_or_none(value) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


@transaction.atomic
def pathway_import(*, actor, document: Mapping, operation: Operation | None = None) -> Pathway:
    """Create a draft from a JSON export (the format round-trips exactly).

    Services are found by id, or by organisation acronym and service name, in the operation. If the
    operation has a pathway of that name, the import becomes its next version; otherwise it starts a
    new pathway at version 1. Every problem in the document is reported at once.
    """
    _require_platform_admin(actor)
    problems = _Problems()
    head, steps, links = _import_document(document, problems)
    if operation is None:
        operation = _import_operation(head)
    step_rows = _import_steps(steps, operation, problems)
    link_rows = _import_links(links, step_rows, problems)
    _refuse_problems(problems)
    pathway = _import_version(operation, head["name"])
    pathway.name = head["name"].strip()
    pathway.theme = head["theme"]
    pathway.description = head.get("description") or ""
    save_with_history(pathway, actor, validate=False)
    _import_graph(pathway, step_rows, link_rows, actor)
    return pathway


def _import_document(document, problems: _Problems) -> tuple[Mapping, list, list]:
    """The document's envelope and its ``pathway`` head; a document of the wrong shape stops here."""
    if not isinstance(document, Mapping):
        raise ServiceError("The document is a JSON object.", code="invalid_pathway_document")
    problems.unknown("", document, _DOCUMENT_KEYS)
    if document.get("format", drawing.EXPORT_FORMAT) != drawing.EXPORT_FORMAT:
        problems.add("format", "unknown_format", f"expected {drawing.EXPORT_FORMAT!r}.")
    if document.get("format_version", drawing.EXPORT_FORMAT_VERSION) != drawing.EXPORT_FORMAT_VERSION:
        problems.add("format_version", "unknown_format_version", f"expected {drawing.EXPORT_FORMAT_VERSION}.")
    head = document.get("pathway")
    steps = document.get("steps")
    links = document.get("links", [])
    if not isinstance(head, Mapping):
        raise ServiceError(
            "The document needs a 'pathway' object.", code="invalid_pathway_document", field="pathway"
        )
    if not isinstance(steps, list) or not isinstance(links, list):
        raise ServiceError("'steps' and 'links' are lists.", code="invalid_pathway_document", field="steps")
    if len(steps) > MAX_IMPORT_STEPS or len(links) > MAX_IMPORT_LINKS:
        raise ServiceError(
            f"At most {MAX_IMPORT_STEPS} steps and {MAX_IMPORT_LINKS} links.", code="pathway_too_large"
        )
    problems.unknown("pathway", head, _PATHWAY_KEYS)
    problems.rule("pathway.theme", theme_problem(head.get("theme")))
    problems.rule("pathway.name", name_problem(head.get("name")))
    return head, steps, links


def _import_operation(head: Mapping) -> Operation:
    """The operation the document names, when the caller gives none."""
    operation = Operation.objects.filter(name=head.get("operation")).first()
    if operation is None:
        raise ServiceError(
            f"Unknown operation {head.get('operation')!r}.",
            code="unknown_operation",
            field="pathway.operation",
        )
    return operation


def _import_steps(steps: list, operation: Operation, problems: _Problems) -> dict[str, tuple[Service, dict]]:
    """Each well-formed step by key, with its service found in the operation."""
    services = list(Service.objects.filter(organisation__operation=operation).select_related("organisation"))
    by_id = {str(service.id): service for service in services}
    by_name = {(service.organisation.acronym, service.name): service for service in services}
    step_rows: dict[str, tuple[Service, dict]] = {}
    for index, item in enumerate(steps):
        where = f"steps[{index}]"
        if not isinstance(item, Mapping):
            problems.add(where, "invalid_step", "a step is an object.")
            continue
        problems.unknown(where, item, _STEP_KEYS)
        key = item.get("key")
        if problems.rule(f"{where}.key", key_problem(key)):
            continue
        if key in step_rows:
            problems.rule(f"{where}.key", key_taken_problem(key))
            continue
        ref = item.get("service")
        if not isinstance(ref, Mapping):
            problems.add(
                f"{where}.service", "unknown_service", "name the service by id or organisation and name."
            )
            continue
        problems.unknown(f"{where}.service", ref, _SERVICE_KEYS)
        organisation_ref, name_ref = ref.get("organisation"), ref.get("name")
        service = by_id.get(str(ref.get("id"))) or (
            by_name.get((organisation_ref, name_ref))
            if isinstance(organisation_ref, str) and isinstance(name_ref, str)
            else None
        )
        if service is None:
            problems.add(
                f"{where}.service",
                "unknown_service",
                f"no service {ref.get('name')!r} of {ref.get('organisation')!r} in {operation.name}.",
            )
            continue
        if any(other.pk == service.pk for other, _ in step_rows.values()):
            problems.add(f"{where}.service", "duplicate_step", f"{service.name!r} appears twice.")
            continue
        if not isinstance(item.get("entry", False), bool) or not (
            _number_or_none(item.get("x")) and _number_or_none(item.get("y"))
        ):
            problems.add(where, "invalid_step", "entry is true/false; x and y are numbers or null.")
            continue
        step_rows[key] = (service, item)
    return step_rows


def _import_links(links: list, step_rows: Mapping[str, tuple[Service, dict]], problems: _Problems) -> list:
    """The links with a unique key; their ends, condition, preference and note are checked too."""
    link_rows = []
    link_keys: set[str] = set()
    for index, item in enumerate(links):
        where = f"links[{index}]"
        if not isinstance(item, Mapping):
            problems.add(where, "invalid_link", "a link is an object.")
            continue
        problems.unknown(where, item, _LINK_KEYS)
        key = item.get("key")
        if problems.rule(f"{where}.key", key_problem(key)):
            continue
        if key in link_keys:
            problems.rule(f"{where}.key", key_taken_problem(key))
            continue
        link_keys.add(key)
        for end in ("from", "to"):
            if not isinstance(item.get(end), str) or item.get(end) not in step_rows:
                problems.add(f"{where}.{end}", "unknown_step", f"no step with key {item.get(end)!r}.")
        for problem in condition_problems(item.get("condition", {})):
            problems.add(
                f"{where}.condition{'.' + problem.path if problem.path else ''}",
                problem.code,
                problem.message,
            )
        problems.rule(f"{where}.preference", preference_problem(item.get("preference", 1)))
        problems.rule(f"{where}.note", note_problem(item.get("note")))
        link_rows.append(item)
    return link_rows


def _refuse_problems(problems: _Problems) -> None:
    if problems:
        raise ServiceError(
            f"The document has {len(problems)} problem(s): " + "; ".join(p["message"] for p in problems[:5]),
            code=problems[0]["code"],
            extra={"problems": list(problems)},
        )


def _import_version(operation: Operation, name: str) -> Pathway:
    """The next version of the operation's pathway of that name, or version 1 of a new pathway."""
    existing = (
        Pathway.objects.select_for_update()
        .filter(operation=operation, name__iexact=name.strip())
        .order_by("-version")
    )
    latest = existing.first()
    if latest is None:
        return Pathway(operation=operation)
    if existing.filter(status=Pathway.Status.DRAFT).exists():
        raise Conflict(f"{name!r} already has a draft version; edit or delete it first.", code="draft_exists")
    return Pathway(
        family=latest.family,
        version=existing.aggregate(top=Max("version"))["top"] + 1,
        operation=operation,
    )


def _import_graph(pathway: Pathway, step_rows: Mapping, link_rows: list, actor) -> None:
    new_steps = {
        key: PathwayStep(
            pathway=pathway,
            key=key,
            service=service,
            is_entry=item.get("entry", False),
            x=item.get("x"),
            y=item.get("y"),
        )
        for key, (service, item) in step_rows.items()
    }
    bulk_create_with_history(list(new_steps.values()), PathwayStep, default_user=actor)
    bulk_create_with_history(
        [
            PathwayLink(
                pathway=pathway,
                key=item["key"],
                from_step=new_steps[item["from"]],
                to_step=new_steps[item["to"]],
                condition=item.get("condition") or {},
                preference=item.get("preference", 1),
                note=item.get("note") or "",
            )
            for item in link_rows
        ],
        PathwayLink,
        default_user=actor,
    )
