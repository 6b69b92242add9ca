"""Settings of benchmark runs: the test app's channels on a SQLite file of their own."""

import os

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["RX_BENCH_DATABASE"],
        # Writers wait for each other instead of failing while daphne reads.
        "OPTIONS": {"timeout": 30},
    },
}
MONGO_STATE_DB = os.environ.get("RX_BENCH_MONGO_DB", "rxdjango_benchmark")
RX_REDIS_PREFIX = os.environ.get("RX_BENCH_REDIS_PREFIX", "rxbench")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DEBUG = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
