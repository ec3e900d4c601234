"""HSDS documents and tables built from the directory (export command and read API alike).

A service document is the official compiled "service" shape: the service with its organization,
phones, schedules, contacts, languages, service_at_locations (each with its location) and
attributes (each with its taxonomy term), plus our ``referral_hub`` profile object. Our service
category travels as an attribute whose term belongs to the "Referral Hub service categories"
taxonomy (term id = category id).
"""

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db.models import Prefetch, QuerySet

from partners.hsds.mapping import (
    CATEGORY_LINK_TYPE,
    CATEGORY_TAXONOMY,
    CATEGORY_TAXONOMY_ID,
    PROFILE_KEY,
    TABLES,
    scalar_properties,
    scalar_row,
    synthetic_id,
)
from partners.models import (
    Attribute,
    Contact,
    Location,
    Organisation,
    Phone,
    Service,
    ServiceAtLocation,
    ServiceCategory,
    Taxonomy,
    TaxonomyTerm,
)

_PHONES = Prefetch("phones", queryset=Phone.objects.prefetch_related("languages"))
_CONTACTS = Prefetch("contacts", queryset=Contact.objects.prefetch_related(_PHONES))
_ATTRIBUTES = Prefetch("attributes", queryset=Attribute.objects.select_related("taxonomy_term"))


def service_queryset_full(queryset: QuerySet[Service]) -> QuerySet[Service]:
    """Everything a full service document needs, in a fixed number of queries."""
    location_queryset = Location.objects.prefetch_related(
        "addresses", "accessibility", "schedules", "languages", _PHONES, _CONTACTS, _ATTRIBUTES
    )
    # the organisation is prefetched, not joined: its own prefetches then run once for all services
    return queryset.select_related("category").prefetch_related(
        _PHONES,
        "schedules",
        "language_details",
        _CONTACTS,
        _ATTRIBUTES,
        Prefetch(
            "service_at_locations",
            queryset=ServiceAtLocation.objects.prefetch_related(_PHONES, _CONTACTS, "schedules"),
        ),
        Prefetch("locations", queryset=location_queryset),
        Prefetch(
            "organisation",
            queryset=Organisation.objects.prefetch_related(_PHONES, _CONTACTS, _ATTRIBUTES),
        ),
    )


def effective_status(service: Service) -> str:
    """``is_active`` is the switch referrals read; a switched-off "active" service is inactive."""
    if not service.is_active and service.status == "active":
        return "inactive"
    return service.status


class DocumentBuilder:
    """Builds HSDS JSON objects. Reads the (small) taxonomy table once, on first use."""

    def __init__(self):
        self._taxonomies: dict | None = None

    @property
    def taxonomies(self) -> dict:
        if self._taxonomies is None:
            self._taxonomies = {taxonomy.id: taxonomy for taxonomy in Taxonomy.objects.all()}
        return self._taxonomies

    # leaves --------------------------------------------------------------------------------

    def language(self, language) -> dict:
        return scalar_row("language", language, owners=False)

    def phone(self, phone) -> dict:
        row = scalar_row("phone", phone, owners=False)
        row["languages"] = [self.language(language) for language in phone.languages.all()]
        return row

    def contact(self, contact) -> dict:
        row = scalar_row("contact", contact, owners=False)
        row["phones"] = [self.phone(phone) for phone in contact.phones.all()]
        return row

    def schedule(self, schedule) -> dict:
        return scalar_row("schedule", schedule, owners=False)

    def taxonomy(self, taxonomy) -> dict:
        return scalar_row("taxonomy", taxonomy, owners=False, keep_empty=("description",))

    def taxonomy_term(self, term: TaxonomyTerm) -> dict:
        row = scalar_row("taxonomy_term", term, owners=False, keep_empty=("description",))
        if (taxonomy := self.taxonomies.get(term.taxonomy_hsds_id)) is not None:
            row["taxonomy_detail"] = self.taxonomy(taxonomy)
        return row

    def category_term(self, category: ServiceCategory) -> dict:
        row = {
            "id": str(category.pk),
            "code": category.code,
            "name": category.name,
            "description": category.description or category.name,
            "taxonomy": CATEGORY_TAXONOMY["name"],
            "taxonomy_id": str(CATEGORY_TAXONOMY_ID),
            "taxonomy_detail": dict(CATEGORY_TAXONOMY),
        }
        if category.parent_id:
            row["parent_id"] = str(category.parent_id)
        return row

    def attribute(self, attribute: Attribute) -> dict:
        row = scalar_row("attribute", attribute, owners=True)
        row["link_entity"] = attribute.link_entity
        row["link_id"] = str(attribute.link_id)
        row["taxonomy_term"] = self.taxonomy_term(attribute.taxonomy_term)
        return row

    def category_attribute(self, service: Service) -> dict:
        return {
            "id": str(synthetic_id("category", service.pk)),
            "taxonomy_term_id": str(service.category_id),
            "link_type": CATEGORY_LINK_TYPE,
            "link_entity": "service",
            "link_id": str(service.pk),
            "taxonomy_term": self.category_term(service.category),
        }

    # entities ------------------------------------------------------------------------------

    def location(self, location: Location) -> dict:
        row = scalar_row("location", location, owners=False)
        row["languages"] = [self.language(language) for language in location.languages.all()]
        row["addresses"] = [
            scalar_row(
                "address",
                address,
                owners=False,
                keep_empty=("address_1", "city", "state_province", "postal_code", "country"),
            )
            for address in location.addresses.all()
        ]
        row["contacts"] = [self.contact(contact) for contact in location.contacts.all()]
        row["accessibility"] = [
            scalar_row("accessibility", item, owners=False) for item in location.accessibility.all()
        ]
        row["phones"] = [self.phone(phone) for phone in location.phones.all()]
        row["schedules"] = [self.schedule(schedule) for schedule in location.schedules.all()]
        row["attributes"] = [self.attribute(attribute) for attribute in location.attributes.all()]
        return row

    def organization_basic(self, organisation: Organisation) -> dict:
        row = scalar_row("organization", organisation, owners=False, keep_empty=("description",))
        row[PROFILE_KEY] = {
            "acronym": organisation.acronym,
            "kind": organisation.kind,
            "partnership": organisation.partnership,
        }
        return row

    def organization(self, organisation: Organisation) -> dict:
        row = self.organization_basic(organisation)
        row["contacts"] = [self.contact(contact) for contact in organisation.contacts.all()]
        row["phones"] = [self.phone(phone) for phone in organisation.phones.all()]
        row["attributes"] = [self.attribute(attribute) for attribute in organisation.attributes.all()]
        return row

    def service_basic(self, service: Service) -> dict:
        """The service's one-to-one fields (the HSDA list form) with its organization."""
        row = scalar_row("service", service, owners=True)
        row["status"] = effective_status(service)
        row["last_modified"] = service.updated_at.isoformat()
        row[PROFILE_KEY] = service_profile(service)
        row["organization"] = self.organization_basic(service.organisation)
        return row

    def service_at_location(self, service: Service, location: Location, row_of: dict) -> dict:
        link = row_of.get(location.pk)
        row = {"id": str(link.pk if link else synthetic_id("service_at_location", service.pk, location.pk))}
        if link is not None:
            row.update(scalar_row("service_at_location", link, owners=False))
        row["location_id"] = str(location.pk)
        row["contacts"] = [self.contact(contact) for contact in link.contacts.all()] if link else []
        row["phones"] = [self.phone(phone) for phone in link.phones.all()] if link else []
        row["schedules"] = [self.schedule(schedule) for schedule in link.schedules.all()] if link else []
        row["location"] = self.location(location)
        return row

    def service(self, service: Service) -> dict:
        """A full, dereferenced service document (needs ``service_queryset_full``)."""
        row = scalar_row("service", service, owners=True)
        row["status"] = effective_status(service)
        row["last_modified"] = service.updated_at.isoformat()
        row["phones"] = [self.phone(phone) for phone in service.phones.all()]
        row["schedules"] = [self.schedule(schedule) for schedule in service.schedules.all()]
        links = {link.location_id: link for link in service.service_at_locations.all()}
        row["service_at_locations"] = [
            self.service_at_location(service, location, links) for location in service.locations.all()
        ]
        row["languages"] = service_languages(service)
        row["organization"] = self.organization(service.organisation)
        row["contacts"] = [self.contact(contact) for contact in service.contacts.all()]
        row["attributes"] = [self.category_attribute(service)] + [
            self.attribute(attribute) for attribute in service.attributes.all()
        ]
        row[PROFILE_KEY] = service_profile(service)
        return row


def service_profile(service: Service) -> dict:
    """Our own service fields (docs/hsds-profile)."""
    return {
        "accepting_referrals": service.is_accepting_referrals,
        "required_fields": list(service.required_fields),
        "optional_fields": list(service.optional_fields),
        "response_hours": {
            "emergency": service.response_hours_emergency,
            "urgent": service.response_hours_urgent,
            "normal": service.response_hours_normal,
        },
        "outcome_due_days": service.outcome_due_days,
        "sexes": list(service.sexes),
        "specific_needs": list(service.specific_needs),
    }


def service_languages(service: Service) -> list[dict]:
    """Language rows, plus a made-up-id row for every code of ``Service.languages`` without one."""
    rows = [scalar_row("language", language, owners=False) for language in service.language_details.all()]
    covered = {row.get("code") for row in rows}
    for code in service.languages:
        if code not in covered:
            rows.append({"id": str(synthetic_id("language", service.pk, code)), "code": code})
    return rows


def service_documents(queryset: QuerySet[Service] | None = None, chunk_size: int = 500) -> Iterator[dict]:
    builder = DocumentBuilder()
    queryset = service_queryset_full(queryset if queryset is not None else Service.objects.all())
    for service in queryset.order_by("pk").iterator(chunk_size=chunk_size):
        yield builder.service(service)


# Tabular Data Package ------------------------------------------------------------------------


def _columns(table: str) -> list[str]:
    columns = list(scalar_properties(table))
    if table in ("service", "organization"):
        columns.append(PROFILE_KEY)
    return columns


def tabular_rows() -> dict[str, Iterable[dict]]:
    """Rows of every table, keyed by HSDS table name."""
    builder = DocumentBuilder()

    def services():
        for service in Service.objects.order_by("pk").iterator(chunk_size=2000):
            row = scalar_row("service", service, owners=True)
            row["status"] = effective_status(service)
            row["last_modified"] = service.updated_at.isoformat()
            row[PROFILE_KEY] = json.dumps(service_profile(service), sort_keys=True)
            yield row

    def organizations():
        for organisation in Organisation.objects.order_by("pk").iterator(chunk_size=2000):
            row = builder.organization_basic(organisation)
            row[PROFILE_KEY] = json.dumps(row[PROFILE_KEY], sort_keys=True)
            yield row

    def plain(table):
        model = TABLES[table].model
        for obj in model.objects.order_by("pk").iterator(chunk_size=2000):
            yield scalar_row(table, obj, owners=True)

    def service_at_locations():
        links = {(link.service_id, link.location_id): link for link in ServiceAtLocation.objects.all()}
        through = Service.locations.through
        for service_id, location_id in through.objects.order_by("service_id", "location_id").values_list(
            "service_id", "location_id"
        ):
            link = links.get((service_id, location_id))
            if link is not None:
                yield scalar_row("service_at_location", link, owners=True)
            else:
                yield {
                    "id": str(synthetic_id("service_at_location", service_id, location_id)),
                    "service_id": str(service_id),
                    "location_id": str(location_id),
                }

    def languages():
        yield from plain("language")
        for service in Service.objects.order_by("pk").prefetch_related("language_details").iterator(2000):
            for row in service_languages(service):
                if row["id"] == str(synthetic_id("language", service.pk, row.get("code"))):
                    yield {**row, "service_id": str(service.pk)}

    def taxonomies():
        yield dict(CATEGORY_TAXONOMY)
        yield from plain("taxonomy")

    def taxonomy_terms():
        for category in ServiceCategory.objects.order_by("pk"):
            row = builder.category_term(category)
            del row["taxonomy_detail"]
            yield row
        for term in TaxonomyTerm.objects.order_by("pk"):
            yield scalar_row("taxonomy_term", term, owners=False, keep_empty=("description",))

    def attributes():
        for service in Service.objects.order_by("pk").only("pk", "category_id").iterator(chunk_size=2000):
            yield {
                "id": str(synthetic_id("category", service.pk)),
                "link_id": str(service.pk),
                "taxonomy_term_id": str(service.category_id),
                "link_type": CATEGORY_LINK_TYPE,
                "link_entity": "service",
            }
        for attribute in Attribute.objects.order_by("pk"):
            yield {
                **scalar_row("attribute", attribute, owners=True),
                "link_entity": attribute.link_entity,
                "link_id": str(attribute.link_id),
            }

    tables = {name: plain(name) for name in TABLES}
    tables.update(
        organization=organizations(),
        service=services(),
        service_at_location=service_at_locations(),
        language=languages(),
        taxonomy=taxonomies(),
        taxonomy_term=taxonomy_terms(),
        attribute=attributes(),
    )
    return tables


def write_tabular(outdir: Path) -> dict[str, int]:
    """Write the CSV files and ``datapackage.json``; returns the number of rows per file."""
    outdir.mkdir(parents=True, exist_ok=True)
    counts = {}
    resources = []
    for table, rows in tabular_rows().items():
        spec = TABLES[table]
        columns = _columns(table)
        with (outdir / spec.csv).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="", extrasaction="raise")
            writer.writeheader()
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
        counts[spec.csv] = count
        properties = scalar_properties(table)
        resources.append(
            {
                "name": table,
                "path": spec.csv,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {
                            "name": column,
                            "type": properties.get(column, {}).get("type", "string"),
                            **(
                                {"format": properties[column]["format"]}
                                if "format" in properties.get(column, {})
                                else {}
                            ),
                        }
                        for column in columns
                    ],
                    "primaryKey": "id",
                },
            }
        )
    package = {
        "name": "referral-hub-hsds",
        "title": "Referral Hub service directory (Open Referral HSDS 3.0)",
        "profile": "tabular-data-package",
        "resources": resources,
    }
    (outdir / "datapackage.json").write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
    return counts


def write_json(outdir: Path) -> int:
    """One dereferenced service document per file, named after the service id."""
    outdir.mkdir(parents=True, exist_ok=True)
    count = 0
    for document in service_documents():
        (outdir / f"{document['id']}.json").write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        count += 1
    return count
