"""The state of one benchmark run: Django, the seeded boards, daphne, the clients and the channel layer.

Servers and the client worker start on first use and stop in `close()`, which also drops
the run's MongoDB database and Redis keys.
"""

import asyncio
import logging
import os
import sys
import threading
import time
import uuid
from pathlib import Path

from benchmarks.clients import ClientPool
from benchmarks.seed import create_users, seed_board
from benchmarks.server import BACKEND_DIR, DaphneServer

logger = logging.getLogger("benchmarks")

# Seconds the runner waits for one channel-layer send.
SEND_TIMEOUT = 60
# Seconds the runner waits for a board's cache to finish filling.
SETTLE_TIMEOUT = 60


def setup_django(workdir):
    """Point the benchmark settings at this run's database, MongoDB database and Redis prefix, then migrate."""
    run_id = f"{os.getpid()}"
    os.environ["RX_BENCH_DATABASE"] = str(Path(workdir) / "bench.sqlite3")
    os.environ["RX_BENCH_MONGO_DB"] = f"rxdjango_benchmark_{run_id}"
    os.environ["RX_BENCH_REDIS_PREFIX"] = f"rxbench{run_id}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    if str(BACKEND_DIR) not in sys.path:
        sys.path.insert(0, str(BACKEND_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


class ChannelLayerSender:
    """Send channel-layer messages from synchronous code through one event loop in a thread.

    channels-redis keeps its connections per event loop, so one long-lived loop reuses them
    where async_to_sync would connect again on every call.
    """

    def __init__(self):
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="channel-layer-sender", daemon=True)
        self.thread.start()

    def group_send(self, group, message):
        asyncio.run_coroutine_threadsafe(self.layer.group_send(group, message), self.loop).result(SEND_TIMEOUT)

    def close(self):
        try:
            asyncio.run_coroutine_threadsafe(self.layer.flush(), self.loop).result(SEND_TIMEOUT)
            asyncio.run_coroutine_threadsafe(self.layer.close_pools(), self.loop).result(SEND_TIMEOUT)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


class Bench:
    """Everything the scenarios share. `options` are the parsed command-line arguments."""

    def __init__(self, options, workdir):
        from rest_framework.authtoken.models import Token

        self.options = options
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "daphne.log"
        self.owner, self.users = create_users("bench")
        self.token = Token.objects.create(user=self.owner).key
        self.boards = {}
        self._pool = None
        self._server = None
        self._sender = None

    # Shared resources, started on first use

    @property
    def pool(self):
        if self._pool is None:
            self._pool = ClientPool()
        return self._pool

    @property
    def server(self):
        if self._server is None:
            self._server = self.start_server()
        return self._server

    @property
    def sender(self):
        if self._sender is None:
            self._sender = ChannelLayerSender()
        return self._sender

    def start_server(self):
        """Start a daphne process of its own, which the caller must stop."""
        server = DaphneServer(self.log_path)
        server.start()
        return server

    def board(self, name, size):
        """Return the board seeded under `name`, creating it with `size` flat instances on first use."""
        board = self.boards.get(name)
        if board is None:
            board = self.boards[name] = seed_board(size, self.users, f"benchmark {name}")
        return board

    @staticmethod
    def marker(label):
        """Return a string that appears in no earlier frame, to recognise the frames of one measurement."""
        return f"{label}-{uuid.uuid4().hex[:8]}"

    # Cache control

    @staticmethod
    def settle(board):
        """Wait until a board's cache is no longer HEATING.

        A loading client gets its state before the cache is filled, so the anchor turns
        HOT a little after that client's initialStateEnd.
        """
        from benchmarks.benchapp.channels import BoardChannel

        deadline = time.monotonic() + SETTLE_TIMEOUT
        while BoardChannel.cache.state_of(board.id) == "HEATING":
            if time.monotonic() > deadline:
                raise RuntimeError(f"board {board.id} is still HEATING after {SETTLE_TIMEOUT} s")
            time.sleep(0.01)

    @classmethod
    def cool(cls, board):
        """Empty a board's cache and wait until it is COLD, so the next client reads the database."""
        from benchmarks.benchapp.channels import BoardChannel

        cls.settle(board)
        BoardChannel.clear_cache(board.id)
        state = BoardChannel.cache.state_of(board.id)
        if state != "COLD":
            raise RuntimeError(f"board {board.id} is {state} after clear_cache, expected COLD")

    def daphne_log_tail(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    # Cleanup

    def close(self):
        for close in (self._close_pool, self._close_server, self._close_sender, self._drop_state):
            try:
                close()
            except Exception:
                logger.exception("Cleaning up the benchmark run failed in %s", close.__name__)

    def _close_pool(self):
        if self._pool is not None:
            self._pool.close()

    def _close_server(self):
        if self._server is not None:
            self._server.stop()

    def _close_sender(self):
        if self._sender is not None:
            self._sender.close()

    def _drop_state(self):
        from django.conf import settings

        from rxdjango.connections import close_all, sync_mongo_db, sync_redis

        sync_mongo_db().client.drop_database(settings.MONGO_STATE_DB)
        redis = sync_redis()
        patterns = (f"{settings.RX_REDIS_PREFIX}:*", f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}*")
        for pattern in patterns:
            keys = list(redis.scan_iter(match=pattern, count=1000))
            for start in range(0, len(keys), 1000):
                redis.unlink(*keys[start : start + 1000])
        close_all()
