"""WebSocket and HTTP clients of the benchmarks, run in a process of their own.

The runner process saves models and sends channel-layer messages, so the clients live in
another process with its own interpreter lock and event loop. `ClientPool` starts that
process and sends it one command at a time over a pipe. The worker does not import Django.

Times are `time.monotonic()` readings. On Linux that clock is CLOCK_MONOTONIC, which is
shared by every process of the machine, so the runner compares its own readings with the
worker's.
"""

import asyncio
import http.client
import multiprocessing
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import orjson

# Seconds a client waits for one frame of an initial load, or for a write's response.
RECEIVE_TIMEOUT = 120
# Seconds the runner waits for the worker's reply to a command that has no timeout of its own.
COMMAND_TIMEOUT = 600


class ClientError(RuntimeError):
    """A command of the client worker failed. The message contains the worker's error."""


class ClientPool:
    """The runner's handle on the client worker process."""

    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.connection, worker_end = context.Pipe()
        self.process = context.Process(target=serve, args=(worker_end,), name="benchmark-clients", daemon=True)
        self.process.start()
        worker_end.close()

    def call(self, op, timeout=COMMAND_TIMEOUT, **arguments):
        """Run one command in the worker and return its result dict."""
        self.connection.send({"op": op, **arguments})
        return self.receive(op, timeout)

    def receive(self, op, timeout=COMMAND_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.connection.poll(0.5):
            if not self.process.is_alive():
                raise ClientError(f"the client worker exited with status {self.process.exitcode} during {op}")
            if time.monotonic() > deadline:
                raise ClientError(f"the client worker timed out: no reply to {op} within {timeout} s")
        try:
            reply = self.connection.recv()
        except (EOFError, ConnectionError) as error:
            self.process.join(timeout=5)
            raise ClientError(
                f"the client worker closed its pipe during {op} (exit status {self.process.exitcode})"
            ) from error
        if "error" in reply:
            raise ClientError(f"{op} failed in the client worker: {reply['error']}")
        return reply

    def start_watch(self, group, marker, frames=1, timeout=60):
        """Arm a watch of the group's frames for marker, and return once the worker listens.

        Call finish_watch() after sending the frames to get the receipt times.
        """
        self.connection.send({"op": "watch", "group": group, "marker": marker, "frames": frames, "timeout": timeout})
        self.receive("watch")
        self._watch_timeout = timeout + 30

    def finish_watch(self):
        """Return {"first", "last", "received", "expected", "timed_out", "closed"} of the armed watch."""
        return self.receive("watch", self._watch_timeout)

    def close(self):
        if self.process.is_alive():
            try:
                self.connection.send({"op": "stop"})
                self.process.join(timeout=30)
            except (BrokenPipeError, OSError):
                pass
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


# The worker process


def serve(connection):
    asyncio.run(Worker(connection).run())


def encode(message):
    return orjson.dumps(message).decode()


class Client:
    """One open WebSocket. After its initial load a reader task passes every frame to `handler`."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.handler = None
        self.reader = None
        # The server replies to a repeated writeId with its earlier response, so ids never repeat on a socket.
        self.last_write_id = 0

    def start_reading(self):
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def read(self):
        import websockets

        try:
            async for frame in self.websocket:
                handler = self.handler
                if handler is not None:
                    handler(frame)
        except websockets.ConnectionClosed:
            pass

    async def close(self):
        await self.websocket.close()
        if self.reader is not None:
            self.reader.cancel()


class Watch:
    """Per-client counts of the frames that contain a marker; `done` is set when each client has `frames` of them."""

    def __init__(self, clients, marker, frames):
        self.marker = marker
        self.frames = frames
        self.counts = [0] * len(clients)
        self.remaining = len(clients)
        self.first = None
        self.last = None
        self.done = asyncio.Event()
        if not clients:
            self.done.set()
        for index, client in enumerate(clients):
            client.handler = self.handler_for(index)

    def handler_for(self, index):
        def handle(frame):
            if self.marker not in frame:
                return
            now = time.monotonic()
            if self.first is None:
                self.first = now
            self.last = now
            self.counts[index] += 1
            if self.counts[index] == self.frames:
                self.remaining -= 1
                if self.remaining == 0:
                    self.done.set()

        return handle


class Worker:
    """The worker's end of the pipe: runs each command of ClientPool on the worker's event loop."""

    def __init__(self, connection):
        self.connection = connection
        self.groups = {}
        # Blocking HTTP requests run in these threads, up to one per concurrent client.
        self.http_threads = ThreadPoolExecutor(max_workers=32, thread_name_prefix="benchmark-http")

    async def run(self):
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, self.connection.recv)
            op = command.pop("op")
            if op == "stop":
                break
            try:
                result = await getattr(self, f"do_{op}")(**command)
            except Exception as error:
                result = {"error": f"{type(error).__name__}: {error}"}
            self.connection.send(result)
        for group in list(self.groups):
            await self.do_close(group)
        self.http_threads.shutdown()

    # Connections

    async def connect(self, url, token, kind):
        """Open one socket. For kind "rx", also authenticate and wait for the initial state.

        Returns (client, number of flat instances received, seconds until initialStateEnd).
        """
        import websockets

        started = time.monotonic()
        websocket = await websockets.connect(url, max_size=None, compression=None, ping_interval=None, open_timeout=60)
        instances = 0
        if kind == "rx":
            await websocket.send(encode({"type": "auth", "token": token, "lastUpdate": None}))
            while True:
                frame = orjson.loads(await asyncio.wait_for(websocket.recv(), RECEIVE_TIMEOUT))
                if frame["type"] == "auth" and frame["statusCode"] != 200:
                    await websocket.close()
                    raise ClientError(f"authentication at {url} failed: {frame}")
                if frame["type"] == "instances":
                    instances += len(frame["instances"])
                elif frame["type"] == "initialStateEnd":
                    break
        elif kind != "bare":
            raise ValueError(f"unknown client kind {kind!r}: expected 'rx' or 'bare'")
        return Client(websocket), instances, time.monotonic() - started

    async def do_open(self, group, url, count, token=None, kind="rx", concurrency=20):
        """Add `count` open sockets to a group, opening `concurrency` at a time."""
        clients = self.groups.setdefault(group, [])
        started = time.monotonic()
        instances = 0
        opened = 0
        while opened < count:
            chunk = min(concurrency, count - opened)
            results = await asyncio.gather(*(self.connect(url, token, kind) for _ in range(chunk)))
            for client, received, _ in results:
                client.start_reading()
                clients.append(client)
                instances = received
            opened += chunk
        return {"clients": len(clients), "seconds": time.monotonic() - started, "instances": instances}

    async def do_close(self, group):
        clients = self.groups.pop(group, [])
        for start in range(0, len(clients), 100):
            await asyncio.gather(*(client.close() for client in clients[start : start + 100]))
        return {"closed": len(clients)}

    # Measurements

    async def do_load(self, url, token):
        """Time one connection from connect until initialStateEnd."""
        client, instances, seconds = await self.connect(url, token, "rx")
        await client.close()
        return {"seconds": seconds, "instances": instances}

    async def do_http_get(self, url, token):
        """Time one GET on a new connection, until the JSON body is read and parsed."""

        def get():
            parts = urllib.parse.urlsplit(url)
            started = time.monotonic()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=RECEIVE_TIMEOUT)
            try:
                headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
                connection.request("GET", parts.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise ClientError(f"GET {url} returned {response.status}: {body[:300]!r}")
                orjson.loads(body)
                return time.monotonic() - started, len(body)
            finally:
                connection.close()

        seconds, size = await asyncio.get_running_loop().run_in_executor(self.http_threads, get)
        return {"seconds": seconds, "bytes": size}

    async def do_watch(self, group, marker, frames, timeout):
        """Wait until every client of the group has received `frames` frames containing marker.

        Sends {"armed": True} first, the runner's signal to start sending.
        """
        clients = self.groups.get(group, [])
        watch = Watch(clients, marker, frames)
        self.connection.send({"armed": True})
        timed_out = False
        try:
            await asyncio.wait_for(watch.done.wait(), timeout)
        except TimeoutError:
            timed_out = True
        finally:
            for client in clients:
                client.handler = None
        return {
            "first": watch.first,
            "last": watch.last,
            "received": sum(watch.counts),
            "expected": frames * len(clients),
            "timed_out": timed_out,
            # Sockets that the server closed, e.g. for a full outgoing buffer, receive no more frames.
            "closed": sum(1 for client in clients if client.reader is not None and client.reader.done()),
        }

    async def do_write(self, group, instance_type, instance_ids, writes, marker, expect_broadcast):
        """Let client i of the group save instance_ids[i] `writes` times, one write after the other.

        Each write sets a new title. Returns, per write, the seconds until its writeResponse
        and, with expect_broadcast, until the frame with the new title reached the writer.
        A failed writeResponse stops that client, and the first such error object is returned as "rejection".
        """
        clients = self.groups.get(group, [])
        if len(instance_ids) < len(clients):
            raise ValueError(f"{len(clients)} writers need as many instances, got {len(instance_ids)}")
        outcomes = await asyncio.gather(
            *(
                self.write_sequence(client, index, instance_type, instance_ids[index], writes, marker, expect_broadcast)
                for index, client in enumerate(clients)
            )
        )
        samples = [sample for client_samples, _ in outcomes for sample in client_samples]
        errors = [error for _, error in outcomes if error is not None]
        return {"samples": samples, "rejection": errors[0] if errors else None}

    async def write_sequence(self, client, index, instance_type, instance_id, writes, marker, expect_broadcast):
        loop = asyncio.get_running_loop()
        samples = []
        try:
            for number in range(1, writes + 1):
                client.last_write_id += 1
                write_id = client.last_write_id
                # Quoted, so that the title of write 1 does not match the title of write 10.
                title = f"{marker}-{index}-{number}"
                quoted = f'"{title}"'
                response = loop.create_future()
                broadcast = loop.create_future() if expect_broadcast else None

                def handle(frame, write_id=write_id, response=response, broadcast=broadcast, quoted=quoted):
                    now = time.monotonic()
                    if not response.done() and '"writeResponse"' in frame:
                        message = orjson.loads(frame)
                        if message.get("writeId") == write_id:
                            response.set_result((now, message))
                    if broadcast is not None and not broadcast.done() and quoted in frame:
                        broadcast.set_result(now)

                client.handler = handle
                message = {
                    "type": "write",
                    "writeId": write_id,
                    "operation": "save",
                    "instanceType": instance_type,
                    "instanceId": instance_id,
                    "data": {"title": title},
                }
                started = time.monotonic()
                await client.websocket.send(encode(message))
                responded_at, reply = await asyncio.wait_for(response, RECEIVE_TIMEOUT)
                if not reply.get("success"):
                    return samples, reply.get("error") or {"code": None, "message": f"unexpected reply {reply}"}
                broadcast_at = await asyncio.wait_for(broadcast, RECEIVE_TIMEOUT) if broadcast is not None else None
                samples.append([responded_at - started, None if broadcast_at is None else broadcast_at - started])
        finally:
            client.handler = None
        return samples, None

    async def do_http_patch(self, urls, token, writes, marker):
        """PATCH a new title to urls[i] `writes` times from each of len(urls) threads.

        Each thread keeps one HTTP connection open, as a browser does. Returns the seconds
        of every request until its response body was read.
        """

        def patch_sequence(index, url):
            parts = urllib.parse.urlsplit(url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=RECEIVE_TIMEOUT)
            headers = {
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            samples = []
            try:
                for number in range(1, writes + 1):
                    body = orjson.dumps({"title": f"{marker}-{index}-{number}"})
                    started = time.monotonic()
                    connection.request("PATCH", parts.path, body=body, headers=headers)
                    response = connection.getresponse()
                    content = response.read()
                    if response.status != 200:
                        raise ClientError(f"PATCH {parts.path} returned {response.status}: {content[:300]!r}")
                    samples.append(time.monotonic() - started)
            finally:
                connection.close()
            return samples

        loop = asyncio.get_running_loop()
        results = await asyncio.gather(
            *(loop.run_in_executor(self.http_threads, patch_sequence, index, url) for index, url in enumerate(urls))
        )
        return {"samples": [sample for thread_samples in results for sample in thread_samples]}
