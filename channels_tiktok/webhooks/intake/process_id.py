"""This process's id without a system call per read.

`os.getpid()` is a system call on every call (glibc stopped caching it), and the webhook path asks on every
delivery whether it runs in the process that opened its journal connection and started its wake-up thread, or in
a child forked since (a gunicorn or Celery worker). The id is read once and again in each forked child."""

import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def current() -> int:
    return _pid
