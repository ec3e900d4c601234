"""Partner webhooks on the wire: Standard Webhooks signatures, the address rules, one HTTP attempt,
the retry schedule. No ORM here: ``services`` decides what to send and records what happened.

Signing (https://www.standardwebhooks.com): a secret is ``whsec_`` + base64 of 32 random bytes; a
delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``:
space-separated ``v1,<base64 HMAC-SHA256 of "id.timestamp.body" under the decoded secret>``, one
per secret that signs (the current one, and during a rotation's grace the previous one).

Addresses (server-side request forgery): a webhook URL is https, names a host, carries no user or
password, and never an address that is private, link-local, loopback, multicast or reserved —
loopback (and plain http to it) only with ``WEBHOOKS_ALLOW_LOOPBACK``. A name is resolved at each
delivery, every address it resolves to is checked, and the connection goes to the address that was
checked, so a name that changes between the check and the connection gains nothing. Redirects
are not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import random
import secrets
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"
USER_AGENT = "ReferralHub-Webhooks/1"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
RETRYABLE_STATUSES = (408, 429)


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 signature>`` of one message under one secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_)


# Addresses ----------------------------------------------------------------------------------


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not address.is_multicast


def _is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, *, allow_loopback: bool) -> str | None:
    """Why ``url`` cannot be a webhook endpoint, or None. Names are not resolved here (they are at
    every delivery); literal addresses and loopback names are judged now."""
    if not isinstance(url, str) or not url or len(url) > 500:
        return "Give the endpoint's URL, at most 500 characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Not a valid URL."
    host = parts.hostname or ""
    if not host or port == 0:
        return "The URL must name a host."
    if parts.username or parts.password:
        return "The URL must not carry a user name or password."
    loopback = _is_loopback_host(host)
    if parts.scheme == "http" and not (loopback and allow_loopback):
        return "The URL must start with https://."
    if parts.scheme not in ("https", "http"):
        return "The URL must start with https://."
    if loopback and not allow_loopback:
        return "The URL must not point at this machine (a loopback address)."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not _address_allowed(address, allow_loopback):
        return "The URL must not point at a private, link-local or reserved address."
    return None


class AddressRefused(Exception):
    """The endpoint's host resolves to an address deliveries may not go to."""


def resolve_allowed(host: str, port: int, *, allow_loopback: bool) -> str:
    """The address to connect to: ``host`` resolved, every address it has checked."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise AddressRefused("no_address")
    for address in addresses:
        if not _address_allowed(ipaddress.ip_address(address.split("%")[0]), allow_loopback):
            raise AddressRefused("address_not_allowed")
    return addresses[0]


# One attempt --------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address; the certificate is still verified against the host name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    retryable: bool
    status_code: int | None = None
    error: str = ""  # a short kind: http_500, timeout, connection_error, address_not_allowed, …


def post(url: str, *, headers: dict[str, str], body: bytes, timeout: float, allow_loopback: bool) -> Attempt:
    """POST once. 2xx delivers; 5xx, 408, 429, timeouts and connection errors are worth retrying;
    any other answer (a 4xx, a redirect) or a refused address is not."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        address = resolve_allowed(parts.hostname, port, allow_loopback=allow_loopback)
    except AddressRefused as refused:
        return Attempt(delivered=False, retryable=False, error=str(refused))
    except OSError:
        return Attempt(delivered=False, retryable=True, error="name_not_resolved")
    if not https and not (allow_loopback and _is_loopback_host(parts.hostname)):
        return Attempt(delivered=False, retryable=False, error="https_required")
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read(4096)  # the answer's body is not ours to keep
        status = response.status
    except TimeoutError:
        return Attempt(delivered=False, retryable=True, error="timeout")
    except (OSError, http.client.HTTPException):
        return Attempt(delivered=False, retryable=True, error="connection_error")
    finally:
        connection.close()
    if 200 <= status < 300:
        return Attempt(delivered=True, retryable=False, status_code=status)
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    return Attempt(delivered=False, retryable=retryable, status_code=status, error=f"http_{status}")


def retry_delay(attempt: int, *, base: float, cap: float, jitter: float, seed: str) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt: exponential, capped, jittered. The
    jitter is drawn from ``seed`` (the delivery and the attempt), so a schedule can be recomputed."""
    delay = min(base * 2 ** (attempt - 1), cap)
    spread = random.Random(f"{seed}:{attempt}")  # noqa: S311 -- spreading retries out, not a secret
    return delay * spread.uniform(1 - jitter, 1 + jitter)
