"""The operation admin's pathway editor (drafts, steps, links with conditions, validate, publish,
archive, compare) and the interactive pathway map.

Every read goes through ``pathways.selectors`` (a draft is a 404 for anyone but a platform admin,
exactly like a missing pathway) and every change through ``pathways.services``, which decide who
may edit what; a refusal is shown next to the field it concerns, with the service's status.
"""

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from common.errors import NotFound, ServiceError
from console.pathway_forms import (
    STATUS_LABELS,
    THEME_LABELS,
    ConditionCheckForm,
    LinkForm,
    PathwayCreateForm,
    RouteForm,
    StepAddForm,
    StepUpdateForm,
)
from console.shared import not_found, sign_in_required, viewer_of
from partners.selectors import service_list_visible
from pathways import services
from pathways.conditions import condition_problems, describe, never_matches
from pathways.selectors import (
    link_get,
    pathway_compare,
    pathway_get_visible,
    pathway_list_visible,
    pathway_map,
    pathway_problems,
    pathway_route,
    pathway_versions,
    route_items,
    step_get,
)

# the console's words for the services' codes; a code without one shows the service's message
ERROR_WORDS = {
    "platform_admin_required": gettext_lazy("Only platform admins may change pathways."),
    "pathway_not_editable": gettext_lazy("This version is not a draft: make a new version to change it."),
    "draft_exists": gettext_lazy("This pathway already has a draft version: edit that one."),
    "duplicate_pathway_name": gettext_lazy("The operation already has a pathway of that name."),
    "pathway_not_published": gettext_lazy("Only a published version can be archived."),
    "pathway_invalid": gettext_lazy("The pathway has problems to fix before it can be published."),
    "invalid_name": gettext_lazy("A name is 1 to 200 characters."),
    "invalid_theme": gettext_lazy("Choose one of the themes."),
    "invalid_key": gettext_lazy("A key is 1 to 64 letters, digits, '-' or '_'."),
    "duplicate_key": gettext_lazy("That key is already used in this pathway."),
    "duplicate_step": gettext_lazy("That service is already a step of this pathway."),
    "service_outside_operation": gettext_lazy("That service belongs to another operation."),
    "step_outside_pathway": gettext_lazy("Both ends of a link must be steps of this pathway."),
    "invalid_preference": gettext_lazy("The preference is a whole number from 1 to 1000."),
    "invalid_note": gettext_lazy("A note is at most 500 characters."),
}
CONDITION_WORDS = {
    "invalid_condition": gettext_lazy('A condition is a JSON object, such as {"age": {"max": 17}}.'),
    "unknown_condition_key": gettext_lazy(
        "Unknown test. Use age, sex, specific_needs, urgency, is_minor, all or any."
    ),
    "unknown_condition_operator": gettext_lazy(
        "Unknown operator: age takes min and max; sex and urgency take in; specific_needs takes any_of; "
        "is_minor takes equals."
    ),
    "invalid_condition_value": gettext_lazy("A value of the wrong kind or out of range."),
    "condition_too_large": gettext_lazy("A condition has at most 64 tests."),
    "condition_too_deep": gettext_lazy("Conditions nest at most 6 levels."),
}
PROBLEM_WORDS = {
    "no_entry_step": gettext_lazy("No step is marked as an entry."),
    "unreachable_step": gettext_lazy("No entry step leads to this step."),
    "inactive_entry_service": gettext_lazy("This entry step's service is inactive."),
    "link_to_inactive_service": gettext_lazy("This link goes to an inactive service."),
    "organisation_inactive": gettext_lazy("This link goes to an organisation that is inactive."),
    "organisation_without_valid_dsa": gettext_lazy(
        "This link goes to an organisation without a valid data-sharing agreement."
    ),
    "organisation_without_focal_point": gettext_lazy(
        "This link goes to an organisation without a focal point."
    ),
    "self_loop": gettext_lazy("This link goes from a step to itself."),
    "duplicate_link": gettext_lazy(
        "Several links join the same two steps: combine their conditions with any."
    ),
    "condition_never_matches": gettext_lazy("No person can ever meet this link's condition."),
    "cycle": gettext_lazy("People can be referred back along these steps (allowed: check it is deliberate)."),
    "service_not_accepting": gettext_lazy("This service has paused intake for now."),
}
ACTIONS = {
    "publish": (services.pathway_publish, gettext_lazy("Version published.")),
    "archive": (services.pathway_archive, gettext_lazy("Version archived.")),
    "new-version": (services.pathway_new_version, gettext_lazy("A new draft version was made.")),
    "delete": (services.pathway_delete, gettext_lazy("Draft deleted.")),
}


def map_words() -> dict[str, str]:
    """The drawing's words (pathways.drawing.SVG_WORDS, pathways.conditions.DESCRIBE_WORDS) in the
    page's language."""
    return {
        "entry_step": _("entry step"),
        "inactive_service": _("inactive service"),
        "not_accepting": _("not accepting / cannot receive"),
        "link_label": _("link label: preference · eligibility"),
        "entry": _("ENTRY"),
        "route": _("ROUTE {number}"),
        "anyone": _("anyone"),
        "and": _("and"),
        "or": _("or"),
        "age_between": _("age {low} to {high}"),
        "age_from": _("age ≥ {low}"),
        "age_up_to": _("age ≤ {high}"),
        "minor": _("minor"),
        "adult": _("adult"),
        "needs": _("needs: {needs}"),
    }


def _words(error: ServiceError) -> str:
    if error.code in CONDITION_WORDS:
        problems = error.extra.get("problems") or [{"path": "", "code": error.code, "message": error.message}]
        return _condition_message(
            [(p.get("path", ""), p.get("code"), p.get("message", "")) for p in problems]
        )
    return str(ERROR_WORDS.get(error.code, error.message))


def _condition_message(problems) -> str:
    parts = []
    for where, code, detail in problems:
        words = str(CONDITION_WORDS.get(code, detail))
        parts.append(_("%(where)s: %(words)s") % {"where": where, "words": words} if where else words)
    return " ".join(parts)


def _visible(request, pathway_id):
    try:
        return pathway_get_visible(user=request.user, pathway_id=pathway_id)
    except NotFound:
        return None


# The list ----------------------------------------------------------------------------------


@require_GET
@sign_in_required
def pathways(request):
    return _list(request)


def _list(request, create_form=None, status=200):
    rows = [
        (pathway, THEME_LABELS.get(pathway.theme, pathway.theme), STATUS_LABELS.get(pathway.status))
        for pathway in pathway_list_visible(user=request.user).order_by("operation__name", "name", "-version")
    ]
    context = {
        "rows": rows,
        "create_form": create_form or (PathwayCreateForm() if viewer_of(request).platform_admin else None),
    }
    return render(request, "console/pathways/list.html", context, status=status)


@require_POST
@sign_in_required
def pathway_create(request):
    form = PathwayCreateForm(request.POST)
    if not form.is_valid():
        return _list(request, create_form=form, status=400)
    try:
        pathway = services.pathway_create(actor=request.user, **form.cleaned_data)
    except ServiceError as error:
        form.add_error(error.field if error.field in form.fields else None, _words(error))
        return _list(request, create_form=form, status=error.status)
    messages.success(request, _("Draft created: add its steps and links."))
    return redirect("console:pathway", pathway_id=pathway.pk)


# One version: the map, and the editor of a draft -------------------------------------------


def _step_href(step) -> str:
    return f"#about-{step.key}"


def _route(request, pathway, drawn):
    """The route form, bound when the page was asked a route, and the route found (or None)."""
    starts = [
        (item.service.pk, f"{item.service.name} — {item.service.organisation.acronym}")
        for item in drawn.steps
    ]
    categories = sorted(
        {(item.service.category.code, item.service.category.name) for item in drawn.steps}, key=lambda c: c[1]
    )
    needs = sorted({need for link in drawn.data.links for need in _needs(link.condition)})
    bound = "start" in request.GET
    form = RouteForm(request.GET if bound else None, starts=starts, categories=categories, needs=needs)
    if not bound or not form.is_valid():
        return form, None, ()
    try:
        offers = pathway_route(
            pathway=pathway,
            service_id=form.cleaned_data["start"],
            target_category=form.cleaned_data["category"],
            profile=form.profile(),
        )
    except ServiceError as error:
        form.add_error(error.field if error.field in form.fields else None, _words(error))
        return form, None, ()
    if offers is None:
        return form, [], ()
    start = next(item for item in drawn.steps if str(item.service.pk) == form.cleaned_data["start"])
    return form, offers, route_items(offers, start.step.id)


def _needs(condition) -> set[str]:
    found = set()
    if isinstance(condition, dict):
        for key, value in condition.items():
            if key in ("all", "any"):
                for child in value:
                    found |= _needs(child)
            elif key == "specific_needs":
                found |= set(value.get("any_of", []))
    return found


def _render_pathway(request, pathway, *, forms=None, status=200):
    viewer = viewer_of(request)
    editable = pathway.is_editable and viewer.platform_admin
    drawn = pathway_map(pathway=pathway, step_href=_step_href, words=map_words())
    route_form, offers, route = _route(request, pathway, drawn)
    if route:
        drawn = pathway_map(pathway=pathway, route=route, step_href=_step_href, words=map_words())
    forms = forms or {}
    context = {
        "pathway": pathway,
        "theme_label": THEME_LABELS.get(pathway.theme, pathway.theme),
        "status_label": STATUS_LABELS.get(pathway.status),
        "map": drawn,
        "route_form": route_form,
        "offers": offers,
        "editable": editable,
        "admin": viewer.platform_admin,
        "versions": list(pathway_versions(user=request.user, pathway=pathway)),
    }
    if editable:
        steps = _draft_steps(pathway)
        on_pathway = [item.service.pk for item in drawn.steps]
        available = (
            service_list_visible(user=request.user)
            .filter(organisation__operation_id=pathway.operation_id)
            .exclude(pk__in=on_pathway)
            .select_related("organisation")
            .order_by("organisation__acronym", "name")
        )
        context["step_add_form"] = forms.get("step-add") or StepAddForm(
            services=available, auto_id="step-add-%s"
        )
        context["link_add_form"] = forms.get("link-add") or LinkForm(steps=steps, auto_id="link-add-%s")
        context["step_forms"] = {
            item.step.id: forms.get(f"step-{item.step.id}")
            or StepUpdateForm(
                initial={"key": item.step.key, "is_entry": item.step.is_entry},
                auto_id=f"step-{item.step.key}-%s",
            )
            for item in drawn.steps
        }
        context["link_forms"] = {
            link.id: forms.get(f"link-{link.id}")
            or LinkForm(
                steps=steps,
                auto_id=f"link-{link.key}-%s",
                initial={
                    "from_step": link.source,
                    "to_step": link.target,
                    "condition": _json(link.condition),
                    "preference": link.preference,
                    "note": link.note,
                    "key": link.key,
                },
            )
            for link in drawn.data.links
        }
    by_id = drawn.by_id
    step_forms, link_forms = context.get("step_forms", {}), context.get("link_forms", {})
    context["step_rows"] = [
        (
            item,
            [(link, by_id[link.target], describe(link.condition, map_words())) for link in item.links_out],
            [(link, by_id[link.source]) for link in item.links_in],
            step_forms.get(item.step.id),
        )
        for item in drawn.steps
    ]
    context["link_rows"] = [(link, link_forms[link.id]) for link in drawn.data.links if link.id in link_forms]
    return render(request, "console/pathways/detail.html", context, status=status)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@require_GET
@sign_in_required
def pathway_detail(request, pathway_id):
    pathway = _visible(request, pathway_id)
    if pathway is None:
        return not_found(request)
    return _render_pathway(request, pathway)


@require_POST
@sign_in_required
def pathway_act(request, pathway_id, action):
    pathway = _visible(request, pathway_id)
    if pathway is None or action not in ACTIONS:
        return not_found(request)
    service, done = ACTIONS[action]
    try:
        result = service(actor=request.user, pathway=pathway)
    except NotFound:
        return not_found(request)
    except ServiceError as error:
        if error.code == "pathway_invalid":
            return _render_problems(request, pathway, status=error.status, refused=True)
        messages.error(request, _words(error))
        return _render_pathway(request, pathway, status=error.status)
    messages.success(request, str(done))
    if action == "delete":
        return redirect("console:pathways")
    return redirect("console:pathway", pathway_id=(result or pathway).pk)


# Steps and links ---------------------------------------------------------------------------


def _refused(request, pathway, slot, form, error):
    if isinstance(error, NotFound):
        return not_found(request)
    form.add_error(error.field if error.field in form.fields else None, _words(error))
    if not (pathway.is_editable and viewer_of(request).platform_admin):
        messages.error(request, _words(error))  # no form of the editor is on the page to hold it
    return _render_pathway(request, pathway, forms={slot: form}, status=error.status)


def _draft_steps(pathway):
    return pathway.steps.select_related("service__organisation").order_by("key")


@require_POST
@sign_in_required
def step_add(request, pathway_id):
    pathway = _visible(request, pathway_id)
    if pathway is None:
        return not_found(request)
    available = service_list_visible(user=request.user).filter(
        organisation__operation_id=pathway.operation_id
    )
    form = StepAddForm(request.POST, services=available.select_related("organisation"), auto_id="step-add-%s")
    if not form.is_valid():
        return _render_pathway(request, pathway, forms={"step-add": form}, status=400)
    try:
        step = services.step_add(actor=request.user, pathway=pathway, **form.cleaned_data)
    except ServiceError as error:
        return _refused(request, pathway, "step-add", form, error)
    messages.success(request, _("Step added."))
    return redirect(reverse("console:pathway", args=[pathway.pk]) + f"#about-{step.key}")


@require_POST
@sign_in_required
def step_change(request, pathway_id, step_id):
    return _change(request, pathway_id, step_id, "step")


@require_POST
@sign_in_required
def step_remove(request, pathway_id, step_id):
    return _change(request, pathway_id, step_id, "step", remove=True)


@require_POST
@sign_in_required
def link_change(request, pathway_id, link_id):
    return _change(request, pathway_id, link_id, "link")


@require_POST
@sign_in_required
def link_remove(request, pathway_id, link_id):
    return _change(request, pathway_id, link_id, "link", remove=True)


def _change(request, pathway_id, item_id, kind, remove=False):
    """Update or remove a step or a link of a pathway, through its service."""
    pathway = _visible(request, pathway_id)
    if pathway is None:
        return not_found(request)
    try:
        item = (step_get if kind == "step" else link_get)(pathway=pathway, **{f"{kind}_id": item_id})
    except NotFound:
        return not_found(request)
    slot = f"{kind}-{item.pk}"
    if kind == "step":
        form = StepUpdateForm(request.POST, auto_id=f"step-{item.key}-%s")
        anchor = f"#about-{item.key}"
    else:
        form = LinkForm(request.POST, steps=_draft_steps(pathway), auto_id=f"link-{item.key}-%s")
        anchor = f"#link-form-{item.key}"
    try:
        if remove:
            (services.step_remove if kind == "step" else services.link_remove)(
                actor=request.user, **{kind: item}
            )
            messages.success(
                request, _("Step removed, with its links.") if kind == "step" else _("Link removed.")
            )
            return redirect("console:pathway", pathway_id=pathway.pk)
        if not form.is_valid():
            return _render_pathway(request, pathway, forms={slot: form}, status=400)
        if kind == "step":
            services.step_update(actor=request.user, step=item, **form.cleaned_data)
        else:
            values = _link_values(form)
            values.setdefault("key", item.key)
            services.link_update(actor=request.user, link=item, **values)
    except ServiceError as error:
        return _refused(request, pathway, slot, form, error)
    messages.success(request, _("Step saved.") if kind == "step" else _("Link saved."))
    return redirect(reverse("console:pathway", args=[pathway.pk]) + anchor)


def _link_values(form) -> dict:
    data = dict(form.cleaned_data)
    if not data.get("key"):
        data.pop("key", None)
    return data


@require_POST
@sign_in_required
def link_add(request, pathway_id):
    pathway = _visible(request, pathway_id)
    if pathway is None:
        return not_found(request)
    form = LinkForm(request.POST, steps=_draft_steps(pathway), auto_id="link-add-%s")
    if not form.is_valid():
        return _render_pathway(request, pathway, forms={"link-add": form}, status=400)
    try:
        link = services.link_add(actor=request.user, pathway=pathway, **_link_values(form))
    except ServiceError as error:
        return _refused(request, pathway, "link-add", form, error)
    messages.success(request, _("Link added."))
    return redirect(reverse("console:pathway", args=[pathway.pk]) + f"#link-form-{link.key}")


@require_POST
@sign_in_required
def condition_check(request):
    """The inline check of a condition as it is typed: the rule language's own parser and words."""
    form = ConditionCheckForm(request.POST)
    slot = form.data.get("slot", "")
    if not form.is_valid():
        if "slot" in form.errors:
            return render(request, "console/pathways/_condition_help.html", {"slot": ""}, status=400)
        return render(
            request,
            "console/pathways/_condition_help.html",
            {"slot": slot, "error": " ".join(form.errors["condition"])},
            status=200,
        )
    condition = form.cleaned_data["condition"]
    problems = condition_problems(condition)
    context = {"slot": slot}
    if problems:
        context["error"] = _condition_message([(p.path, p.code, p.message) for p in problems])
    elif reason := never_matches(condition):
        context["error"] = _("No person can ever meet this condition (%(reason)s).") % {"reason": reason}
    else:
        context["reading"] = describe(condition, map_words())
    return render(request, "console/pathways/_condition_help.html", context)


# Validation and comparison -----------------------------------------------------------------


def _render_problems(request, pathway, *, status=200, refused=False):
    drawn_steps = {str(step.pk): step for step in pathway.steps.select_related("service").all()}
    drawn_links = {str(link.pk): link for link in pathway.links.all()}
    problems = [
        {
            "problem": problem,
            "words": PROBLEM_WORDS.get(problem.code, problem.message),
            "steps": [drawn_steps[i] for i in problem.step_ids if i in drawn_steps],
            "links": [drawn_links[i] for i in problem.link_ids if i in drawn_links],
        }
        for problem in pathway_problems(pathway)
    ]
    context = {
        "pathway": pathway,
        "status_label": STATUS_LABELS.get(pathway.status),
        "errors": [p for p in problems if p["problem"].severity == "error"],
        "infos": [p for p in problems if p["problem"].severity != "error"],
        "refused": refused,
        "editable": pathway.is_editable and viewer_of(request).platform_admin,
    }
    return render(request, "console/pathways/problems.html", context, status=status)


@require_GET
@sign_in_required
def pathway_validate(request, pathway_id):
    pathway = _visible(request, pathway_id)
    if pathway is None:
        return not_found(request)
    return _render_problems(request, pathway)


@require_GET
@sign_in_required
def pathway_compare_view(request, pathway_id):
    pathway = _visible(request, pathway_id)
    if pathway is None:
        return not_found(request)
    versions = list(pathway_versions(user=request.user, pathway=pathway))
    others = [version for version in versions if version.pk != pathway.pk]
    chosen = request.GET.get("with")
    other = next((version for version in others if str(version.pk) == chosen), None)
    if chosen and other is None:
        return not_found(request)
    if other is None and others:
        other = others[0]
    comparison = None
    if other is not None:
        old, new = sorted((other, pathway), key=lambda version: version.version)
        comparison = pathway_compare(old=old, new=new)
    context = {
        "pathway": pathway,
        "others": others,
        "other": other,
        "comparison": comparison,
        "link_changes": [
            (
                change,
                _json(change.old.condition) if change.old else "",
                _json(change.new.condition) if change.new else "",
            )
            for change in (comparison.links if comparison else ())
        ],
    }
    return render(request, "console/pathways/compare.html", context)


urlpatterns = [
    path("pathways", pathways, name="pathways"),
    path("pathways/create", pathway_create, name="pathway-create"),
    path("pathways/condition-check", condition_check, name="pathway-condition-check"),
    path("pathways/<str:pathway_id>", pathway_detail, name="pathway"),
    path("pathways/<str:pathway_id>/problems", pathway_validate, name="pathway-problems"),
    path("pathways/<str:pathway_id>/compare", pathway_compare_view, name="pathway-compare"),
    path("pathways/<str:pathway_id>/steps", step_add, name="pathway-step-add"),
    path("pathways/<str:pathway_id>/steps/<str:step_id>", step_change, name="pathway-step"),
    path("pathways/<str:pathway_id>/steps/<str:step_id>/remove", step_remove, name="pathway-step-remove"),
    path("pathways/<str:pathway_id>/links", link_add, name="pathway-link-add"),
    path("pathways/<str:pathway_id>/links/<str:link_id>", link_change, name="pathway-link"),
    path("pathways/<str:pathway_id>/links/<str:link_id>/remove", link_remove, name="pathway-link-remove"),
    path("pathways/<str:pathway_id>/do/<str:action>", pathway_act, name="pathway-act"),
]
