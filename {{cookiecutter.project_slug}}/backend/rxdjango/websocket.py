"""The WebSocket consumer that serves a ContextChannel: one instance per connection."""

import asyncio
import inspect
import logging
import time
import uuid
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from rxdjango import conf, fanout, protocol, writes
from rxdjango.auth import user_for_token
from rxdjango.cache import HeatingAborted
from rxdjango.channels import call_hook
from rxdjango.protocol import ActionMessage, AuthMessage, FrameError, WriteMessage
from rxdjango.serialization import to_json_safe

logger = logging.getLogger("rxdjango.consumer")

# Attempts to open an anchor whose loader died while this connection waited for it.
MAX_OPEN_ATTEMPTS = 3

# Markers that load_and_send passes to fill_cache after the batches: the read ended, or failed.
LOAD_READ = object()
LOAD_FAILED = object()
# Running fill_cache tasks, referenced here so that they are not garbage-collected.
_cache_fillers = set()


def is_visible_to(user_key, user_id):
    return user_id is None or str(user_id) == user_key


class ChannelConsumer(AsyncWebsocketConsumer):
    """Authenticate a connection, stream its anchors' state, and respond to its frames."""

    channel_class = None

    # Connection life cycle

    async def connect(self):
        """Accept the socket and wait for the auth frame."""
        self.connection_id = uuid.uuid4().hex[:12]
        self.user = None
        self.user_key = ""
        self.channel = None
        self.anchors = []
        self.sessions = set()
        self.loading = {}
        # fill_cache tasks of the anchors this connection loaded from the database.
        self.cache_fills = set()
        self.groups_joined = set()
        self.tasks = set()
        self.frame_errors = deque()
        self.closed = False
        self.hub = fanout.get_hub()
        self.kwargs = dict(self.scope.get("url_route", {}).get("kwargs", {}))
        self.max_buffered = conf.get("RX_MAX_BUFFERED_BYTES")
        self.protocol = fanout.daphne_protocol(self.base_send)
        self.writes = writes.WriteHandler(self)

        await self.accept()
        self.auth_timer = asyncio.get_running_loop().call_later(
            conf.get("RX_AUTH_TIMEOUT"), lambda: self.spawn(self.auth_timed_out())
        )
        logger.info("Connection %s accepted for %s", self.connection_id, self.channel_class.__name__)

    async def disconnect(self, code):
        """Release the anchors, leave the groups and run on_disconnect."""
        self.closed = True
        self.auth_timer.cancel()
        for task in list(self.tasks):
            task.cancel()

        for anchor_id in list(self.anchors):
            await self.hub.leave(self.anchor_topic(anchor_id), self)
        for anchor_id in list(self.sessions):
            await self.channel_class.cache.release(anchor_id)
        await self.hub.leave(fanout.system_topic(), self)
        await self.hub.leave(fanout.created_topic(self.channel_class.channel_key), self)
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

        if self.channel is not None:
            try:
                await call_hook(self.channel.on_disconnect)
            except Exception:
                logger.exception("on_disconnect of connection %s failed", self.connection_id)
        logger.info(
            "Connection %s closed with code %s (user %s, anchors %s)",
            self.connection_id,
            code,
            self.user_key or "-",
            self.anchors,
        )

    async def auth_timed_out(self):
        if self.channel is None and not self.closed:
            logger.info("Connection %s sent no auth frame in time; closing", self.connection_id)
            await self.send_frame({"type": "auth", "statusCode": 401, "error": "no auth frame received in time"})
            await self.close(code=protocol.CLOSE_AUTH_TIMEOUT)

    # Frames from the client

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = protocol.parse_frame(text_data, bytes_data, conf.get("RX_MAX_FRAME_BYTES"))
        except FrameError as error:
            if error.write_id is not None and self.channel is not None:
                # The writeResponse settles the client's pending write, and the error frame
                # reports the malformed frame like any other.
                response = writes.error_response(error.write_id, error.code, error.message)
                await self.send_frame(response)
            await self.reject_frame(error)
            return

        try:
            await self.handle_message(message)
        except Exception:
            logger.exception(
                "Handling a %s frame of connection %s (user %s, anchors %s) failed",
                type(message).__name__,
                self.connection_id,
                self.user_key or "-",
                self.anchors,
            )
            await self.send(text_data=protocol.error_frame(protocol.INTERNAL_ERROR, "internal server error"))

    async def handle_message(self, message):
        if isinstance(message, AuthMessage):
            if self.channel is not None:
                await self.reject_frame(FrameError(protocol.BAD_REQUEST, "already authenticated"))
                return
            await self.authenticate(message)
        elif self.channel is None:
            await self.reject_frame(FrameError(protocol.UNAUTHORIZED, "send an auth frame first"))
        elif isinstance(message, ActionMessage):
            self.spawn(self.run_action(message))
        elif isinstance(message, WriteMessage):
            await self.handle_write(message)

    async def reject_frame(self, error):
        """Send an error for a malformed frame, and close the socket when the client keeps sending them."""
        logger.warning(
            "Connection %s (user %s, anchors %s) sent an invalid frame: %s %s",
            self.connection_id,
            self.user_key or "-",
            self.anchors,
            error.code,
            error.message,
        )
        await self.send(text_data=protocol.error_frame(error.code, error.message))

        now = time.monotonic()
        self.frame_errors.append(now)
        window = conf.get("RX_FRAME_ERROR_WINDOW")
        while self.frame_errors and now - self.frame_errors[0] > window:
            self.frame_errors.popleft()
        if len(self.frame_errors) > conf.get("RX_MAX_FRAME_ERRORS"):
            logger.warning("Connection %s sent too many invalid frames; closing", self.connection_id)
            await self.close(code=protocol.CLOSE_BAD_REQUEST)

    async def authenticate(self, message):
        self.auth_timer.cancel()
        user = await user_for_token(message.token)
        if user is None:
            await self.reject_auth(protocol.UNAUTHORIZED, "invalid or expired token", protocol.CLOSE_AUTH_FAILED)
            return
        self.user = user
        self.user_key = str(user.pk)

        try:
            allowed = await call_hook(self.channel_class.has_permission, user, **self.kwargs)
        except Exception:
            logger.exception("has_permission of connection %s failed", self.connection_id)
            allowed = False
        if not allowed:
            await self.reject_auth(protocol.FORBIDDEN, "permission denied", protocol.CLOSE_FORBIDDEN)
            return

        channel = self.channel_class(self, user, self.kwargs)
        anchors = await self.initial_anchor_ids(channel)
        if anchors is None:
            await self.reject_auth(protocol.NOT_FOUND, "not found", protocol.CLOSE_NOT_FOUND)
            return
        self.channel = channel

        await self.send_frame({"type": "auth", "statusCode": 200})
        logger.info(
            "Connection %s authenticated as user %s for %s %s",
            self.connection_id,
            self.user_key,
            self.channel_class.__name__,
            anchors,
        )
        await call_hook(channel.on_connect, message.last_update)
        await self.send_frame({"type": "initialAnchors", "anchorIds": anchors})
        if self.channel_class.runtime_state_class is not None:
            await self.send_frame({"type": "runtimeState", "state": channel.runtime_state})

        await self.hub.join(fanout.system_topic(), self)
        if self.channel_class._meta.auto_update:
            await self.hub.join(fanout.created_topic(self.channel_class.channel_key), self)
        # NOTE: every anchor is resumed from the client's lastUpdate. A list channel's anchor
        # that is new to a resumed client therefore gets only the instances changed since
        # then, because the client does not report which anchors it already has.
        for anchor_id in anchors:
            await self.open_anchor(anchor_id, message.last_update)

    async def reject_auth(self, code, error, close_code):
        logger.info("Connection %s rejected: %s %s (user %s)", self.connection_id, code, error, self.user_key or "-")
        await self.send_frame({"type": "auth", "statusCode": code, "error": error})
        await self.close(code=close_code)

    async def initial_anchor_ids(self, channel):
        """Return the anchors to open, or None when a single channel's anchor does not exist."""
        anchor_model = self.channel_class.state_model.anchor_model
        if self.channel_class._meta.many:
            queryset = await call_hook(channel.list_instances)
            return await database_sync_to_async(lambda: list(queryset.values_list("pk", flat=True)))()

        try:
            anchor_id = await call_hook(channel.get_instance_id, **self.kwargs)
            rows = anchor_model._default_manager.filter(pk=anchor_id).values_list("pk", flat=True)
            anchor_id = await database_sync_to_async(rows.first)()
        except (ValueError, TypeError, ValidationError):
            return None
        if anchor_id is None:
            return None
        return [to_json_safe(anchor_id)]

    # Initial state

    def anchor_topic(self, anchor_id):
        return fanout.anchor_topic(self.channel_class.channel_key, anchor_id)

    async def open_anchor(self, anchor_id, since=None):
        """Subscribe to an anchor's changes, then send its state and initialStateEnd."""
        topic = self.anchor_topic(anchor_id)
        self.loading[topic] = []
        self.anchors.append(anchor_id)
        await self.hub.join(topic, self)
        try:
            tstamp = await self.send_anchor_state(anchor_id, since)
        finally:
            queued = self.loading.pop(topic, [])
        await self.send_frame({"type": "initialStateEnd", "anchorId": anchor_id, "tstamp": tstamp})
        for frame in queued:
            await self.write(frame)

    async def send_anchor_state(self, anchor_id, since):
        cache = self.channel_class.cache
        for attempt in range(MAX_OPEN_ATTEMPTS):
            mode = await cache.acquire(anchor_id)
            self.sessions.add(anchor_id)
            if mode == "hot":
                return await self.send_from_cache(anchor_id, since)
            if mode == "load":
                return await self.load_and_send(anchor_id)
            try:
                return await self.follow_loader(anchor_id)
            except HeatingAborted:
                logger.warning(
                    "Loading anchor %s of %s was aborted; connection %s retries (attempt %d)",
                    anchor_id,
                    self.channel_class.__name__,
                    self.connection_id,
                    attempt + 1,
                )
                await cache.release(anchor_id)
                self.sessions.discard(anchor_id)
        raise RuntimeError(f"anchor {anchor_id} could not be loaded after {MAX_OPEN_ATTEMPTS} attempts")

    async def send_from_cache(self, anchor_id, since):
        cache = self.channel_class.cache
        tstamp = time.time()
        heated_at = await cache.heated_at(anchor_id)
        if since is not None and heated_at is not None and since < heated_at:
            # The cache was rebuilt after the client's last update, so deletions before the
            # rebuild are unknown: send the full state.
            since = None
        async for batch in cache.read_anchor(anchor_id, since=since):
            await self.send_instances([flat for flat, user_id in batch if is_visible_to(self.user_key, user_id)])
        return tstamp

    async def load_and_send(self, anchor_id):
        """Read the anchor from the database and send it, while a task of its own fills the cache.

        Each batch is sent as soon as it is read. The cache writes, and with them the heating
        stream that feeds other waiting clients, follow in fill_cache, so this client does
        not wait for them.
        """
        state_model = self.channel_class.state_model
        tstamp = time.time()
        user_layers = {layer.instance_type: layer for layer in state_model.layers if layer.user_key}
        batches = asyncio.Queue()
        to_cache = asyncio.Queue()
        producer = self.read_anchor_in_thread(anchor_id, tstamp, batches)
        filler = asyncio.get_running_loop().create_task(self.fill_cache(anchor_id, tstamp, to_cache))
        # Not in self.tasks: the filler finishes the load for the other clients of the
        # anchor even when this connection closes.
        _cache_fillers.add(filler)
        filler.add_done_callback(_cache_fillers.discard)
        self.cache_fills.add(filler)
        filler.add_done_callback(self.cache_fills.discard)
        try:
            # The database is read in one thread call, because Channels closes the thread's
            # connection between calls.
            while (batch := await batches.get()) is not None:
                user_ids = [self.user_id_in(user_layers, flat) for flat in batch]
                to_cache.put_nowait((batch, user_ids))
                visible = [
                    flat for flat, user_id in zip(batch, user_ids, strict=True) if is_visible_to(self.user_key, user_id)
                ]
                await self.send_instances(visible)
            await producer
        except BaseException:
            logger.exception("Loading anchor %s of %s failed", anchor_id, self.channel_class.__name__)
            to_cache.put_nowait(LOAD_FAILED)
            # The load is aborted before the error reaches the caller.
            await asyncio.shield(filler)
            raise
        to_cache.put_nowait(LOAD_READ)
        return tstamp

    async def fill_cache(self, anchor_id, tstamp, to_cache):
        """Write the batches of a load to the cache, then mark the anchor HOT.

        When the load fails, or the cache cannot store it, the load is aborted. The other
        clients then load again. This socket is closed so that its client reloads too,
        because changes no longer reach an anchor that is not live.
        """
        cache = self.channel_class.cache
        try:
            while (item := await to_cache.get()) is not LOAD_READ:
                if item is LOAD_FAILED:
                    await cache.abort_heating(anchor_id)
                    return
                batch, user_ids = item
                await cache.write_heating_batch(anchor_id, batch, user_ids)
            await cache.finish_heating(anchor_id, tstamp)
        except asyncio.CancelledError:
            await cache.abort_heating(anchor_id)
            raise
        except Exception:
            logger.exception(
                "Filling the cache of anchor %s of %s failed, so connection %s is closed and its client reloads",
                anchor_id,
                self.channel_class.__name__,
                self.connection_id,
            )
            await cache.abort_heating(anchor_id)
            if not self.closed:
                self.closed = True
                await self.close(code=protocol.CLOSE_INTERNAL_ERROR)
            return
        logger.info("Loaded anchor %s of %s from the database", anchor_id, self.channel_class.__name__)

    async def cache_filled(self):
        """Wait until the cache contains the anchors that this connection loaded from the database."""
        if self.cache_fills:
            await asyncio.wait(list(self.cache_fills))

    def read_anchor_in_thread(self, anchor_id, tstamp, batches):
        """Start reading an anchor's flat instances in a thread; batches arrive on the queue, then None."""
        loop = asyncio.get_running_loop()
        state_model = self.channel_class.state_model

        def produce():
            try:
                for batch in state_model.load_anchor(anchor_id, tstamp, conf.get("RX_BATCH_SIZE")):
                    loop.call_soon_threadsafe(batches.put_nowait, batch)
            finally:
                loop.call_soon_threadsafe(batches.put_nowait, None)

        producer = asyncio.ensure_future(database_sync_to_async(produce)())
        # A loader that fails while writing stops reading the queue, so the producer's error
        # is retrieved here to keep asyncio from reporting it as never retrieved.
        producer.add_done_callback(lambda task: task.cancelled() or task.exception())
        return producer

    @staticmethod
    def user_id_in(user_layers, flat):
        layer = user_layers.get(flat["_instance_type"])
        return None if layer is None else layer.user_id_of(flat)

    async def follow_loader(self, anchor_id):
        tstamp = time.time()
        async for batch in self.channel_class.cache.follow_heating(anchor_id):
            await self.send_instances([flat for flat, user_id in batch if is_visible_to(self.user_key, user_id)])
        return tstamp

    async def send_instances(self, instances):
        if instances:
            await self.write(protocol.encode({"type": "instances", "instances": instances}))

    # List channels

    async def add_anchor(self, anchor_id, at_beginning=False):
        if anchor_id in self.anchors:
            return
        await self.send_frame({"type": "prependAnchor" if at_beginning else "appendAnchor", "anchorId": anchor_id})
        await self.open_anchor(anchor_id)

    async def remove_anchor(self, anchor_id):
        if anchor_id not in self.anchors:
            return
        self.anchors.remove(anchor_id)
        await self.hub.leave(self.anchor_topic(anchor_id), self)
        if anchor_id in self.sessions:
            self.sessions.discard(anchor_id)
            await self.channel_class.cache.release(anchor_id)
        await self.send_frame({"type": "removeAnchor", "anchorId": anchor_id})

    async def clear_anchors(self):
        for anchor_id in list(self.anchors):
            self.anchors.remove(anchor_id)
            await self.hub.leave(self.anchor_topic(anchor_id), self)
            if anchor_id in self.sessions:
                self.sessions.discard(anchor_id)
                await self.channel_class.cache.release(anchor_id)
        await self.send_frame({"type": "clearAnchors"})

    def anchor_created(self, anchor_id):
        """Called by the fan-out hub when a list channel's anchor model gets a new row."""
        self.spawn(self.offer_new_anchor(anchor_id))

    async def offer_new_anchor(self, anchor_id):
        anchor_model = self.channel_class.state_model.anchor_model
        instance = await database_sync_to_async(anchor_model._default_manager.filter(pk=anchor_id).first)()
        if instance is None or self.channel is None:
            return
        if await call_hook(self.channel.is_visible, instance):
            await self.add_anchor(instance.pk, at_beginning=True)

    # Live changes

    async def deliver(self, topic, frame, wire, length):
        """Write a published frame; frames of an anchor still loading wait until its end.

        `wire` is the ready WebSocket frame, with a payload of `length` bytes, built once for
        every socket of the topic.
        """
        queued = self.loading.get(topic)
        if queued is not None:
            queued.append(frame)
            return
        await self.write(frame, wire, length)

    async def write(self, frame, wire=None, length=0):
        """Write one text frame, closing the socket when its outgoing buffer is full.

        Under daphne a ready WebSocket frame `wire` goes straight to the connection's transport.
        """
        if self.closed:
            return
        buffered = fanout.transport_buffer_size(self.base_send)
        if buffered > self.max_buffered:
            logger.warning(
                "Connection %s has %d bytes unsent (limit %d); closing it so the client resumes",
                self.connection_id,
                buffered,
                self.max_buffered,
            )
            self.closed = True
            await self.close(code=protocol.CLOSE_SLOW_CONSUMER)
            return
        if wire is not None and self.protocol is not None and fanout.write_frame(self.protocol, wire, length):
            return
        await self.base_send({"type": "websocket.send", "text": frame})

    async def send_frame(self, message):
        await self.write(protocol.encode(message))

    # Actions and writes

    async def run_action(self, message):
        method = self.channel_class.actions.get(message.action)
        if method is None:
            await self.action_error(message, protocol.NOT_FOUND, f"unknown action {message.action!r}")
            return
        bound = getattr(self.channel, message.action)
        try:
            inspect.signature(bound).bind(*message.params)
        except TypeError as error:
            await self.action_error(message, protocol.BAD_REQUEST, f"invalid params for {message.action}: {error}")
            return

        try:
            result = await bound(*message.params)
            frame = protocol.encode({"type": "actionResponse", "callId": message.call_id, "result": result})
        except Exception:
            logger.exception(
                "Action %s of connection %s (user %s, anchors %s) failed",
                message.action,
                self.connection_id,
                self.user_key,
                self.anchors,
            )
            await self.action_error(message, protocol.INTERNAL_ERROR, f"action {message.action} failed")
            return
        await self.write(frame)

    async def action_error(self, message, code, text):
        await self.send_frame(
            {"type": "actionResponse", "callId": message.call_id, "error": {"code": code, "message": text}}
        )

    async def handle_write(self, message):
        """Apply a write and send its writeResponse.

        The write is awaited here, not spawned, so one connection's writes apply in the
        order the client sent them, and its next frame waits until this write's response is sent.
        The database work runs in a thread.
        """
        try:
            response = await self.writes.respond(message)
            await self.send_frame(response)
        finally:
            await self.writes.broadcast_committed()

    # Channel-layer events

    async def join_group(self, group):
        if self.channel_layer is None:
            raise RuntimeError(
                f"{self.channel_class.__name__} joined group {group!r} but has no @consumer method: "
                "declare one to receive the group's events, and configure CHANNEL_LAYERS."
            )
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def dispatch(self, message):
        handler = self.channel_class.event_handlers.get(message.get("type"))
        if handler is not None and self.channel is not None:
            try:
                await handler(self.channel, message)
            except Exception:
                logger.exception("Handler of event %s on connection %s failed", message.get("type"), self.connection_id)
            return
        await super().dispatch(message)

    # Helpers

    def spawn(self, coroutine):
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
