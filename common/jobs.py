"""Plumbing for job functions (the tasks each app declares in its ``tasks.py``)."""

import functools

from django.db import close_old_connections, connection


def db_job(func):
    """A synchronous job that uses the ORM. The worker runs each one in a thread of its pool, outside
    any request: like a request, the job starts and ends by dropping a connection that is broken or
    past ``CONN_MAX_AGE``, so a database restart costs one failed attempt, not a stuck worker."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        # called inside a transaction (a test, a job run in-process) it must not end that transaction
        outside = not connection.in_atomic_block
        if outside:
            close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            if outside:
                close_old_connections()

    return run
