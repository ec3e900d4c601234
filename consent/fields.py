"""Model fields whose values are encrypted at rest (see ``consent.crypto``).

The column is ``text`` holding a Fernet token; Python sees the plain value. ``None`` is stored as
NULL and the empty string as the empty string, so "not given" needs no ciphertext. Values cannot be
searched (the ciphertext is randomised): only ``isnull`` lookups are allowed; look persons up by
the HMAC column instead. Reused by other apps (the referral payload snapshot uses
``EncryptedJSONField``).
"""

import datetime
import json

from django.core.exceptions import FieldError, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from consent import crypto

ALLOWED_LOOKUPS = frozenset({"isnull"})


class EncryptedFieldMixin:
    """Encrypts on the way to the database and decrypts on the way back."""

    encrypted = True

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "TextField"

    # Subclasses convert between the Python value and the plaintext string.
    def to_plaintext(self, value) -> str:
        return str(value)

    def from_plaintext(self, text: str):
        return text

    def get_prep_value(self, value):
        value = self.to_python(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(self.to_plaintext(value))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return self.from_plaintext(crypto.decrypt(value))

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

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))

    def from_plaintext(self, text: str):
        return json.loads(text)

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


def encrypted_fields(model) -> list[models.Field]:
    """The encrypted concrete fields of a model (its historical model included)."""
    return [field for field in model._meta.concrete_fields if getattr(field, "encrypted", False)]
