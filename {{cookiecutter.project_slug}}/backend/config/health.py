"""Liveness check of the database, Redis and the MongoDB wire server."""

import logging
import threading

import pymongo
import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger("config.health")

# Seconds each service may take to respond before it counts as down.
CHECK_TIMEOUT = 2

_clients_lock = threading.Lock()
_redis_client = None
_mongo_client = None


def get_redis_client():
    """Return the process's Redis client for health checks, created on first use."""
    global _redis_client
    with _clients_lock:
        if _redis_client is None:
            _redis_client = redis.Redis.from_url(
                settings.REDIS_URL,
                socket_connect_timeout=CHECK_TIMEOUT,
                socket_timeout=CHECK_TIMEOUT,
            )
        return _redis_client


def get_mongo_client():
    """Return the process's MongoDB client for health checks, created on first use."""
    global _mongo_client
    with _clients_lock:
        if _mongo_client is None:
            timeout_ms = CHECK_TIMEOUT * 1000
            _mongo_client = pymongo.MongoClient(
                settings.MONGO_URL,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                socketTimeoutMS=timeout_ms,
            )
        return _mongo_client


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis():
    get_redis_client().ping()


def check_mongo():
    get_mongo_client().admin.command("ping")


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "mongo": check_mongo,
}


@require_safe
def healthz(request):
    """Return 200 when every service responds, else 503 with the failing ones."""
    checks = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # Any failure means the service is unusable.
            logger.warning("Health check of %s failed: %s", name, error)
            checks[name] = {"status": "error", "error": f"{type(error).__name__}: {error}"}
        else:
            checks[name] = {"status": "ok"}

    healthy = all(result["status"] == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )
