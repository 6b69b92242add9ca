"""Scenario "fanout": one save() reaching N clients of a board, and a stream of saves."""

import threading
import time

import orjson

from benchmarks.stats import MESSAGES_PER_SECOND, MILLISECONDS, Row, Section, Target, count_of

LATENCY_TIMEOUT = 60
STREAM_TIMEOUT = 120
# The throughput target applies from this many clients on.
TARGET_CLIENTS = 500
RATE_TARGET = Target(
    "≥ 4× floor and ≥ 20,000 msgs/s",
    lambda summary, floor, baseline: None if floor is None else summary.median >= max(4 * floor, 20_000),
)


def task_instance_type():
    from benchmarks.benchapp.channels import BoardChannel
    from benchmarks.benchapp.serializers import TaskSerializer

    return BoardChannel.state_model.layers_for_serializer(TaskSerializer)[0].instance_type


class Fanout:
    """Three groups of clients that grow to each client count in turn, and the changes sent to them.

    "rx" clients follow the board through BoardChannel. "floor" clients are bare consumers
    in a channel-layer group. "baseline" clients are hand-written consumers of a second
    board of the same size, so saves of one board never reach the clients of the other.
    """

    def __init__(self, bench):
        from benchmarks.benchapp.models import Task

        self.bench = bench
        options = bench.options
        self.board = bench.board("fanout", options.fanout_size)
        self.baseline_board = bench.board("fanout-baseline", options.fanout_size)
        # Sender slot i changes task i, so concurrent savers never save the same row.
        self.tasks = list(Task.objects.filter(pk__in=self.board.task_ids[: options.senders]).order_by("pk"))
        self.baseline_tasks = list(
            Task.objects.filter(pk__in=self.baseline_board.task_ids[: options.senders]).order_by("pk")
        )
        if len(self.tasks) < options.senders:
            raise ValueError(f"{options.senders} senders need as many tasks, but the board has {len(self.tasks)}")
        self.instance_type = task_instance_type()
        self.urls = {
            "rx": (bench.server.ws_url(f"/ws/board/{self.board.id}/"), "rx"),
            "floor": (bench.server.ws_url(f"/bench/floor/fanout/{self.board.id}/"), "bare"),
            "baseline": (bench.server.ws_url(f"/bench/baseline/fanout/{self.baseline_board.id}/"), "bare"),
        }
        self.open_counts = dict.fromkeys(self.urls, 0)
        self.notes = []

    def grow(self, count):
        for group, (url, kind) in self.urls.items():
            missing = count - self.open_counts[group]
            if missing > 0:
                pool = self.bench.pool
                opened = pool.call("open", group=group, url=url, count=missing, token=self.bench.token, kind=kind)
                self.open_counts[group] = count
                if group == "rx":
                    clients = count_of(missing, "rxdjango client")
                    self.notes.append(f"Opening {clients} (up to {count:,}) took {opened['seconds']:.1f} s.")

    def close(self):
        for group in self.urls:
            self.bench.pool.call("close", group=group)

    # The ways of sending a change

    def save_rx(self, title, slot=0):
        task = self.tasks[slot]
        task.title = title
        task.save()

    def save_baseline(self, title, slot=0):
        task = self.baseline_tasks[slot]
        task.title = title
        task.save()

    def publish_rx(self, title, slot=0):
        """Publish a frame with the title to the board's clients, without a save."""
        from benchmarks.benchapp.channels import BoardChannel

        BoardChannel.broadcast_notification(self.board.id, {"title": title, "slot": slot})

    def send_floor(self, title, slot=0):
        """Send the frame that rxdjango sends for the same save, with a bare group_send."""
        from benchmarks.benchapp.consumers import floor_group

        delta = {
            "title": title,
            "id": self.tasks[slot].pk,
            "_instance_type": self.instance_type,
            "_tstamp": time.time(),
            "_operation": "update",
        }
        frame = orjson.dumps({"type": "instances", "instances": [delta]}).decode()
        self.bench.sender.group_send(floor_group(self.board.id), {"type": "bench.frame", "text": frame})

    # Measurements

    def latency(self, group, send, label):
        """Return the seconds from the start of send(title) until the last client of the group has the frame."""
        pool = self.bench.pool
        title = self.bench.marker(label)
        pool.start_watch(group, f'"{title}"', timeout=LATENCY_TIMEOUT)
        started = time.monotonic()
        send(title)
        result = pool.finish_watch()
        if result["timed_out"]:
            raise RuntimeError(
                f"{group}: {result['received']} of {result['expected']} clients received the change "
                f"within {LATENCY_TIMEOUT} s, and {result['closed']} sockets were closed by the server"
            )
        return result["last"] - started

    def stream(self, group, send, count, label):
        """Send `count` changes from `senders` threads and return the messages per second delivered to the group.

        Each thread sends its share one change after the other. The rate is every matching
        frame received, divided by the time from the first send until the last frame arrived.
        Also returns the seconds the threads took to send.
        """
        pool = self.bench.pool
        prefix = self.bench.marker(label) + "-"
        senders = self.bench.options.senders
        failures = []

        def send_share(slot):
            from django.db import connections

            try:
                for index in range(slot, count, senders):
                    send(f"{prefix}{index}", slot)
            except Exception as error:
                failures.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=send_share, args=(slot,), name=f"sender-{slot}") for slot in range(senders)]
        pool.start_watch(group, f'"{prefix}', frames=count, timeout=STREAM_TIMEOUT)
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = time.monotonic()
        result = pool.finish_watch()
        if failures:
            raise RuntimeError(f"a sender of the {group} stream failed: {failures[0]!r}") from failures[0]
        if result["timed_out"]:
            clients = count_of(self.open_counts[group], "client")
            self.notes.append(
                f"{group}, {clients}: {result['received']:,} of {result['expected']:,} frames arrived "
                f"within {STREAM_TIMEOUT} s, and the server closed {result['closed']} sockets."
            )
        if not result["received"]:
            return None, sent - started
        return result["received"] / (result["last"] - started), sent - started


def measure_count(fanout, count, options):
    """Return the latency, rate and send-time samples of every variant at one client count."""
    from benchmarks.benchapp.baseline import connect_state_broadcast, disconnect_state_broadcast

    fanout.grow(count)
    # Variant name -> (client group, send function, changes per stream).
    variants = {
        "rx": ("rx", fanout.save_rx, options.fanout_stream),
        "publish": ("rx", fanout.publish_rx, options.fanout_stream),
        "floor": ("floor", fanout.send_floor, options.reference_stream),
        "baseline": ("baseline", fanout.save_baseline, options.reference_stream),
    }
    latencies = {name: [] for name in variants}
    rates = {name: [] for name in variants}
    send_seconds = {name: [] for name in variants}

    for name, (group, send, stream_count) in variants.items():
        if name == "baseline":
            connect_state_broadcast(fanout.bench.sender.group_send)
        try:
            fanout.latency(group, send, f"warmup-{name}")
            for repetition in range(options.fanout_repeat):
                latencies[name].append(fanout.latency(group, send, f"{name}-{count}-{repetition}"))
            for run_index in range(options.stream_runs):
                rate, seconds = fanout.stream(group, send, stream_count, f"{name}-{count}-stream{run_index}")
                if rate is not None:
                    rates[name].append(rate)
                send_seconds[name].append(seconds)
        finally:
            if name == "baseline":
                disconnect_state_broadcast()
    return latencies, rates, send_seconds


def run(bench):
    options = bench.options
    fanout = Fanout(bench)
    section = Section(
        "Fan-out",
        f"A change of a task title on a board of {options.fanout_size:,} flat instances, delivered to N "
        "connected clients. Latency: from the start of `save()` in the runner process until the last client "
        "has the frame. Rate: messages delivered per second while the runner sends a stream of changes from "
        f"{count_of(options.senders, 'thread')} ({options.fanout_stream} changes, {options.reference_stream} for "
        "floor and baseline), from the first send until the last client has the last frame. "
        "Publish rows: the same through `BoardChannel.broadcast_notification`, which skips the save, the "
        "serialization and the cache, so they show the per-process fan-out alone. "
        "Floor: a bare `group_send` of the frame that rxdjango sends to N bare consumers in one channel-layer "
        "group. Baseline: a post_save receiver serializes the whole board with the nested DRF serializer and "
        "sends it to the group, where a hand-written consumer JSON-encodes it for its socket.",
    )
    rows = {"save": [], "publish": [], "stream": [], "publish stream": []}
    try:
        for count in options.fanout_clients:
            latencies, rates, send_seconds = measure_count(fanout, count, options)
            clients = count_of(count, "client")
            floor, baseline = latencies["floor"], latencies["baseline"]
            rows["save"].append(Row(f"save → last of {clients}", MILLISECONDS, latencies["rx"], floor, baseline))
            rows["publish"].append(
                Row(f"publish → last of {clients}", MILLISECONDS, latencies["publish"], floor, baseline)
            )
            target = RATE_TARGET if count >= TARGET_CLIENTS else None
            floor, baseline = rates["floor"], rates["baseline"]
            rows["stream"].append(
                Row(f"save stream to {clients}", MESSAGES_PER_SECOND, rates["rx"], floor, baseline, target)
            )
            rows["publish stream"].append(
                Row(f"publish stream to {clients}", MESSAGES_PER_SECOND, rates["publish"], floor, baseline)
            )
            seconds = sum(send_seconds["rx"]) / len(send_seconds["rx"])
            saves_per_second = options.fanout_stream / seconds
            section.notes.append(f"{clients}: the runner made {saves_per_second:,.0f} rxdjango saves/s in the streams.")
    finally:
        fanout.close()
    section.rows = [row for group in rows.values() for row in group]
    section.notes += fanout.notes
    section.notes.append(
        "For rates, p90 and p99 are the slow side: the rate of the run slower than 90% (99%) of the runs."
    )
    return section
