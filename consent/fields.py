"""Model fields whose values are sealed at rest with the data key of the person they belong to.

The column is ``text`` holding ``pk1:<key id>:<Fernet token>`` (``consent.crypto``); Python sees
the plain value. ``None`` is stored as NULL and the empty string as the empty string, so "not
given" needs no ciphertext. Values cannot be searched (the ciphertext is randomised): only
``isnull`` lookups are allowed; look persons up by the HMAC column instead. Reused by other apps
(the referral payload snapshot is an ``EncryptedJSONField``).

Whose key. ``key_from`` names, as a dotted attribute path from the row, the id of the person the
value belongs to: ``"person_id"`` by default; ``"id"`` on ``Person`` itself (and its history rows,
whose ``id`` is the person's); ``"referral.person_id"`` on a referral event. The key is looked up
when the row is saved (``pre_save``), so a value can only be written through a model instance:
``QuerySet.update()`` and ``bulk_update()`` may clear an encrypted column but not set it.

Opening. A value read from the database stays sealed until its attribute is first read; then it
is opened with its person's key (``consent.keys``), which loads the keys of every row read so far
in one query — a page of rows costs one key query, not one per row. A value whose key has been
destroyed reads as ``None``: its person was erased (``consent.keys.unseal`` itself raises). ``values()`` and
``values_list()`` open their rows the same way, a chunk at a time, on querysets of
``DecryptingQuerySet`` (every model with encrypted fields uses it; a system check says so). A
value never opened is written back unchanged (no decryption, no new ciphertext) when the row is
saved.
"""

import datetime
import itertools
import json
from functools import cache

from django.core.exceptions import FieldError, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from simple_history.manager import HistoricalQuerySet
from simple_history.models import HistoricalRecords

from consent import crypto, keys

ALLOWED_LOOKUPS = frozenset({"isnull"})
_MISSING = object()


class EncryptionContextError(Exception):
    """An encrypted value was to be written without a model instance that names its person."""


class Sealed:
    """A value as stored, sealed with a person's data key, not opened yet."""

    __slots__ = ("field", "key_id", "token")

    def __init__(self, field, token: str) -> None:
        self.field, self.token, self.key_id = field, token, None
        try:
            self.key_id = crypto.key_id_of(token)
        except crypto.DecryptionError:
            return  # opening it will say so
        keys.want(self.key_id)

    def open(self):
        try:
            return self.field.from_plaintext(keys.unseal(self.token))
        except crypto.PersonKeyDestroyed:
            # the person was erased while this row was being read (the erasure clears every value
            # before it destroys the key): the value is gone, as the erasure meant
            return None

    def __repr__(self) -> str:
        return f"<sealed value of {self.field.model.__name__}.{self.field.name}>"


def unseal(value):
    """``value`` itself, or its plaintext when it is a sealed value."""
    return value.open() if isinstance(value, Sealed) else value


class OpeningAttribute(DeferredAttribute):
    """The attribute of an encrypted field: opens the sealed value on first read and keeps the result.

    A data descriptor (it has ``__set__``), so that it is asked even when the instance holds the value.
    """

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = value.open()
            instance.__dict__[self.field.attname] = value
        return value


class EncryptedFieldMixin:
    """Seals on the way to the database with the row's person key; opens lazily on the way back."""

    encrypted = True
    descriptor_class = OpeningAttribute

    def __init__(self, *args, key_from: str = "person_id", **kwargs):
        self.key_from = key_from
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.key_from != "person_id":
            kwargs["key_from"] = self.key_from
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    # Subclasses convert between the Python value and the plaintext string.
    def to_plaintext(self, value) -> str:
        return str(value)

    def from_plaintext(self, text: str):
        return text

    def is_empty(self, value) -> bool:
        """Stored as it is, without ciphertext."""
        return value is None or value == ""

    def person_id_of(self, instance):
        value = instance
        for name in self.key_from.split("."):
            value = getattr(value, name)
            if value is None:
                raise EncryptionContextError(
                    f"{type(instance).__name__}.{self.name}: no person to take the data key from "
                    f"('{self.key_from}' is empty)."
                )
        return value

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname, _MISSING)
        if value is _MISSING:
            value = getattr(model_instance, self.attname)
        if isinstance(value, Sealed):
            return value  # read from this row and never opened: written back as it is
        value = self.to_python(value)
        if self.is_empty(value):
            return value
        token = keys.seal(self.person_id_of(model_instance), self.to_plaintext(value))
        return Sealed(self, token)

    def get_prep_value(self, value):
        if isinstance(value, Sealed):
            return value.token
        value = self.to_python(value)
        if self.is_empty(value):
            return value
        raise EncryptionContextError(
            f"{self.model.__name__}.{self.name} is sealed with the data key of the row's person: set it "
            "on a model instance and save() it (QuerySet.update() and bulk_update() may only clear it)."
        )

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Sealed(self, value)

    def get_lookup(self, lookup_name):
        if lookup_name not in ALLOWED_LOOKUPS:
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted and cannot be searched by value "
                f"(lookup '{lookup_name}')."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted; '{lookup_name}' is not possible.")


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return str(value)


class EncryptedDateField(EncryptedFieldMixin, models.TextField):
    def to_python(self, value):
        if value is None or value == "" or isinstance(value, datetime.date):
            return value or None
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValidationError(f"'{value}' is not a date (YYYY-MM-DD).", code="invalid_date") from exc

    def to_plaintext(self, value) -> str:
        return value.isoformat()

    def from_plaintext(self, text: str):
        return datetime.date.fromisoformat(text)


class EncryptedJSONField(EncryptedFieldMixin, models.TextField):
    """Any JSON-serialisable value (dates and UUIDs become strings, as with ``DjangoJSONEncoder``)."""

    def to_python(self, value):
        return value

    def is_empty(self, value) -> bool:
        return value is None

    def to_plaintext(self, value) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)

    def from_plaintext(self, text: str):
        return json.loads(text)

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


def encrypted_fields(model) -> list[models.Field]:
    """The encrypted concrete fields of a model (its historical model included)."""
    return [field for field in model._meta.concrete_fields if getattr(field, "encrypted", False)]


# Querysets ---------------------------------------------------------------------------------

CHUNK = keys.BATCH  # values() rows opened together (one key query for the lot)


def _open_row(row):
    if isinstance(row, dict):
        return {name: unseal(value) for name, value in row.items()}
    if isinstance(row, tuple):
        values = [unseal(value) for value in row]
        return row._make(values) if hasattr(row, "_make") else tuple(values)
    return unseal(row)


class _Opening:
    pass


@cache
def _opening(iterable_class):
    if issubclass(iterable_class, _Opening):
        return iterable_class

    class Opening(_Opening, iterable_class):
        def __iter__(self):
            rows = super().__iter__()
            # read a chunk first: every sealed value in it has announced its key, so opening the
            # first one loads the keys of the whole chunk in one query
            while chunk := list(itertools.islice(rows, CHUNK)):
                yield from (_open_row(row) for row in chunk)

    Opening.__name__ = Opening.__qualname__ = f"Opening{iterable_class.__name__}"
    return Opening


class DecryptingQuerySet(models.QuerySet):
    """Model rows open their encrypted fields on attribute access; this makes ``values()`` and
    ``values_list()`` rows open theirs too."""

    def values(self, *fields, **expressions):
        clone = super().values(*fields, **expressions)
        clone._iterable_class = _opening(clone._iterable_class)
        return clone

    def values_list(self, *fields, flat=False, named=False):
        clone = super().values_list(*fields, flat=flat, named=named)
        clone._iterable_class = _opening(clone._iterable_class)
        return clone


class DecryptingHistoricalQuerySet(DecryptingQuerySet, HistoricalQuerySet):
    pass


class EncryptedHistoryBase(models.Model):
    """Base of the historical model of a model with encrypted fields: its default manager opens values."""

    objects = DecryptingQuerySet.as_manager()

    class Meta:
        abstract = True


def encrypted_history(**options) -> HistoricalRecords:
    """``HistoricalRecords`` for a model with encrypted fields (history rows are sealed alike)."""
    return HistoricalRecords(
        bases=[EncryptedHistoryBase], historical_queryset=DecryptingHistoricalQuerySet, **options
    )
