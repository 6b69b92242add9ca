"""Settings for the backend tests: the project's settings plus the rxdjango test app.

The live-state cache uses its own MongoDB database and Redis key prefix, so tests never
touch a developer's cached state.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, MONGO_STATE_DB

INSTALLED_APPS = [*INSTALLED_APPS, "tests.rxapp"]

# Expected datetimes in tests are written in UTC, whatever time zone the project uses.
TIME_ZONE = "UTC"

# Per process, so test runs in parallel never share cached state.
MONGO_STATE_DB = f"test_{MONGO_STATE_DB}_{os.getpid()}"
RX_REDIS_PREFIX = f"rxtest{os.getpid()}"
