"""The embedded PostgreSQL is sized for the machine it runs on, not left at PostgreSQL's defaults."""

import pytest
from django.db import connection

from hub.local_state import embedded_settings

GB = 1024**3


def test_a_two_core_24_gb_machine_gets_a_quarter_as_shared_buffers_and_the_rest_as_cache():
    wanted = embedded_settings(memory_bytes=24 * GB, cores=2)
    assert wanted["shared_buffers"] == "6144MB"
    assert wanted["effective_cache_size"] == "18432MB"
    assert wanted["work_mem"] == "61MB"
    assert wanted["maintenance_work_mem"] == "1536MB"
    assert wanted["max_parallel_workers_per_gather"] == "1"
    assert wanted["random_page_cost"] == "1.1"


def test_a_small_machine_keeps_the_floors_and_a_large_one_the_ceilings():
    small = embedded_settings(memory_bytes=GB // 2, cores=1)
    assert small["shared_buffers"] == "128MB" and small["work_mem"] == "4MB"
    assert small["max_parallel_workers_per_gather"] == "0"
    large = embedded_settings(memory_bytes=256 * GB, cores=64)
    assert large["shared_buffers"] == "8192MB" and large["work_mem"] == "64MB"
    assert large["max_parallel_workers_per_gather"] == "4"


@pytest.mark.django_db
def test_the_running_server_has_the_settings_that_apply_without_a_restart():
    wanted = embedded_settings()
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
        cursor.execute("SHOW random_page_cost")
        random_page_cost = cursor.fetchone()[0]
    assert work_mem == wanted["work_mem"] and random_page_cost == "1.1"
