"""The door's job: text a one-time code (deferred by ``community.services.status_code_request``)."""

from procrastinate.contrib.django import app

from common.jobs import db_job
from community import services


@app.task(name=services.SEND_CODE, queue="notifications")
@db_job
def send_code(challenge_id: str, sealed_code: str) -> None:
    services.status_code_deliver(challenge_id=challenge_id, sealed_code=sealed_code)
