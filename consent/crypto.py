"""Field encryption and keyed hashes for personal data.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) through a ``MultiFernet`` key ring:
``settings.FIELD_ENCRYPTION_KEYS`` lists keys newest first; the newest encrypts, every key
decrypts, and ``rotate`` re-encrypts a token under the newest key. Registration numbers are
also stored as an HMAC-SHA256 under ``settings.FIELD_HMAC_KEY`` so officers can look a person up
by number without the number being searchable in clear.
"""

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Every Fernet token starts with the version byte 0x80, base64url-encoded as "gAAAAA".
TOKEN_PREFIX = "gAAAAA"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any key of the ring (wrong or missing key)."""


@lru_cache(maxsize=8)
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise DecryptionError("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def key_ring() -> MultiFernet:
    return _ring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return key_ring().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return key_ring().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("A stored value could not be decrypted with the configured keys.") from exc


def rotate(token: str) -> str:
    """The same plaintext, encrypted under the newest key (keeps the original timestamp)."""
    try:
        return key_ring().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("A stored value could not be decrypted with the configured keys.") from exc


def normalise_registration_number(value: str) -> str:
    """``kak 23-000101`` and ``KAK23000101`` are the same number: upper case, letters and digits only."""
    return re.sub(r"[^0-9A-Z]", "", value.upper())


def registration_number_hash(value: str) -> str:
    return hmac.new(
        settings.FIELD_HMAC_KEY.encode(), normalise_registration_number(value).encode(), hashlib.sha256
    ).hexdigest()
