"""Daphne processes started and stopped by the runner, on free loopback ports."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

logger = logging.getLogger("benchmarks.server")

BACKEND_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30
STOP_TIMEOUT = 10


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DaphneServer:
    """One daphne process serving benchmarks.asgi:application on 127.0.0.1.

    Use it as a context manager: the process is started on entry and stopped on exit.
    The environment of the runner, including RX_BENCH_*, is passed on.
    """

    def __init__(self, log_path):
        self.log_path = Path(log_path)
        self.port = None
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        self.port = free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process writes to it until stop()
        command = [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "benchmarks.asgi:application"],
            cwd=BACKEND_DIR,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with status {self.process.returncode}: see {self.log_path}")
            try:
                with urllib.request.urlopen(self.http_url("/healthz"), timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"daphne timed out: no response on /healthz within {START_TIMEOUT} s, see {self.log_path}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            logger.warning("daphne (pid %s) did not stop within %s s, so it is killed", self.process.pid, STOP_TIMEOUT)
            self.process.kill()
            self.process.wait()

    def http_url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def ws_url(self, path):
        return f"ws://127.0.0.1:{self.port}{path}"

    def rss(self):
        """Return the resident set size of the daphne process in bytes."""
        return psutil.Process(self.process.pid).memory_info().rss

    def log_tail(self, characters=5000):
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except FileNotFoundError:
            return ""
