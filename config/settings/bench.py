"""The benchmark's settings: production's, plus one bare view to measure the webhook receiver against (B10).

Only `python -m benchmarks.run` uses this module, so production never serves the extra endpoint.
"""

from .production import *

ROOT_URLCONF = "config.bench_urls"
