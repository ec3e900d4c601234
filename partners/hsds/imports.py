"""``hsds_import``: write what HSDS files hold into the directory — all of it, or nothing.

Rules (docs/hsds.md):

- Idempotent. Rows keep their HSDS ids (Organisation, Service and Location use them as primary
  keys), so importing the same file again updates rows and never duplicates them; a row whose
  values did not change is not written and gets no history entry.
- Transactional. Everything is checked before it is written and written in one transaction; the
  first problem stops the import, names the file, row and field, and the database is unchanged.
- An import never opens a referral channel. New organisations start inactive, without a
  data-sharing agreement or a focal point; new services do not accept referrals; an import may
  close or deactivate an existing service but never reopens one.
- Bounded work: one query per table to read what exists, bulk writes with history rows
  (``COPY``, the rows django-simple-history would write), whatever the number of rows.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from tqdm import tqdm

from common.bulk import copy_create_with_history, copy_update_with_history
from common.errors import PermissionDenied
from common.saving import save_with_history
from partners.hsds.errors import HsdsImportError, Source
from partners.hsds.mapping import (
    APPLY_ORDER,
    ATTRIBUTE_LINKS,
    CATEGORY_TAXONOMY_ID,
    PROFILE_KEY,
    TABLES,
    UNCATEGORISED_CODE,
    ConversionError,
    Table,
    synthetic_id,
    to_model,
)
from partners.hsds.reader import Batch, Record, read_path
from partners.models import Location, Operation, Organisation, Service, ServiceAtLocation, ServiceCategory
from partners.selectors import is_platform_admin
from partners.services import URGENCIES, service_data_problems

BATCH_SIZE = 1000
# where a file holds the service fields the directory's rules name
_AGE_COLUMN = {"min_age": "minimum_age", "max_age": "maximum_age"}
_PROFILE_FIELD = {f"response_hours_{urgency}": f"response_hours.{urgency}" for urgency in URGENCIES}


@dataclass
class ImportReport:
    dry_run: bool = False
    files: list[str] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    not_kept: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def lines(self) -> list[str]:
        lines = []
        for table in sorted(set(self.created) | set(self.updated) | set(self.unchanged) | set(self.skipped)):
            lines.append(
                f"{table}: {self.created[table]} new, {self.updated[table]} updated, "
                f"{self.unchanged[table]} unchanged"
                + (f", {self.skipped[table]} skipped" if self.skipped[table] else "")
            )
        if self.not_kept:
            kept_out = ", ".join(f"{name} ({count})" for name, count in sorted(self.not_kept.items()))
            lines.append(f"not kept by the directory: {kept_out}")
        lines.extend(self.notes)
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        if self.dry_run:
            lines.append("dry run: nothing was saved")
        return lines


def hsds_import(
    *, path, actor=None, operation: Operation | None = None, dry_run: bool = False, progress: bool = False
) -> ImportReport:
    """Import an HSDS JSON file, a folder of them, or a tabular package folder.

    ``actor`` is the platform admin doing it; ``None`` is the system (a management command run by
    an operator), and history rows then carry no user.
    """
    if actor is not None and not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins may import a directory.", code="platform_admin_required")
    batch = read_path(path)
    try:
        with transaction.atomic():
            report = _Importer(batch, actor=actor, operation=operation, progress=progress).run()
            report.dry_run = dry_run
            if dry_run:
                transaction.set_rollback(True)
    except DatabaseError as exc:
        # every rule is checked before writing; this is a last line of defence, still not a 500
        raise HsdsImportError(f"the database refused the import: {exc}", code="hsds_database_error") from exc
    return report


class _Importer:
    def __init__(self, batch: Batch, *, actor, operation: Operation | None, progress: bool):
        self.batch = batch
        self.actor = actor
        self._operation = operation
        self.progress = progress
        self.report = ImportReport(files=list(batch.files), not_kept=batch.not_kept, warnings=batch.warnings)
        self.service_category: dict[uuid.UUID, ServiceCategory] = {}

    # Orchestration ---------------------------------------------------------------------------

    def run(self) -> ImportReport:
        self._categories()
        self._resolve_references()
        with tqdm(total=self.batch.count(), desc="HSDS import", unit="row", disable=not self.progress) as bar:
            for table in APPLY_ORDER:
                records = self.batch.records[table]
                if records:
                    apply = getattr(self, f"_apply_{table}", None) or self._apply_generic
                    apply(TABLES[table], records)
                bar.update(len(records))
        return self.report

    @property
    def operation(self) -> Operation:
        if self._operation is None:
            operations = list(Operation.objects.all()[:2])
            if len(operations) != 1:
                raise HsdsImportError(
                    "new organisations and locations need an operation: "
                    + ("create one first" if not operations else "choose one with --operation"),
                    code="hsds_operation_required",
                )
            self._operation = operations[0]
        return self._operation

    def _ref(self, record: Record, column: str) -> uuid.UUID | None:
        value = record.values.get(column)
        if value in (None, ""):
            return None
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise HsdsImportError(
                f"{value!r} is not a UUID", source=record.source, field=column, code="hsds_bad_uuid"
            ) from None

    # Service categories travel as taxonomy terms -------------------------------------------

    def _categories(self) -> None:
        """Attributes that name one of our service categories set the service's category; the
        category taxonomy and its terms are ours and are not stored as external terms."""
        terms = self.batch.records["taxonomy_term"]
        attributes = self.batch.records["attribute"]
        self.batch.records["taxonomy"].pop(CATEGORY_TAXONOMY_ID, None)
        term_ids = set(terms) | {
            term_id for a in attributes.values() if (term_id := self._ref(a, "taxonomy_term_id"))
        }
        by_id = ServiceCategory.objects.in_bulk(term_ids)
        ours = {
            term.id: term for term in terms.values() if self._ref(term, "taxonomy_id") == CATEGORY_TAXONOMY_ID
        }
        codes = {term.values.get("code") for term in ours.values() if term.id not in by_id}
        by_code = {c.code: c for c in ServiceCategory.objects.filter(code__in=codes)} if codes else {}
        category_of_term = {term_id: category for term_id, category in by_id.items()}
        for term in ours.values():
            if term.id in category_of_term:
                continue
            category = by_code.get(term.values.get("code"))
            if category is None:
                raise HsdsImportError(
                    f"{term.values.get('code')!r} is not a service category of this directory",
                    source=term.source,
                    field="code",
                    code="hsds_unknown_category",
                )
            category_of_term[term.id] = category
        for term_id in category_of_term:
            terms.pop(term_id, None)
        for attribute in list(attributes.values()):
            category = category_of_term.get(self._ref(attribute, "taxonomy_term_id"))
            if category is None:
                continue
            del attributes[attribute.id]
            if attribute.values.get("link_entity") != "service":
                self.report.warnings.append(
                    f"{attribute.source.describe('link_entity')}: a service category applies to services "
                    "only; ignored"
                )
                continue
            self.service_category[self._ref(attribute, "link_id")] = category

    # References ------------------------------------------------------------------------------

    def _resolve_references(self) -> None:
        wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
        for table, records in self.batch.records.items():
            for record in records.values():
                for owner in TABLES[table].owners:
                    target = self._ref(record, owner.hsds)
                    if target is not None and target not in self.batch.records[owner.table]:
                        wanted[owner.table].add(target)
                if table == "attribute" and (link := ATTRIBUTE_LINKS.get(record.values.get("link_entity"))):
                    target = self._ref(record, "link_id")
                    if target is not None and target not in self.batch.records[link[0]]:
                        wanted[link[0]].add(target)
        in_database = {
            table: set(TABLES[table].model.objects.filter(pk__in=ids).values_list("pk", flat=True))
            for table, ids in wanted.items()
        }

        def exists(table: str, target: uuid.UUID) -> bool:
            return target in self.batch.records[table] or target in in_database.get(table, ())

        for table in APPLY_ORDER:
            spec = TABLES[table]
            for record in list(self.batch.records[table].values()):
                for owner in spec.owners:
                    target = self._ref(record, owner.hsds)
                    if target is None:
                        if owner.required:
                            raise HsdsImportError(
                                "is required",
                                source=record.source,
                                field=owner.hsds,
                                code="hsds_missing_field",
                            )
                        continue
                    if exists(owner.table, target):
                        record.refs[owner.attr] = target
                    elif owner.required:
                        raise HsdsImportError(
                            f"{owner.table} {target} is neither in this import nor in the directory",
                            source=record.source,
                            field=owner.hsds,
                            code="hsds_unknown_reference",
                        )
                    else:
                        self.report.warnings.append(
                            f"{record.source.describe(owner.hsds)}: {owner.table} {target} is neither in "
                            "this import nor in the directory; the link is dropped"
                        )
                if table == "attribute":
                    self._resolve_attribute_link(record, exists)
                elif spec.needs_owner and not record.refs:
                    self._skip(record, f"the {table} belongs to nothing this directory holds")

    def _resolve_attribute_link(self, record: Record, exists) -> None:
        entity = record.values.get("link_entity")
        target = self._ref(record, "link_id")
        link = ATTRIBUTE_LINKS.get(entity)
        if link is None:
            self._skip(record, f"link_entity {entity!r} is not one of service, organization, location")
        elif target is None or not exists(link[0], target):
            self._skip(record, f"link_id {target} is neither in this import nor in the directory")
        else:
            record.refs[link[1]] = target

    def _skip(self, record: Record, why: str) -> None:
        del self.batch.records[record.table][record.id]
        self.report.skipped[record.table] += 1
        self.report.warnings.append(f"{record.source.describe()}: {why}; not imported")

    # Values ----------------------------------------------------------------------------------

    def _values(self, spec: Table, record: Record) -> dict:
        values = {}
        for column in spec.columns:
            try:
                value = to_model(column.kind, record.values.get(column.hsds))
            except ConversionError as exc:
                raise HsdsImportError(
                    str(exc), source=record.source, field=column.hsds, code="hsds_wrong_type"
                ) from None
            if value == "" and column.hsds in spec.nonblank:
                raise HsdsImportError(
                    "is required", source=record.source, field=column.hsds, code="hsds_missing_field"
                )
            max_length = spec.model._meta.get_field(column.attr).max_length
            if max_length and isinstance(value, str) and len(value) > max_length:
                raise HsdsImportError(
                    f"is {len(value)} characters long; at most {max_length} are kept",
                    source=record.source,
                    field=column.hsds,
                    code="hsds_too_long",
                )
            values[column.attr] = value
        return values

    def _plan(self, spec: Table, record: Record, existing, values: dict, plan: "_Plan", **on_create):
        # links are merged, never cleared: another document may have linked the same row elsewhere
        values = {**values, **record.refs}
        if existing is None:
            plan.create.append(spec.model(id=record.id, **values, **on_create))
            return
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        if not changed:
            plan.unchanged += 1
            return
        for name in changed:
            setattr(existing, name, values[name])
        plan.update.append(existing)
        plan.fields.update(changed)

    def _write(self, spec: Table, plan: "_Plan") -> None:
        # COPY, not multi-row INSERTs: the same rows and history rows, a fraction of the time
        copy_create_with_history(plan.create, spec.model, default_user=self.actor)
        copy_update_with_history(plan.update, spec.model, fields=sorted(plan.fields), default_user=self.actor)
        self.report.created[spec.name] += len(plan.create)
        self.report.updated[spec.name] += len(plan.update)
        self.report.unchanged[spec.name] += plan.unchanged

    def _apply_generic(self, spec: Table, records: dict[uuid.UUID, Record]) -> None:
        existing = spec.model.objects.in_bulk(list(records))
        plan = _Plan()
        for record in records.values():
            self._plan(spec, record, existing.get(record.id), self._values(spec, record), plan)
        self._write(spec, plan)

    # Organisations ---------------------------------------------------------------------------

    def _apply_organization(self, spec: Table, records: dict[uuid.UUID, Record]) -> None:
        existing = Organisation.objects.in_bulk(list(records))
        values_of = {record.id: self._values(spec, record) for record in records.values()}
        self._check_unique_names(
            records,
            values_of,
            Organisation.objects.annotate(lname=Lower("name")).filter(
                lname__in={values["name"].lower() for values in values_of.values()}
            ),
            "organisation",
        )
        taken = {acronym.lower() for acronym in Organisation.objects.values_list("acronym", flat=True)}
        plan = _Plan()
        new_records = [record for record in records.values() if record.id not in existing]
        groups = Group.objects.bulk_create(
            [Group(name=f"organisation:{record.id}") for record in new_records]
        )
        group_of = dict(zip([record.id for record in new_records], groups, strict=True))
        for record in records.values():
            profile = self._organisation_profile(record)
            on_create = {}
            if record.id not in existing:
                acronym = _free_acronym(profile.get("acronym"), values_of[record.id], taken)
                on_create = {
                    "acronym": acronym,
                    "kind": profile.get("kind", Organisation.Kind.NATIONAL_NGO),
                    "partnership": profile.get("partnership", Organisation.Partnership.NONE),
                    "operation": self.operation,
                    "group": group_of[record.id],
                    # an import never opens a referral channel: a platform admin activates the
                    # organisation after recording its data-sharing agreement and focal point
                    "is_active": False,
                }
            self._plan(spec, record, existing.get(record.id), values_of[record.id], plan, **on_create)
        if plan.create:
            self.report.notes.append(
                f"{len(plan.create)} new organisation(s) are inactive: a platform admin records a "
                "data-sharing agreement and appoints a focal point before they receive referrals"
            )
        self._write(spec, plan)

    def _organisation_profile(self, record: Record) -> dict:
        profile = _profile_object(record)
        checks = {
            "acronym": lambda v: isinstance(v, str) and 0 < len(v) <= 32,
            "kind": lambda v: v in Organisation.Kind.values,
            "partnership": lambda v: v in Organisation.Partnership.values,
        }
        for key, value in profile.items():
            if key in checks and not checks[key](value):
                raise HsdsImportError(
                    f"{value!r} is not allowed", source=record.source, field=f"{PROFILE_KEY}.{key}"
                )
        return {key: value for key, value in profile.items() if key in checks}

    def _check_unique_names(self, records, values_of, clashing_queryset, label: str) -> None:
        seen: dict[str, uuid.UUID] = {}
        for record in records.values():
            name = values_of[record.id]["name"].lower()
            if name in seen and seen[name] != record.id:
                raise HsdsImportError(
                    f"two {label}s in this import are named {values_of[record.id]['name']!r}",
                    source=record.source,
                    field="name",
                    code="hsds_duplicate_name",
                )
            seen[name] = record.id
        for other_id, other_name in clashing_queryset.values_list("pk", "name"):
            record_id = seen.get(other_name.lower())
            if record_id is not None and record_id != other_id:
                raise HsdsImportError(
                    f"another {label} ({other_id}) is already named {other_name!r}",
                    source=records[record_id].source,
                    field="name",
                    code="hsds_duplicate_name",
                )

    # Locations -------------------------------------------------------------------------------

    def _apply_location(self, spec: Table, records: dict[uuid.UUID, Record]) -> None:
        existing = Location.objects.in_bulk(list(records))
        values_of = {}
        for record in records.values():
            values = self._values(spec, record)
            # our locations need a name; HSDS makes it optional
            values["name"] = values["name"] or values["alternate_name"] or f"Location {record.id}"
            values_of[record.id] = values
        operation_of = {
            record.id: existing[record.id].operation_id if record.id in existing else None
            for record in records.values()
        }
        if any(operation_id is None for operation_id in operation_of.values()):
            operation_of = {key: value or self.operation.pk for key, value in operation_of.items()}
        claimed: dict[tuple, uuid.UUID] = {}
        for record in records.values():
            key = (operation_of[record.id], values_of[record.id]["name"])
            if claimed.setdefault(key, record.id) != record.id:
                raise HsdsImportError(
                    f"two locations in this import are named {key[1]!r}",
                    source=record.source,
                    field="name",
                    code="hsds_duplicate_name",
                )
        clashes = Location.objects.filter(name__in={key[1] for key in claimed}).values_list(
            "pk", "operation_id", "name"
        )
        for other_id, operation_id, name in clashes:
            record_id = claimed.get((operation_id, name))
            if record_id is not None and record_id != other_id:
                raise HsdsImportError(
                    f"another location ({other_id}) of the operation is already named {name!r}",
                    source=records[record_id].source,
                    field="name",
                    code="hsds_duplicate_name",
                )
        plan = _Plan()
        for record in records.values():
            on_create = {}
            if record.id not in existing:
                on_create = {"operation_id": operation_of[record.id], "kind": Location.Kind.SITE}
            self._plan(spec, record, existing.get(record.id), values_of[record.id], plan, **on_create)
        self._write(spec, plan)

    # Services --------------------------------------------------------------------------------

    def _apply_service(self, spec: Table, records: dict[uuid.UUID, Record]) -> None:
        existing = Service.objects.in_bulk(list(records))
        values_of = {record.id: self._values(spec, record) for record in records.values()}
        self._check_service_names(records, values_of)
        languages = self._service_languages()
        uncategorised = None
        plan = _Plan()
        now = timezone.now()
        for record in records.values():
            values = values_of[record.id]
            current = existing.get(record.id)
            if problems := service_data_problems(
                {"min_age": values["min_age"], "max_age": values["max_age"]}
            ):
                raise HsdsImportError(
                    problems[0].message,
                    source=record.source,
                    field=_AGE_COLUMN[problems[0].field],
                    code="hsds_invalid",
                )
            values.update(self._service_profile(record, current))
            category = self.service_category.get(record.id)
            if category is not None:
                values["category_id"] = category.pk
            elif current is None:
                uncategorised = uncategorised or self._uncategorised()
                values["category_id"] = uncategorised.pk
            if codes := languages.get(record.id):
                known = list(current.languages) if current else []
                values["languages"] = known + [code for code in codes if code not in known]
            self._referral_switches(record, current, values)
            before = len(plan.update)
            self._plan(spec, record, current, values, plan)
            if len(plan.update) > before:
                plan.update[-1].updated_at = now
                plan.fields.add("updated_at")
        self._write(spec, plan)

    def _check_service_names(self, records, values_of) -> None:
        seen: dict[tuple, uuid.UUID] = {}
        for record in records.values():
            key = (record.refs["organisation_id"], values_of[record.id]["name"].lower())
            if seen.setdefault(key, record.id) != record.id:
                raise HsdsImportError(
                    "the organization has two services of this name in this import",
                    source=record.source,
                    field="name",
                    code="hsds_duplicate_name",
                )
        clashes = (
            Service.objects.annotate(lname=Lower("name"))
            .filter(organisation_id__in={key[0] for key in seen}, lname__in={key[1] for key in seen})
            .values_list("pk", "organisation_id", "lname")
        )
        for other_id, organisation_id, name in clashes:
            record_id = seen.get((organisation_id, name))
            if record_id is not None and record_id != other_id:
                raise HsdsImportError(
                    f"the organization already has another service ({other_id}) of this name",
                    source=records[record_id].source,
                    field="name",
                    code="hsds_duplicate_name",
                )

    def _service_languages(self) -> dict[uuid.UUID, list[str]]:
        codes: dict[uuid.UUID, list[str]] = defaultdict(list)
        for record in self.batch.records["language"].values():
            code = str(record.values.get("code") or "").strip()
            service_id = record.refs.get("service_id")
            if not code or service_id is None:
                continue
            if problems := service_data_problems({"languages": [code]}):
                raise HsdsImportError(
                    problems[0].message, source=record.source, field="code", code="hsds_invalid"
                )
            if code not in codes[service_id]:
                codes[service_id].append(code)
        return codes

    def _uncategorised(self) -> ServiceCategory:
        category = ServiceCategory.objects.filter(code=UNCATEGORISED_CODE).first()
        if category is None:
            category = ServiceCategory(
                code=UNCATEGORISED_CODE,
                name="Uncategorised",
                description="Imported services waiting for a category.",
            )
            save_with_history(category, self.actor, validate=False)
        return category

    def _service_profile(self, record: Record, current: Service | None) -> dict:
        """Our own service fields, from the ``referral_hub`` profile object (docs/hsds-profile).

        The document's shapes (lists, objects, booleans) are checked here; the rules on the values
        are the service's own (``service_data_problems``), so an import and an edit agree.
        """
        profile = _profile_object(record)
        values = {}

        def fail(key, problem):
            raise HsdsImportError(
                problem, source=record.source, field=f"{PROFILE_KEY}.{key}", code="hsds_invalid_profile"
            )

        for key in ("required_fields", "optional_fields"):
            if key in profile:
                names = profile[key]
                if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                    fail(key, "must be a list of disclosure field names")
                values[key] = names
        if "response_hours" in profile:
            hours = profile["response_hours"]
            if not isinstance(hours, dict) or set(hours) - set(URGENCIES):
                fail("response_hours", f"must be an object with keys {', '.join(URGENCIES)}")
            for urgency, value in hours.items():
                values[f"response_hours_{urgency}"] = value
        if "outcome_due_days" in profile:
            days = profile["outcome_due_days"]
            if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
                fail("outcome_due_days", "must be a whole number of days, or null")
            values["outcome_due_days"] = days
        if "sexes" in profile:
            if not isinstance(profile["sexes"], list):
                fail("sexes", f"must list some of {', '.join(Service.Sex.values)}")
            values["sexes"] = profile["sexes"]
        if "specific_needs" in profile:
            needs = profile["specific_needs"]
            if not isinstance(needs, list):
                fail("specific_needs", "must be a list of codes")
            values["specific_needs"] = needs
        if "accepting_referrals" in profile and not isinstance(profile["accepting_referrals"], bool):
            fail("accepting_referrals", "must be true or false")
        if problems := service_data_problems(values, current=current):
            fail(_PROFILE_FIELD.get(problems[0].field, problems[0].field), problems[0].message)
        return values

    def _referral_switches(self, record: Record, current: Service | None, values: dict) -> None:
        """Status, ``is_active`` and ``is_accepting_referrals``: an import may close, never open."""
        wanted_accepting = _profile_object(record).get("accepting_referrals")
        status = values["status"]
        if current is None:
            values["is_active"] = status == "active"
            values["is_accepting_referrals"] = False
            if wanted_accepting:
                self.report.warnings.append(
                    f"{record.source.describe(PROFILE_KEY + '.accepting_referrals')}: new services do not "
                    "accept referrals until their organisation's focal point opens them"
                )
            return
        values["is_active"] = current.is_active and status == "active"
        if not current.is_active and status in ("active", "inactive") and current.status == "active":
            # the export says "inactive" for a switched-off "active" service: nothing to change,
            # and an import does not switch a service back on
            values["status"] = current.status
        values["is_accepting_referrals"] = current.is_accepting_referrals and wanted_accepting is not False
        if wanted_accepting and not current.is_accepting_referrals:
            self.report.warnings.append(
                f"{record.source.describe(PROFILE_KEY + '.accepting_referrals')}: an import does not reopen "
                "referrals; the service's focal point does"
            )

    def _apply_language(self, spec: Table, records: dict[uuid.UUID, Record]) -> None:
        # the codes are in Service.languages already (see _apply_service)
        self._drop_made_up_rows(
            records,
            lambda r: synthetic_id("language", r.refs.get("service_id"), r.values.get("code")),
            (),
            "",
            only_if=lambda r: (
                set(r.refs) == {"service_id"} and not r.values.get("name") and not r.values.get("note")
            ),
        )
        if records:
            self._apply_generic(spec, records)

    def _drop_made_up_rows(self, records, made_up_id, child_tables, child_column, only_if=None) -> None:
        """Rows our export made an id for (nothing but a link) are not stored; the link is enough."""
        referenced = {
            record.refs.get(child_column)
            for table in child_tables
            for record in self.batch.records[table].values()
        }
        made_up = [record.id for record in records.values() if record.id == made_up_id(record)]
        if not made_up:
            return
        model = TABLES[next(iter(records.values())).table].model
        # a row stored earlier under a made-up id is kept up to date like any other
        stored = set(model.objects.filter(pk__in=made_up).values_list("pk", flat=True))
        for record in list(records.values()):
            if (
                record.id == made_up_id(record)
                and record.id not in referenced
                and record.id not in stored
                and not record.values.get("description")
                and (only_if is None or only_if(record))
            ):
                del records[record.id]

    # Service at location ---------------------------------------------------------------------

    def _apply_service_at_location(self, spec: Table, records: dict[uuid.UUID, Record]) -> None:
        pairs = {(r.refs["service_id"], r.refs["location_id"]): r for r in records.values()}
        self._drop_made_up_rows(
            records,
            lambda r: synthetic_id("service_at_location", r.refs["service_id"], r.refs["location_id"]),
            ("contact", "phone", "schedule"),
            "service_at_location_id",
        )
        services = {pair[0] for pair in pairs}
        locations = {pair[1] for pair in pairs}
        existing_rows = ServiceAtLocation.objects.filter(service_id__in=services, location_id__in=locations)
        for other_id, service_id, location_id in existing_rows.values_list("pk", "service_id", "location_id"):
            record = pairs.get((service_id, location_id))
            if record is not None and record.id != other_id:
                raise HsdsImportError(
                    f"the service is already linked to this location by service_at_location {other_id}",
                    source=record.source,
                    field="id",
                    code="hsds_duplicate_link",
                )
        if records:
            self._apply_generic(spec, records)
        through = Service.locations.through
        linked = set(
            through.objects.filter(service_id__in=services, location_id__in=locations).values_list(
                "service_id", "location_id"
            )
        )
        new_links = [
            through(service_id=service_id, location_id=location_id)
            for service_id, location_id in pairs
            if (service_id, location_id) not in linked
        ]
        through.objects.bulk_create(new_links, batch_size=BATCH_SIZE)
        self.report.created["service.locations"] += len(new_links)


@dataclass
class _Plan:
    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    fields: set = field(default_factory=set)
    unchanged: int = 0


def _profile_object(record: Record) -> dict:
    profile = record.profile
    if profile is None:
        return {}
    if not isinstance(profile, dict):
        raise HsdsImportError(
            "must be an object", source=record.source, field=PROFILE_KEY, code="hsds_invalid_profile"
        )
    return profile


def _free_acronym(wanted: str | None, values: dict, taken: set[str]) -> str:
    """A unique acronym: the profile's, else the alternate name if short, else the initials."""
    candidates = [wanted, values.get("alternate_name")]
    initials = "".join(word[0] for word in values["name"].split() if word[:1].isalnum()).upper()[:24]
    candidates.append(initials or "ORG")
    for candidate in candidates:
        if candidate and len(candidate) <= 32 and candidate.lower() not in taken:
            taken.add(candidate.lower())
            return candidate
    base = (initials or "ORG")[:24]
    number = 2
    while f"{base}-{number}".lower() in taken:
        number += 1
    taken.add(f"{base}-{number}".lower())
    return f"{base}-{number}"


__all__ = ["ImportReport", "Source", "hsds_import"]
