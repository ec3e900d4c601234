"""common.bulk writes exactly what django-simple-history's bulk functions write, column by column."""

import uuid
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from common.bulk import copy_create_with_history, copy_update_with_history
from partners.models import Location, Organisation, Service
from pathways.models import PathwayLink
from tests.factories import (
    OperationFactory,
    OrganisationFactory,
    PathwayStepFactory,
    ServiceCategoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# text COPY must carry as is: its own delimiters, escapes, quotes, another script
AWKWARD = 'tab\there, new\nline, back\\slash, "quotes", {braces}, NULL, \\N, عربي'


def stored(model, objs, *, ignore=()):
    """Each object's row and history rows, without what differs by construction (ids, times, names)."""
    ignore = {"id", *ignore}
    rows = []
    for obj in objs:
        row = model.objects.filter(pk=obj.pk).values().get()
        history = list(model.history.filter(id=obj.pk).order_by("history_id").values())
        assert all(item.pop("history_date") is not None for item in history)
        rows.append(
            (
                {key: value for key, value in row.items() if key not in ignore},
                [
                    {key: value for key, value in item.items() if key not in {*ignore, "history_id"}}
                    for item in history
                ],
            )
        )
    return rows


def both_ways(make, model, *, author=None, ignore=()):
    """Write ``make(prefix)``'s objects once with simple_history, once with COPY; compare."""
    theirs, ours = make("A"), make("B")
    bulk_create_with_history(theirs, model, default_user=author)
    copy_create_with_history(ours, model, default_user=author)
    assert stored(model, ours, ignore=ignore) == stored(model, theirs, ignore=ignore)
    return theirs, ours


@pytest.mark.parametrize("with_author", [False, True])
def test_services_arrays_foreign_keys_and_awkward_text_are_written_alike(with_author):
    author = UserFactory() if with_author else None
    organisation, category = OrganisationFactory(), ServiceCategoryFactory()

    def make(prefix):
        return [
            Service(
                id=uuid.uuid4(),
                organisation=organisation,
                category=category,
                name=f"{prefix} {n}",
                description=AWKWARD if n else "",
                min_age=n or None,
                sexes=["female", "other"] if n else [],
                languages=["ar", "fr"],
                required_fields=["given_name"],
                is_accepting_referrals=bool(n % 2),
            )
            for n in range(3)
        ]

    theirs, ours = both_ways(make, Service, author=author, ignore={"name", "updated_at"})
    assert Service.objects.get(pk=ours[1].pk).description == AWKWARD
    for objs in (theirs, ours):
        for obj in objs:
            obj.description, obj.sexes, obj.max_age = f"{AWKWARD} (changed)", ["male"], 90
    bulk_update_with_history(theirs, Service, ["description", "sexes", "max_age"], default_user=author)
    copy_update_with_history(ours, Service, fields=["description", "sexes", "max_age"], default_user=author)
    assert stored(Service, ours, ignore={"name", "updated_at"}) == stored(
        Service, theirs, ignore={"name", "updated_at"}
    )
    assert [item["history_type"] for item in stored(Service, ours)[0][1]] == ["+", "~"]


def test_organisations_dates_and_auto_now_add_are_written_alike():
    operation = OperationFactory()

    def make(prefix):
        return [
            Organisation(
                id=uuid.uuid4(),
                name=f"{prefix} organisation {n}",
                acronym=f"{prefix}{n}",
                kind=Organisation.Kind.NATIONAL_NGO,
                operation=operation,
                group=Group.objects.create(name=f"{prefix}-{n}-{uuid.uuid4()}"),
                dsa_signed_on=date(2026, 1, n + 1),
                is_active=False,
            )
            for n in range(2)
        ]

    _theirs, ours = both_ways(make, Organisation, ignore={"name", "acronym", "group_id", "created_at"})
    assert all(obj.created_at is not None for obj in ours)  # set as an INSERT sets it


def test_locations_floats_and_an_update_of_one_column_are_written_alike():
    operation = OperationFactory()

    def make(prefix):
        return [
            Location(
                id=uuid.uuid4(), operation=operation, name=f"{prefix} {n}", kind="site", latitude=2.5 + n
            )
            for n in range(2)
        ]

    theirs, ours = both_ways(make, Location, ignore={"name"})
    for objs in (theirs, ours):
        objs[0].longitude = 31.125
    bulk_update_with_history(theirs, Location, ["longitude"])
    copy_update_with_history(ours, Location, fields=["longitude"])
    assert stored(Location, ours, ignore={"name"}) == stored(Location, theirs, ignore={"name"})


def test_json_conditions_are_written_alike():
    step = PathwayStepFactory()
    other = PathwayStepFactory(pathway=step.pathway)

    def make(prefix):
        return [
            PathwayLink(
                id=uuid.uuid4(),
                pathway=step.pathway,
                key=f"{prefix.lower()}-{n}",
                from_step=step,
                to_step=other,
                condition={"any": [{"age": {"max": 17}}, {"sex": {"in": ["female"]}}]} if n else {},
                note=AWKWARD,
            )
            for n in range(2)
        ]

    both_ways(make, PathwayLink, ignore={"key"})


def test_a_row_the_database_refuses_stops_the_whole_copy():
    organisation, category = OrganisationFactory(), ServiceCategoryFactory()
    twins = [
        Service(id=uuid.uuid4(), organisation=organisation, category=category, name="Same") for _ in range(2)
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_create_with_history(twins, Service)
    assert not Service.objects.filter(name="Same").exists()
    assert not Service.history.filter(name="Same").exists()
