"""Measure initial loads and broadcasts of the live-state layer through a real daphne.

Run from backend/ with Redis and MongoDB up (REDIS_URL, MONGO_URL):

    python -m benchmarks.live_state            # anchors of 1,000 and 10,000 instances; 1, 100, 500 clients
    python -m benchmarks.live_state --quick    # small sizes, to check that it runs

It seeds a project of the test app per anchor size into a temporary SQLite database,
starts daphne on a free loopback port, and measures with real WebSocket clients:

- cold load: connect and authenticate until initialStateEnd with an empty cache, so the
  server reads the database and fills the cache;
- hot load: the same with the cache filled;
- broadcast: the time from the start of one `save()` in this process until the first and
  the last of N connected clients has received the change.
"""

import argparse
import asyncio
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson

BACKEND_DIR = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 30
RECEIVE_TIMEOUT = 60


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="python -m benchmarks.live_state")
    parser.add_argument("--sizes", default="1000,10000", help="flat instances per anchor, comma-separated")
    parser.add_argument("--clients", default="1,100,500", help="connected clients per broadcast run, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of each measurement (default 5)")
    parser.add_argument("--quick", action="store_true", help="sizes 200, clients 1 and 10, 2 repetitions")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.sizes, arguments.clients, arguments.repeat = "200", "1,10", 2
    arguments.sizes = [int(size) for size in arguments.sizes.split(",")]
    arguments.clients = [int(count) for count in arguments.clients.split(",")]
    return arguments


def setup_django(database_path):
    os.environ["RX_BENCH_DATABASE"] = str(database_path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    sys.path.insert(0, str(BACKEND_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def seed_project(size, owner, assignees):
    """Create a project whose state has `size` flat instances: tasks, comments and users."""
    from tests.rxapp.models import Comment, Project, Task

    project = Project.objects.create(name=f"benchmark {size}", owner=owner)
    # The project, its owner and the assignees are flat instances too.
    rows = size - 2 - len(assignees)
    task_count = rows // 2
    tasks = Task.objects.bulk_create(
        Task(project=project, title=f"task {index}", position=index, assignee=assignees[index % len(assignees)])
        for index in range(task_count)
    )
    Comment.objects.bulk_create(
        Comment(task=tasks[index % task_count], author=assignees[index % len(assignees)], text=f"comment {index}")
        for index in range(rows - task_count)
    )
    return project, tasks[0]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_daphne(port, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 - closed when the process is stopped
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "benchmarks.asgi:application"],
        cwd=BACKEND_DIR,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"daphne exited with status {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"daphne did not respond on /healthz within {SERVER_START_TIMEOUT} s; see {log_path}")


async def open_client(url, token):
    """Connect and authenticate; return the socket once the initial state has arrived."""
    import websockets

    connection = await websockets.connect(url, max_size=None, compression=None)
    await connection.send(orjson.dumps({"type": "auth", "token": token, "lastUpdate": None}).decode())
    while True:
        frame = orjson.loads(await asyncio.wait_for(connection.recv(), RECEIVE_TIMEOUT))
        if frame["type"] == "auth" and frame["statusCode"] != 200:
            raise SystemExit(f"authentication failed: {frame}")
        if frame["type"] == "initialStateEnd":
            return connection


async def time_load(url, token):
    started = time.perf_counter()
    connection = await open_client(url, token)
    elapsed = time.perf_counter() - started
    await connection.close()
    return elapsed


async def wait_for_title(connection, title):
    while True:
        frame = orjson.loads(await asyncio.wait_for(connection.recv(), RECEIVE_TIMEOUT))
        if frame["type"] == "instances" and any(flat.get("title") == title for flat in frame["instances"]):
            return time.perf_counter()


async def time_broadcast(connections, task, title):
    receipts = [asyncio.create_task(wait_for_title(connection, title)) for connection in connections]
    await asyncio.sleep(0)

    def save():
        task.title = title
        task.save()

    started = time.perf_counter()
    await asyncio.to_thread(save)
    times = await asyncio.gather(*receipts)
    return min(times) - started, max(times) - started


def summary(samples):
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90


def milliseconds(seconds):
    return f"{seconds * 1000:.1f}"


def server_rss(pid):
    import psutil

    return psutil.Process(pid).memory_info().rss


async def measure(arguments, base_url, token, anchors, server_pid):
    from tests.rxapp.channels import ProjectChannel

    print("\n### Initial load until initialStateEnd (ms)\n")
    print("| flat instances | cold median | cold p90 | hot median | hot p90 |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size, (project, _) in anchors.items():
        url = f"{base_url}/ws/project/{project.pk}/"
        cold, hot = [], []
        for _ in range(arguments.repeat):
            await asyncio.to_thread(ProjectChannel.cache.clear_all)
            cold.append(await time_load(url, token))
            hot.append(await time_load(url, token))
        print(f"| {size:,} | {' | '.join(milliseconds(value) for value in (*summary(cold), *summary(hot)))} |")

    size = min(anchors)
    project, task = anchors[size]
    url = f"{base_url}/ws/project/{project.pk}/"
    print(f"\n### One save() reaching N clients of an anchor of {size:,} instances (ms)\n")
    print("| clients | first client median | last client median | last client p90 | server RSS per client (KiB) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for count in arguments.clients:
        rss_before = server_rss(server_pid)
        connections = []
        for start in range(0, count, 50):
            connections += await asyncio.gather(*(open_client(url, token) for _ in range(min(50, count - start))))
        firsts, lasts = [], []
        for repetition in range(arguments.repeat):
            first, last = await time_broadcast(connections, task, f"benchmark {count} {repetition} {time.time()}")
            firsts.append(first)
            lasts.append(last)
        first_median, _ = summary(firsts)
        last_median, last_p90 = summary(lasts)
        # Includes each connection's share of its initial state, sent and released.
        per_client = (server_rss(server_pid) - rss_before) / count / 1024
        print(
            f"| {count} | {milliseconds(first_median)} | {milliseconds(last_median)} | {milliseconds(last_p90)} "
            f"| {per_client:.0f} |"
        )
        await asyncio.gather(*(connection.close() for connection in connections))


def raise_open_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    arguments = parse_arguments()
    raise_open_file_limit()

    with tempfile.TemporaryDirectory(prefix="rxdjango-bench-") as workdir:
        setup_django(Path(workdir) / "bench.sqlite3")
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from tests.rxapp.channels import ProjectChannel

        User = get_user_model()
        owner = User.objects.create_user("bench-owner")
        assignees = [User.objects.create_user(f"bench-user-{index}") for index in range(10)]
        token = Token.objects.create(user=owner).key
        anchors = {size: seed_project(size, owner, assignees) for size in arguments.sizes}
        ProjectChannel.cache.clear_all()

        port = free_port()
        log_path = Path(workdir) / "daphne.log"
        process = start_daphne(port, log_path)
        try:
            print("## rxdjango live-state benchmark\n")
            print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
            print(f"- Python {platform.python_version()}, one daphne process, clients in this process")
            print(f"- repetitions per cell: {arguments.repeat}")
            asyncio.run(measure(arguments, f"ws://127.0.0.1:{port}", token, anchors, process.pid))
        except Exception:
            print(f"\nThe benchmark failed; the end of the daphne log follows:\n{log_path.read_text()[-5000:]}")
            raise
        finally:
            process.terminate()
            process.wait(timeout=10)
            ProjectChannel.cache.clear_all()
            from rxdjango.connections import sync_mongo_db

            sync_mongo_db().client.drop_database(sync_mongo_db().name)


if __name__ == "__main__":
    main()
