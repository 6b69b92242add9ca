"""Settings of benchmark runs: the project's settings plus the benchmark app, on a SQLite file.

The runner sets RX_BENCH_DATABASE, RX_BENCH_MONGO_DB and RX_BENCH_REDIS_PREFIX for itself
and for the daphne processes it starts, so a run never touches a developer's data.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.benchapp"]
ROOT_URLCONF = "benchmarks.urls"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["RX_BENCH_DATABASE"],
        # Writers wait for each other instead of failing while daphne reads. The PRAGMAs
        # are those that config/settings.py sets for SQLite.
        "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
    },
}
MONGO_STATE_DB = os.environ.get("RX_BENCH_MONGO_DB", "rxdjango_benchmark")
RX_REDIS_PREFIX = os.environ.get("RX_BENCH_REDIS_PREFIX", "rxbench")
CHANNEL_LAYERS = {
    "default": {
        **CHANNEL_LAYERS["default"],
        "CONFIG": {**CHANNEL_LAYERS["default"]["CONFIG"], "prefix": f"{RX_REDIS_PREFIX}-asgi"},
    },
}

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DEBUG = False
TIME_ZONE = "UTC"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RX_BENCH_LOG_LEVEL", "WARNING")},
}
