import pytest

from tests.image_server import image_server  # noqa: F401 - fixture
from tests.sandbox import *  # noqa: F403 - sandbox fixtures


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (rate limiter windows, throttles)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
