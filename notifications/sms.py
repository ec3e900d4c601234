"""SMS gateways: ``send(to, text, *, key)``. ``SMS_BACKEND`` names the class; the file gateway
(demo, tests) appends one JSON line per message to ``SMS_FILE_PATH``; the Twilio gateway posts to
Twilio's REST API over HTTPS with the standard library. ``key`` is the delivery's idempotency key:
the file records it, and Twilio is given it in the status-callback query, so a duplicate can be
told apart by whoever reads the provider's logs."""

from __future__ import annotations

import base64
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The gateway did not take the message; the delivery job tries again later."""


class SmsGateway:
    def send(self, to: str, text: str, *, key: str = "") -> None:
        raise NotImplementedError


class FileSmsGateway(SmsGateway):
    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, to: str, text: str, *, key: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": timezone.now().isoformat(), "to": to, "text": text, "key": key})
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class ConsoleSmsGateway(SmsGateway):
    def send(self, to: str, text: str, *, key: str = "") -> None:
        print(f"SMS to {to}: {text}", file=sys.stdout, flush=True)


class TwilioSmsGateway(SmsGateway):
    """Twilio's Messages resource: POST {TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json with
    HTTP basic authentication (account SID, auth token); 201 means accepted."""

    def __init__(self) -> None:
        self.sid = settings.TWILIO_ACCOUNT_SID
        self.token = settings.TWILIO_AUTH_TOKEN
        self.sender = settings.TWILIO_FROM
        self.base = settings.TWILIO_API_URL.rstrip("/")

    def send(self, to: str, text: str, *, key: str = "") -> None:
        url = f"{self.base}/2010-04-01/Accounts/{urllib.parse.quote(self.sid)}/Messages.json"
        body = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": text}).encode()
        credentials = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the URL is a setting, https in production
            url,
            data=body,
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT_SECONDS) as response:  # noqa: S310
                if response.status not in (200, 201):
                    raise SmsError(f"Twilio answered {response.status}")
        except OSError as error:  # URLError, HTTPError, timeouts
            raise SmsError(f"Twilio did not take the message: {error}") from error


def gateway() -> SmsGateway:
    return import_string(settings.SMS_BACKEND)()
