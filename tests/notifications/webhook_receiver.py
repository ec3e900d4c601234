"""A partner's webhook receiver, for tests: a real HTTP server on 127.0.0.1 in a thread.

It verifies signatures the way the Standard Webhooks specification publishes it, written here from
the specification and not from the product's code: the secret is ``whsec_`` + base64 of the key; the
signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; ``webhook-signature`` holds one or
more space-separated ``v1,<base64 HMAC-SHA256>``. It processes each ``webhook-id`` once (a repeat is
acknowledged and dropped), and answers what the test scripts: a status code, "process then fail",
or "hang" (until the test ends: the sender's timeout must give up first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """True when one of the header's v1 signatures is the HMAC of this message under ``secret``."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    content = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Receiver:
    def __init__(self) -> None:
        self.script: list = []  # what to answer, request by request; then 200
        self.requests: list[tuple[dict, bytes]] = []
        self.processed: dict[str, dict] = {}  # webhook-id → the event, once
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append((headers, body))
                answer = receiver.script.pop(0) if receiver.script else 200
                if answer == "hang":
                    receiver.release.wait(30)
                    return
                if answer in (200, "process-then-500"):
                    receiver.processed.setdefault(headers["webhook-id"], json.loads(body))
                status = 500 if answer == "process-then-500" else answer
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/referral-hub"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
