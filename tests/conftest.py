import pytest

from tests.broker import broker_down, tasks_held  # noqa: F401 - fixtures
from tests.image_server import image_server  # noqa: F401 - fixture
from tests.sandbox import *  # noqa: F403 - sandbox fixtures


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (rate limiter windows, throttles)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _compiled_messages():
    """The .mo catalogues are build products (gitignored, made by `make messages`): compile any that are stale,
    so a plain `pytest` sees the same translations as `make test`."""
    import fcntl
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    locale = Path(settings.BASE_DIR, "locale")
    # pytest-xdist workers run this at once: one compiles while the others wait, so none reads a half-written file.
    with open(locale / ".compile.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for po in locale.glob("*/LC_MESSAGES/*.po"):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                call_command("compilemessages", locale=[po.parents[1].name], verbosity=0)
