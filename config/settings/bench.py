"""The benchmark's settings: production's, plus one bare view to measure the webhook receiver against (B10).

Only `python -m benchmarks.run` uses this module, so production never serves the extra endpoint.
"""

from .production import *

ROOT_URLCONF = "config.bench_urls"

# The TikTok sandbox and the measuring tools: never installed in production.
INSTALLED_APPS = [*INSTALLED_APPS, "channels_tiktok.sandbox", "benchmarks"]
