"""The Twilio adapter speaks Twilio's REST API (a real HTTP server on 127.0.0.1 stands in for it);
the notification texts are translated in full in French and Arabic, and compiled."""

import base64
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from notifications.sms import SmsError, TwilioSmsGateway
from tests.consent import test_translations

LOCALE = Path(__file__).resolve().parents[2] / "notifications" / "locale"


class Twilio(BaseHTTPRequestHandler):
    seen: list = []
    status = 201

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        Twilio.seen.append(
            (self.path, dict(self.headers), urllib.parse.parse_qs(self.rfile.read(length).decode()))
        )
        self.send_response(Twilio.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio(settings):
    server = HTTPServer(("127.0.0.1", 0), Twilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_API_URL = f"http://127.0.0.1:{server.server_port}"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM = (
        "AC123",
        "secret",
        "+15550001",
    )
    Twilio.seen, Twilio.status = [], 201
    yield Twilio
    server.shutdown()
    server.server_close()


def test_the_twilio_adapter_posts_the_message_with_basic_auth(twilio):
    TwilioSmsGateway().send("+254700000001", "Referral Hub: New referral R-ABC", key="delivery-1")
    ((path, headers, form),) = twilio.seen
    assert path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert headers["Idempotency-Key"] == "delivery-1"
    assert form == {
        "To": ["+254700000001"],
        "From": ["+15550001"],
        "Body": ["Referral Hub: New referral R-ABC"],
    }


def test_a_refusal_from_twilio_is_an_sms_error_to_retry(twilio):
    twilio.status = 500
    with pytest.raises(SmsError):
        TwilioSmsGateway().send("+254700000001", "text", key="k")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_notification_text_is_translated_and_compiled(language):
    test_translations.assert_catalogue_complete(LOCALE, language, at_least=26)
