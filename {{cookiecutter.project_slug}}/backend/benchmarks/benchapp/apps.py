from django.apps import AppConfig


class BenchAppConfig(AppConfig):
    """Models, channel, consumers and views that only the benchmarks use."""

    name = "benchmarks.benchapp"
    label = "benchapp"
    default_auto_field = "django.db.models.BigAutoField"
