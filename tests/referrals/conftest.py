import pytest

from pathways.selectors import graph_cache_clear


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # referrals follow pathway links; the graph cache is per process, so keep tests independent
    graph_cache_clear()
    yield
    graph_cache_clear()
