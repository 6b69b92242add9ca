"""The machine, software versions and command line that head a benchmark report."""

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("Django", "djangorestframework", "channels", "channels-redis", "daphne", "Twisted", "pymongo", "redis")


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def redis_version():
    from rxdjango.connections import sync_redis

    return sync_redis().info("server").get("redis_version", "unknown")


def mongo_server_version():
    """Return the MongoDB wire server's version. FerretDB reports its own version besides the MongoDB one."""
    from rxdjango.connections import sync_mongo_db

    info = sync_mongo_db().client.admin.command("buildInfo")
    mongo_version = info.get("version", "unknown")
    if "ferretdbVersion" not in info:
        return f"MongoDB {mongo_version}"
    ferretdb_version = info["ferretdbVersion"]
    if ferretdb_version in ("", "unknown"):
        return f"FerretDB (its build reports no version), compatible with MongoDB {mongo_version}"
    return f"FerretDB {ferretdb_version}, compatible with MongoDB {mongo_version}"


def package_versions():
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return ", ".join(versions)


def command_line():
    return shlex.join(["python", "-m", "benchmarks", *sys.argv[1:]])


def describe():
    """Return (label, value) pairs that describe where and how the benchmarks ran."""
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("Node", node_version()),
        ("Redis", redis_version()),
        ("MongoDB wire server", mongo_server_version()),
        ("Python packages", package_versions()),
        ("command", f"`{command_line()}` (from backend/)"),
    ]
