"""Per-process fan-out: one Redis subscription per topic, one write loop over local sockets.

A change is encoded to its frame once and published once per anchor. Every server process
subscribes to the topics its sockets need and writes the same frame to each of them,
instead of one channel-layer message per connection.

A published message is `target + b"\\n" + frame`, where target is empty for every socket of
the topic, or a user's primary key for frames that only that user may receive.
"""

import asyncio
import logging
import struct
import weakref

from rxdjango import conf
from rxdjango.connections import async_redis, sync_redis

logger = logging.getLogger("rxdjango.fanout")

SEPARATOR = b"\n"
# Seconds to wait for Redis to confirm a subscription before sending an anchor's state.
SUBSCRIBE_TIMEOUT = 10


def topic_prefix():
    return f"{conf.get('RX_REDIS_PREFIX')}:fanout"


def anchor_topic(channel_key, anchor_id):
    return f"{topic_prefix()}:{channel_key}:{anchor_id}"


def created_topic(channel_key):
    """Topic that announces new anchors to list channels with auto_update."""
    return f"{topic_prefix()}:{channel_key}:created"


def system_topic():
    return f"{topic_prefix()}:system"


def pack(frame, user_id=None):
    target = b"" if user_id is None else str(user_id).encode()
    return target + SEPARATOR + (frame.encode() if isinstance(frame, str) else frame)


def publish(topic, frame, user_id=None):
    """Publish a frame from synchronous code (signal handlers, management commands)."""
    sync_redis().publish(topic, pack(frame, user_id))


async def apublish(topic, frame, user_id=None):
    await async_redis().publish(topic, pack(frame, user_id))


class FanoutHub:
    """Sockets of this process per topic, fed by one Redis pub/sub connection.

    A socket is any object with `user_key` (str, the user's pk), `deliver(topic, frame, wire,
    length)` (async, writes one frame given as text and as a ready WebSocket frame whose
    payload has `length` bytes) and, for the created topic, `anchor_created(anchor_id)`.
    """

    def __init__(self):
        self.topics = {}
        self.pubsub = None
        self.listener = None
        self.confirmations = {}
        self.lock = asyncio.Lock()
        # Set while the pub/sub connection has subscriptions, so the listener waits for the
        # first one instead of polling.
        self.has_subscriptions = asyncio.Event()

    async def join(self, topic, socket):
        """Add a socket to a topic; returns once Redis has confirmed the subscription."""
        async with self.lock:
            sockets = self.topics.get(topic)
            if sockets is None:
                sockets = self.topics[topic] = set()
                self.confirmations[topic] = asyncio.get_running_loop().create_future()
                await self.ensure_listening()
                await self.pubsub.subscribe(topic)
                self.has_subscriptions.set()
            sockets.add(socket)
            await self.ensure_listening()
            confirmed = self.confirmations.get(topic)
        if confirmed is not None:
            try:
                await asyncio.wait_for(asyncio.shield(confirmed), timeout=SUBSCRIBE_TIMEOUT)
            except TimeoutError:
                logger.warning("Redis did not confirm the subscription to %s within %s s", topic, SUBSCRIBE_TIMEOUT)

    async def leave(self, topic, socket):
        async with self.lock:
            sockets = self.topics.get(topic)
            if sockets is None:
                return
            sockets.discard(socket)
            if sockets:
                return
            del self.topics[topic]
            if self.pubsub is not None:
                await self.pubsub.unsubscribe(topic)

    async def ensure_listening(self):
        if self.pubsub is None:
            self.pubsub = async_redis().pubsub()
        if self.listener is None or self.listener.done():
            self.listener = asyncio.get_running_loop().create_task(self.listen(), name="rxdjango-fanout")

    async def listen(self):
        while True:
            try:
                if not self.pubsub.subscribed:
                    self.has_subscriptions.clear()
                    await self.has_subscriptions.wait()
                    continue
                message = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Reading from Redis pub/sub failed; retrying in 1 s")
                await asyncio.sleep(1)
                continue
            if message is None:
                continue
            try:
                await self.handle(message)
            except Exception:
                logger.exception("Handling a pub/sub message on %s failed", message.get("channel"))

    async def handle(self, message):
        topic = message["channel"]
        if isinstance(topic, bytes):
            topic = topic.decode()
        kind = message["type"]

        if kind == "subscribe":
            confirmed = self.confirmations.pop(topic, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(True)
            return
        if kind != "message":
            return

        target, _, frame = message["data"].partition(SEPARATOR)
        sockets = self.topics.get(topic)
        if not sockets:
            return
        if topic.endswith(":created"):
            for socket in list(sockets):
                socket.anchor_created(frame.decode())
            return
        await self.deliver(topic, sockets, target.decode(), frame)

    async def deliver(self, topic, sockets, target, payload):
        """Write one frame to every socket of a topic, or only to the target user's sockets.

        payload is the frame's UTF-8 text. Its WebSocket frame is built once for all sockets.
        """
        frame = payload.decode()
        wire = text_frame(payload)
        for socket in list(sockets):
            if target and socket.user_key != target:
                continue
            try:
                await socket.deliver(topic, frame, wire, len(payload))
            except Exception:
                logger.exception("Writing a frame to connection %s failed", getattr(socket, "connection_id", "?"))

    async def close(self):
        if self.listener is not None:
            self.listener.cancel()
            try:
                await self.listener
            except (asyncio.CancelledError, Exception):
                pass
        if self.pubsub is not None:
            await self.pubsub.aclose()
        self.topics.clear()


_hubs = weakref.WeakKeyDictionary()


def get_hub():
    """Return this event loop's hub; daphne runs one loop per process."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = FanoutHub()
        _hubs[loop] = hub
    return hub


def text_frame(payload):
    """Return the unfragmented, unmasked WebSocket text frame of a UTF-8 payload (RFC 6455, section 5.2)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


def daphne_protocol(send):
    """Return the autobahn protocol behind daphne's send callable, or None under other servers.

    Daphne passes each application a `functools.partial(handle_reply, protocol)` as its send
    callable.
    """
    arguments = getattr(send, "args", None)
    protocol = arguments[0] if arguments else None
    if protocol is None or not hasattr(protocol, "transport"):
        return None
    return protocol


def write_frame(protocol, wire, length):
    """Write a ready frame to the protocol's transport, and return False when it must take the usual path.

    length is the size of the frame's payload. This skips what autobahn's sendMessage does
    per call besides the write: assertions, traffic counters and a debug log line whose
    arguments are formatted even when debug logging is off. The usual path is needed while
    the socket is not open, compresses, has frames queued, or when the payload is over the
    protocol's size limit or fragment size.
    """
    # NOTE: these are attributes of autobahn (26.11 is pinned); if a version renames them,
    # the AttributeError makes every frame take the usual path.
    try:
        if (
            protocol.state != protocol.STATE_OPEN
            or protocol.send_state != protocol.SEND_STATE_GROUND
            or protocol._perMessageCompress is not None
            or 0 < protocol.autoFragmentSize < length
            or 0 < protocol.maxMessagePayloadSize < length
            or protocol.send_queue
        ):
            return False
    except AttributeError:
        return False
    protocol.transport.write(wire)
    return True


def transport_buffer_size(send):
    """Return the bytes waiting in the server's outgoing buffer of a connection, or 0 when unknown.

    The Twisted transport of daphne's protocol keeps unsent bytes in `dataBuffer` (from
    `offset`) and `_tempDataBuffer`.
    """
    # NOTE: this reads Twisted internals and only works under daphne; other servers report 0,
    # so their sockets are never closed for a full buffer.
    protocol = daphne_protocol(send)
    if protocol is None:
        return 0
    transport = protocol.transport
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return 0
