"""The embedded default for one machine and the demo: DEBUG on, SQLite, tasks in-process."""

from .base import *

DEBUG = env.bool("DJANGO_DEBUG", default=True)
