"""Scenario "writes": optimistic saves sent over the WebSocket by 1 and by N concurrent clients."""

from benchmarks.fanout import task_instance_type
from benchmarks.stats import MILLISECONDS, Row, Section, Target, count_of

NOT_IMPLEMENTED = 501
RESPONSE_TARGET = Target("p50 ≤ 15 ms", lambda summary, floor, baseline: summary.median <= 0.015)


def measure_rx(bench, board, writers, writes):
    """Return (response seconds, broadcast seconds, error) of `writers` clients writing at once.

    error is the server's error object of the first failed write, else None.
    """
    pool = bench.pool
    url = bench.server.ws_url(f"/ws/board/{board.id}/")
    pool.call("open", group="writers", url=url, count=writers, token=bench.token, kind="rx")
    try:
        arguments = {"group": "writers", "instance_type": task_instance_type(), "instance_ids": board.task_ids}
        probe = pool.call("write", writes=1, marker=bench.marker("probe"), expect_broadcast=True, **arguments)
        if probe["rejection"] is not None:
            return [], [], probe["rejection"]
        result = pool.call("write", writes=writes, marker=bench.marker("write"), expect_broadcast=True, **arguments)
    finally:
        pool.call("close", group="writers")
        bench.cool(board)
    responses = [response for response, _ in result["samples"]]
    broadcasts = [broadcast for _, broadcast in result["samples"]]
    return responses, broadcasts, result["rejection"]


def measure_floor(bench, writers, writes):
    pool = bench.pool
    pool.call("open", group="echo", url=bench.server.ws_url("/bench/floor/echo/"), count=writers, kind="bare")
    try:
        arguments = {
            "group": "echo",
            "instance_type": task_instance_type(),
            "instance_ids": list(range(1, writers + 1)),
        }
        pool.call("write", writes=1, marker=bench.marker("probe"), expect_broadcast=False, **arguments)
        result = pool.call("write", writes=writes, marker=bench.marker("echo"), expect_broadcast=False, **arguments)
    finally:
        pool.call("close", group="echo")
    return [response for response, _ in result["samples"]]


def measure_baseline(bench, board, writers, writes):
    urls = [bench.server.http_url(f"/bench/baseline/tasks/{task_id}/") for task_id in board.task_ids[:writers]]
    bench.pool.call("http_patch", urls=urls, token=bench.token, writes=1, marker=bench.marker("probe"))
    return bench.pool.call("http_patch", urls=urls, token=bench.token, writes=writes, marker=bench.marker("patch"))[
        "samples"
    ]


def describe_error(error):
    return f"{error.get('code')}: {error.get('message', 'no message')}"


def run(bench):
    options = bench.options
    board = bench.board("writes", options.writes_board_size)
    section = Section(
        "Write round trip",
        "Each client saves a task of its own, one write after the other: "
        '`{"type":"write","operation":"save",...}` with a new title. Response: until the '
        "`writeResponse`. Broadcast: until the frame with the new title reaches the writer. N clients "
        "write at the same time. Floor: a bare consumer that answers every write frame at once, touching "
        "no database. Baseline: a DRF PATCH of the same title over HTTP (one kept-alive connection per "
        "client), with no live clients on the board.",
    )
    for writers in options.writers:
        if writers > len(board.task_ids):
            raise ValueError(f"{writers} writers need {writers} tasks, but the board has {len(board.task_ids)}")
        responses, broadcasts, error = measure_rx(bench, board, writers, options.writes)
        floor = measure_floor(bench, writers, options.writes)
        baseline = measure_baseline(bench, board, writers, options.writes)
        missing = None
        if error is not None and not responses:
            missing = f"not measured ({error.get('code')})"
            section.notes.append(
                f"{count_of(writers, 'client')}: the server rejected the first write with {describe_error(error)}."
            )
        elif error is not None:
            clients = count_of(writers, "client")
            failure = describe_error(error)
            section.notes.append(f"{clients}: a write failed after {len(responses)} succeeded: {failure}.")
        section.rows.append(
            Row(
                f"save → writeResponse, {count_of(writers, 'client')}",
                MILLISECONDS,
                responses,
                floor,
                baseline,
                RESPONSE_TARGET,
                missing,
            )
        )
        section.rows.append(
            Row(
                f"save → broadcast, {count_of(writers, 'client')}",
                MILLISECONDS,
                broadcasts,
                floor,
                baseline,
                None,
                missing,
            )
        )
    if any(row.missing == f"not measured ({NOT_IMPLEMENTED})" for row in section.rows):
        section.notes.append(
            "The server answers writes with 501 until it implements them, so the rxdjango rows are not measured, "
            "but floor and baseline are."
        )
    section.notes.append(f"{options.writes} writes per client after one untimed write, so runs = writes × clients.")
    return section
