from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Measuring tools (`seed_volume`, `measure_admin`), installed only by the dev, test and benchmark settings."""

    name = "benchmarks"
