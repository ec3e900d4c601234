"""Envelope encryption of personal data, and keyed hashes for lookups. Pure: no models, no queries.

The key hierarchy (docs/operations.md):

- **master keys** — ``settings.FIELD_ENCRYPTION_KEYS``, a ``MultiFernet`` ring, newest first: the
  newest wraps, every key unwraps, ``rewrap`` moves a wrapped key under the newest. They encrypt
  nothing but person data keys.
- **person data keys** — one random Fernet key per person (``consent.PersonKey``), stored only
  wrapped under the master ring, never in a history table and never logged. Erasure destroys it.
- **fields** — every personal value of the person, wherever it is copied (the person's own row,
  their consent records and requests, referral payloads and notes, event notes, the history rows
  of all of these), is a Fernet token under that person's data key, prefixed with the key's id:
  ``pk1:<key id, 32 hex>:<Fernet token>``.

Registration numbers are also stored as an HMAC-SHA256 under ``settings.FIELD_HMAC_KEY`` so
officers can look a person up by number without the number being searchable in clear; so is each
word of a person's given and family names (``name_hashes``, under a key derived for names only, so
that a name's hash never equals a number's), to find a person by name without opening every row.
"""

import hashlib
import hmac
import re
import unicodedata
import uuid
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Every Fernet token starts with the version byte 0x80, base64url-encoded as "gAAAAA": the wrapped
# data keys are such tokens (under the master ring).
TOKEN_PREFIX = "gAAAAA"
# Every encrypted field value starts with this, then the data key's id and the Fernet token.
DATA_TOKEN_PREFIX = "pk1:"
_DATA_TOKEN = re.compile(r"^pk1:([0-9a-f]{32}):(gAAAAA[A-Za-z0-9_\-=]+)$")


class DecryptionError(Exception):
    """A stored value could not be decrypted (wrong or missing master key, or no such data key)."""


class PersonKeyDestroyed(DecryptionError):
    """The person's data key was destroyed by their erasure: their data can no longer be read or written."""


@lru_cache(maxsize=8)
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise DecryptionError("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def master_ring_id() -> tuple[str, ...]:
    """Identifies the configured master keys: unwrapped data keys are only valid for this ring."""
    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def key_ring() -> MultiFernet:
    return _ring(master_ring_id())


# Master keys → person data keys ------------------------------------------------------------


def new_data_key() -> bytes:
    """A fresh random data key (32 bytes from the OS random source, as Fernet wants them)."""
    return Fernet.generate_key()


def wrap(data_key: bytes) -> str:
    """The data key encrypted under the newest master key: the only form in which it is stored."""
    return key_ring().encrypt(data_key).decode("ascii")


def unwrap(wrapped: str) -> bytes:
    try:
        return key_ring().decrypt(wrapped.encode("ascii"))
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("A data key could not be unwrapped with the configured master keys.") from exc


def is_wrapped_under_newest(wrapped: str) -> bool:
    keys = master_ring_id()
    if not keys:
        raise DecryptionError("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        _ring(keys[:1]).decrypt(wrapped.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rewrap(wrapped: str) -> str:
    """The same data key, wrapped under the newest master key (the data it encrypts is untouched)."""
    try:
        return key_ring().rotate(wrapped.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("A data key could not be unwrapped with the configured master keys.") from exc


# Person data keys → fields -----------------------------------------------------------------


def seal(data_key: Fernet, key_id: uuid.UUID, plaintext: str) -> str:
    token = data_key.encrypt(plaintext.encode("utf-8")).decode("ascii")
    return f"{DATA_TOKEN_PREFIX}{key_id.hex}:{token}"


def key_id_of(token: str) -> uuid.UUID:
    """The id of the data key a stored value is sealed with (read from its prefix, no decryption)."""
    match = _DATA_TOKEN.match(token)
    if match is None:
        raise DecryptionError("A stored value is not sealed with a person data key.")
    return uuid.UUID(match.group(1))


def unseal(data_key: Fernet, token: str) -> str:
    match = _DATA_TOKEN.match(token)
    if match is None:
        raise DecryptionError("A stored value is not sealed with a person data key.")
    try:
        return data_key.decrypt(match.group(2).encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("A stored value could not be decrypted with its data key.") from exc


# Lookup hashes -----------------------------------------------------------------------------


def normalise_registration_number(value: str) -> str:
    """``kak 23-000101`` and ``KAK23000101`` are the same number: upper case, letters and digits only."""
    return re.sub(r"[^0-9A-Z]", "", value.upper())


def registration_number_hash(value: str) -> str:
    return hmac.new(
        settings.FIELD_HMAC_KEY.encode(), normalise_registration_number(value).encode(), hashlib.sha256
    ).hexdigest()


# Names: each word of the given and family names, normalised, as its own keyed hash. A search hashes
# the words typed the same way and asks for rows holding all of them: an exact word match, in any
# order, without reading a single name.
_NAME_SEPARATORS = re.compile(r"[\W_]+")


def normalise_name_words(value: str) -> list[str]:
    """``José  al-Hassan`` → ``["jose", "al", "hassan"]``: compatibility forms, no case, no accents
    or Arabic short vowels (combining marks), words split at anything that is not a letter or digit."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    # tatweel (the Arabic stretching stroke) is a letter to Unicode, but never part of a name
    bare = bare.replace("\u0640", "")
    return [word for word in _NAME_SEPARATORS.split(unicodedata.normalize("NFKC", bare).casefold()) if word]


def _name_key() -> bytes:
    return hmac.new(settings.FIELD_HMAC_KEY.encode(), b"person-name-lookup", hashlib.sha256).digest()


def name_word_hashes(*names: str | None) -> list[str]:
    """The keyed hashes of every word of ``names``, each once, in a stable order."""
    key = _name_key()
    words = dict.fromkeys(word for name in names for word in normalise_name_words(name or ""))
    return [hmac.new(key, word.encode(), hashlib.sha256).hexdigest() for word in words]
