"""Scenario "load": the initial load of a board, cold and hot, against a bare consumer and DRF."""

from benchmarks.stats import MILLISECONDS, Row, Section, Target

HOT_TARGET = Target(
    "≤ 1.5× floor", lambda summary, floor, baseline: None if floor is None else summary.median <= 1.5 * floor
)
COLD_TARGET = Target(
    "≤ 1.3× baseline", lambda summary, floor, baseline: None if baseline is None else summary.median <= 1.3 * baseline
)


def measure_size(bench, size, repeat):
    """Return the cold, hot, floor and baseline samples (seconds) of one board size, interleaved per repetition."""
    board = bench.board(f"load-{size}", size)
    server, pool, token = bench.server, bench.pool, bench.token
    rx_url = server.ws_url(f"/ws/board/{board.id}/")
    floor_url = server.ws_url(f"/bench/floor/load/{board.id}/")
    baseline_url = server.http_url(f"/bench/baseline/boards/{board.id}/")

    # One untimed round loads the code paths and the database pages of this board.
    bench.cool(board)
    warmup = pool.call("load", url=rx_url, token=token)
    bench.settle(board)
    if warmup["instances"] != board.size:
        raise RuntimeError(f"board {board.id} sent {warmup['instances']} flat instances, expected {board.size}")
    pool.call("load", url=floor_url, token=token)
    pool.call("http_get", url=baseline_url, token=token)

    samples = {"cold": [], "hot": [], "floor": [], "baseline": []}
    for _ in range(repeat):
        bench.cool(board)
        samples["cold"].append(pool.call("load", url=rx_url, token=token)["seconds"])
        bench.settle(board)
        samples["hot"].append(pool.call("load", url=rx_url, token=token)["seconds"])
        floor = pool.call("load", url=floor_url, token=token)
        if floor["instances"] != board.size:
            raise RuntimeError(f"the load floor sent {floor['instances']} flat instances, expected {board.size}")
        samples["floor"].append(floor["seconds"])
        samples["baseline"].append(pool.call("http_get", url=baseline_url, token=token)["seconds"])
    bench.cool(board)
    return samples


def run(bench):
    options = bench.options
    section = Section(
        "Initial load",
        "Time from opening the WebSocket until `initialStateEnd`, for a board whose state has N flat "
        "instances (tasks, comments, users). Cold: the cache is empty, so the server reads the database "
        "and sends each batch while it fills the cache behind it. "
        "Hot: the state comes from the MongoDB cache. "
        "Floor: a bare Channels consumer on the same daphne reads the cached documents with one indexed "
        "query, encodes them with orjson and sends them in frames of 1,000. "
        "Baseline: GET of the nested DRF serializer (joins and prefetches, three queries) over HTTP, "
        "until the JSON body is parsed.",
    )
    for size in options.load_sizes:
        samples = measure_size(bench, size, options.load_repeat)
        section.rows.append(
            Row(
                f"{size:,} instances, cold",
                MILLISECONDS,
                samples["cold"],
                samples["floor"],
                samples["baseline"],
                COLD_TARGET,
            )
        )
        section.rows.append(
            Row(
                f"{size:,} instances, hot",
                MILLISECONDS,
                samples["hot"],
                samples["floor"],
                samples["baseline"],
                HOT_TARGET,
            )
        )
    section.notes.append(
        "Each repetition runs cold, hot, floor and baseline in turn, after one untimed round. "
        "Every case includes opening the connection, and only the floor skips authentication."
    )
    return section
