"""The soak's clients, run by locust (``python -m soak`` starts it; not a module to import).

- ``Partner``: a caseworker of a receiving organisation working the inbox with the shipped
  operations of graphql/operations: ``inbox.graphql`` (one status at a time), opens one referral it
  may act on (``referral.graphql``, a payload read that lands in the access log), then takes one
  step: acknowledge, accept, decline or complete. Caseworkers of one organisation share an inbox,
  so they race for the same referrals; losing a race is the API's ``invalid_transition``, counted
  as a conflict, not a failure.
- ``Officer``: a protection officer sending referrals over REST (``POST /api/v1/referrals``) for
  persons whose consent was recorded beforehand, each send with an ``Idempotency-Key`` of its own:
  the marker the count check looks for. A send without an answer (connection lost, 5xx) is
  retried with the same key, as the API asks; some sends are submitted twice on purpose, one after
  the other or both at once, as a double-clicked form does, and must still make one referral.

Every request and every send and step the clients saw is appended to ``SOAK_RECORDS`` as a JSON
line; ``soak.check`` reads them. ``SOAK_MAX_REQUESTS`` bounds the requests (locust's ``--run-time``
the time): the request past the bound is not sent, and the run stops.

Requests carry ``X-Forwarded-Proto: https``, as the TLS-terminating proxy in front of gunicorn
does in production (docs/operations.md); the server keeps its production settings.
"""

import itertools
import json
import os
import random
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, between, events, task
from locust.exception import RescheduleTask

OPERATIONS = Path(__file__).resolve().parent.parent / "graphql" / "operations"
WORLD = json.loads(Path(os.environ["SOAK_WORLD"]).read_text(encoding="utf-8"))
RUN = os.environ.get("SOAK_RUN", "soak")
MAX_REQUESTS = int(os.environ.get("SOAK_MAX_REQUESTS", "100000"))
THINK = tuple(float(value) for value in os.environ.get("SOAK_THINK", "0.5,1.5").split(","))
RESUBMIT_SHARE = 0.05  # sends submitted again after their answer, with the same key
DOUBLE_CLICK_SHARE = 0.05  # sends submitted twice at once
SEND_TRIES = 3
# choices of the load, not secrets
RANDOM = random.Random(int(os.environ.get("SOAK_SEED", "0")) or None)  # noqa: S311


def _operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


QUERIES = {
    name: _operation(name) for name in ("inbox", "referral", "acknowledge", "accept", "decline", "complete")
}
MUTATION_FIELDS = {
    "acknowledge": "acknowledgeReferral",
    "accept": "acceptReferral",
    "decline": "declineReferral",
    "complete": "completeReferral",
}
STEP_ARGUMENTS = {
    "decline": lambda: {"reason": RANDOM.choice(["no_capacity", "not_eligible", "outside_area"])},
    "complete": lambda: {
        "outcome": RANDOM.choice(["SERVICE_PROVIDED", "PARTIALLY_PROVIDED", "PERSON_UNREACHABLE"])
    },
}


class Records:
    """Appends one JSON line per fact; the file is read after locust has exited."""

    def __init__(self, path: str):
        self.handle = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the run
        self.requests = 0
        self.stopping = False

    def write(self, **fact) -> None:
        fact.setdefault("done_at", time.time())  # when the client had its answer (or gave up)
        self.handle.write(json.dumps(fact) + "\n")

    def take_request(self, environment) -> None:
        """Count a request about to be sent; past the bound, stop the run instead of sending it."""
        if self.requests >= MAX_REQUESTS:
            if not self.stopping:
                self.stopping = True
                gevent.spawn(environment.runner.quit)
            raise RescheduleTask()  # ends the task: the user waits, and the stopping run ends it there
        self.requests += 1


RECORDS = Records(os.environ["SOAK_RECORDS"])


@events.quitting.add_listener
def _close_records(environment, **kwargs):
    RECORDS.handle.close()


class Client(FastHttpUser):
    abstract = True
    wait_time = between(*THINK)
    network_timeout = 60.0  # above gunicorn's worker timeout: a stuck worker shows as its 5xx/reset
    connection_timeout = 60.0
    people: list = []  # the clients of this kind in the world; each user takes the next one
    taken: itertools.count

    def on_start(self):
        self.me = self.people[next(self.taken) % len(self.people)]
        self.headers = {
            "Authorization": f"Token {self.me['token']}",
            "X-Forwarded-Proto": "https",
            "Content-Type": "application/json",
        }

    def call(self, method: str, path: str, name: str, body=None, headers=None) -> tuple[int, dict | None]:
        """One request: (status, JSON body or None); 0 when no answer came. Recorded with its time."""
        RECORDS.take_request(self.environment)
        started_at = time.time()
        started = time.perf_counter()
        with self.client.request(
            method,
            path,
            data=json.dumps(body) if body is not None else None,
            headers={**self.headers, **(headers or {})},
            name=name,
            catch_response=True,
        ) as response:
            elapsed_ms = (time.perf_counter() - started) * 1000
            status = response.status_code or 0
            try:
                document = response.json() if status else None
            except ValueError:
                document = None
            server_error = status == 0 or status >= 500 or _internal_graphql_error(document)
            RECORDS.write(
                kind="request",
                name=name,
                status=status,
                ms=round(elapsed_ms, 2),
                at=started_at,
                done_at=started_at + elapsed_ms / 1000,
                server_error=server_error,
                error=None if not server_error else (response.text or str(response.error))[:300],
            )
            if server_error:
                response.failure(f"{status}: {(response.text or str(response.error))[:200]}")
            else:
                response.success()  # a refusal (4xx) is judged by the caller, not by locust
        return status, document

    def graphql(self, name: str, variables: dict) -> tuple[int, dict | None]:
        return self.call("POST", "/graphql", name, {"query": QUERIES[name], "variables": variables})


def _internal_graphql_error(document) -> bool:
    errors = (document or {}).get("errors") if isinstance(document, dict) else None
    return any((error.get("extensions") or {}).get("code") == "internal_error" for error in errors or [])


def _step_for(referral: dict) -> str | None:
    """What a caseworker does next with a referral in this state, if the API lets them."""
    can = referral["viewerCan"]
    if can["complete"]:
        return "complete"
    if can["acknowledge"]:  # sent: most are acknowledged first, some answered at once
        return RANDOM.choices(["acknowledge", "accept", "decline"], weights=[60, 25, 15])[0]
    if can["accept"]:
        return RANDOM.choices(["accept", "decline"], weights=[85, 15])[0]
    return None


class Partner(Client):
    people = WORLD["partners"]
    taken = itertools.count()
    fixed_count = len(WORLD["partners"])

    @task
    def work_inbox(self):
        status = RANDOM.choice(["SENT", "ACKNOWLEDGED", "ACCEPTED"])
        code, inbox = self.graphql("inbox", {"first": 20, "status": status})
        if code != 200 or not (inbox or {}).get("data"):
            return
        edges = inbox["data"]["referralInbox"]["edges"]
        open_ones = [edge["node"] for edge in edges if any(edge["node"]["viewerCan"].values())]
        if not open_ones:
            return
        node = RANDOM.choice(open_ones)
        code, opened = self.graphql("referral", {"id": node["id"]})
        referral = ((opened or {}).get("data") or {}).get("referral")
        if code != 200 or referral is None:
            return
        step = _step_for(referral)
        if step is None:  # taken further by a colleague since the inbox was read
            return
        outcome, error_code = "unknown", None
        try:
            code, answer = self.graphql(step, {"id": referral["id"], **STEP_ARGUMENTS.get(step, dict)()})
            result = ((answer or {}).get("data") or {}).get(MUTATION_FIELDS[step])
            if code == 200 and result is not None:
                error_code = result["errors"][0]["code"] if result["errors"] else None
                outcome = (
                    "done"
                    if error_code is None
                    else "conflict"
                    if error_code == "invalid_transition"
                    else "refused"
                )
        finally:  # stopped mid-step too: then its outcome is unknown to the client
            RECORDS.write(
                kind="step",
                action=step,
                referral=referral["id"],
                outcome=outcome,
                code=error_code,
                by=self.me["username"],
            )


class Officer(Client):
    people = WORLD["officers"]
    taken = itertools.count()
    fixed_count = len(WORLD["officers"])

    def on_start(self):
        super().on_start()
        self.sent = itertools.count(1)

    def _post(self, key: str, body: dict) -> tuple[int, dict | None]:
        return self.call("POST", "/api/v1/referrals", "send", body, headers={"Idempotency-Key": key})

    def _send(self, key: str, body: dict) -> tuple[int, dict | None]:
        """Send until answered, with the same key (what the key is for)."""
        for _ in range(SEND_TRIES):
            status, document = self._post(key, body)
            if status and status < 500:
                return status, document
        return 0, None

    def _record(self, key: str, body: dict, status: int, document, *, attempt: str) -> None:
        outcome = {201: "created", 200: "replayed"}.get(status, "unknown" if not status else "refused")
        RECORDS.write(
            kind="send",
            key=key,
            organisation=self.me["organisation"],
            person=body["person"],
            service=body["to_service"],
            attempt=attempt,
            outcome=outcome,
            status=status,
            id=(document or {}).get("id") if outcome in {"created", "replayed"} else None,
            code=((document or {}).get("error") or {}).get("code") if outcome == "refused" else None,
        )

    @task
    def send_referral(self):
        person, consent = RANDOM.choice(self.me["persons"])
        key = f"{RUN}-{self.me['username']}-{next(self.sent)}"
        body = {
            "person": person,
            "consent": consent,
            "to_service": RANDOM.choice(WORLD["services"]),
            "urgency": RANDOM.choice(["normal", "normal", "urgent", "emergency"]),
            "reason_note": f"Soak referral {key}",
        }
        try:
            if RANDOM.random() < DOUBLE_CLICK_SHARE:
                both = [gevent.spawn(self._send, key, body) for _ in range(2)]
                gevent.joinall(both, raise_error=True)
                for greenlet in both:
                    self._record(key, body, *greenlet.value, attempt="double_click")
                return
            status, document = self._send(key, body)
            self._record(key, body, status, document, attempt="first")
            if status == 201 and RANDOM.random() < RESUBMIT_SHARE:
                self._record(key, body, *self._send(key, body), attempt="resubmit")
        except BaseException:
            # stopped mid-send (the request bound, the end of the run): whether it was created is
            # unknown to the client, and the count check must say so rather than call it unexpected
            self._record(key, body, 0, None, attempt="interrupted")
            raise
