# ruff: noqa: N999 - gunicorn looks for `gunicorn.conf.py` by this name
"""gunicorn for the `web` process (Procfile). Every knob comes from the environment so one file serves a laptop,
the CI smoke test, the benchmark and production; the defaults suit one machine behind a reverse proxy."""

import multiprocessing
import os

# Loopback by default: a reverse proxy (TLS, buffering of slow clients) sits in front in production.
bind = f"{os.environ.get('GUNICORN_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Threaded workers (gthread): a few processes for the cores, a few threads each for requests that wait on the
# database. The threads of a process also share the webhook journal's commits
# (channels_tiktok/webhooks/intake/group_commit.py): deliveries that arrive together are written in one INSERT
# and one commit, so more threads per process mean fewer commits per delivery. Measured with the benchmark's
# intake part on two cores, three runs each:
# 3 x 8 threads took 1,539 webhooks/s on average, 3 x 4 took 1,317 and 2 x 8 took 1,358, with the bare view
# within the runs' noise of each other. GUNICORN_THREADS=1 gives sync workers.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread" if threads > 1 else "sync"
# A request that runs longer than this is a bug or a stuck dependency; the master replaces the worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak in any library cannot grow without bound; jitter spreads restarts.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# Only the reverse proxy on this host may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Importing Django once in the master makes worker start fast; each worker still opens its own DB pool.
preload_app = False
# Access log to stdout; off when GUNICORN_ACCESS_LOG=0 (the benchmark: logging every request costs throughput).
# The format has no query string and no headers: neither may carry a secret into the logs.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") != "0" else None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "tiktok-channel-web"
# Several gunicorns share a host here (web, the sandbox, the benchmark's); one fixed control socket path would
# make them fight over it, and nothing uses it.
control_socket_disable = True
