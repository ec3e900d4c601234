import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def _no_jobs_left_by_other_tests(request):
    """Jobs committed by transactional tests elsewhere stay in the job tables (Django does not flush
    them); each test here starts from an empty queue, inside its own transaction."""
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    if uses_db and "transactional_db" not in request.fixturenames:  # those empty it themselves
        request.getfixturevalue("db")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")
    yield
