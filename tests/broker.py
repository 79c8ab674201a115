"""The `broker_down` fixture: Celery tasks go to a broker nobody listens on, as in an outage."""

import pytest
from celery import Celery

from config.celery_app import app as celery_app


@pytest.fixture
def broker_down(settings):
    """Tasks go to a broker nobody listens on (not in-process): every enqueue fails. Calling the fixture's
    value brings the task runner back (in-process, as in the rest of the suite).

    The suite's app cannot be re-pointed: Celery builds an app's producer pool from the broker URL in force at
    its first `delay()` (an eager one takes a producer too) and keeps it, so a later `broker_url` change is
    ignored. The outage gets a fresh app, configured from the settings like config.celery_app, made current:
    the shared tasks the product enqueues take their app from the current one at each call."""
    previous = {name: getattr(settings, name) for name in ("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    outage_app = Celery(celery_app.main, set_as_current=False)
    outage_app.config_from_object("django.conf:settings", namespace="CELERY")
    outage_app.set_current()
    assert not outage_app.conf.task_always_eager
    assert outage_app.connection_for_write().as_uri(include_password=True) == settings.CELERY_BROKER_URL

    def back_up():
        for name, value in previous.items():
            setattr(settings, name, value)
        celery_app.set_current()
        outage_app.close()

    yield back_up
    back_up()


@pytest.fixture
def tasks_held(settings):
    """Tasks are queued on an in-memory broker that no worker reads: a journaled delivery's task is on its way
    but has not run, whatever the transaction the test runs in. Made like `broker_down`'s app (see there)."""
    previous = {name: getattr(settings, name) for name in ("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    held_app = Celery(celery_app.main, set_as_current=False)
    held_app.config_from_object("django.conf:settings", namespace="CELERY")
    held_app.set_current()
    assert not held_app.conf.task_always_eager
    yield
    for name, value in previous.items():
        setattr(settings, name, value)
    celery_app.set_current()
    held_app.close()
