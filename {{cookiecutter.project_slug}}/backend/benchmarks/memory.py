"""Scenario "memory": the daphne process's resident memory per idle connection."""

import time

from benchmarks.stats import KIBIBYTES, Row, Section, Target

WARMUP_CONNECTIONS = 20
# Seconds to let the server finish sending initial states and release their buffers.
SETTLE_SECONDS = 1.0
CONNECTION_TARGET = Target("≤ 100 KiB", lambda summary, floor, baseline: summary.median <= 100 * 1024)


def bytes_per_connection(bench, url, kind, count):
    """Start a new daphne, open `count` idle connections and return its RSS growth per connection.

    A few connections are opened first and kept open, so code loaded and caches filled on
    first use are not counted.
    """
    pool = bench.pool
    server = bench.start_server()
    try:
        full_url = server.ws_url(url)
        pool.call("open", group="warmup", url=full_url, count=WARMUP_CONNECTIONS, token=bench.token, kind=kind)
        time.sleep(SETTLE_SECONDS)
        before = server.rss()
        pool.call("open", group="idle", url=full_url, count=count, token=bench.token, kind=kind)
        time.sleep(SETTLE_SECONDS)
        after = server.rss()
    finally:
        for group in ("idle", "warmup"):
            pool.call("close", group=group)
        server.stop()
    return (after - before) / count


def run(bench):
    options = bench.options
    board = bench.board("memory", options.memory_board_size)
    count = options.memory_connections
    rx, floor = [], []
    for _ in range(options.memory_repeat):
        rx.append(bytes_per_connection(bench, f"/ws/board/{board.id}/", "rx", count))
        floor.append(bytes_per_connection(bench, "/bench/floor/echo/", "bare", count))
    bench.cool(board)
    section = Section(
        "Memory per idle connection",
        f"Growth of the daphne process's resident set size (RSS, psutil) when {count:,} clients open an "
        f"authenticated channel on one board of {board.size:,} flat instances and stay idle, divided by "
        f"{count:,}. Each run starts a new daphne and keeps {WARMUP_CONNECTIONS} connections open before the "
        "first reading. Floor: the same number of connections to a bare Channels consumer that accepts and waits.",
    )
    section.rows.append(Row(f"{count:,} idle connections", KIBIBYTES, rx, floor, None, CONNECTION_TARGET))
    section.notes.append(
        "RSS also grows with allocator pages that Python keeps after the initial loads, so the value is an upper bound."
    )
    return section
