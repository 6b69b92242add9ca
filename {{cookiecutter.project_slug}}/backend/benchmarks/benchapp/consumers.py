"""Bare Channels consumers that the benchmarks compare rxdjango with.

None of them authenticates or checks anything: they are the least a Channels app must do
to deliver the same frames, or, for the fan-out baseline, what a hand-written consumer does.
"""

import asyncio
import time

import orjson
import pymongo
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings

from .channels import BoardChannel

# Flat instances per "instances" frame, as rxdjango's RX_BATCH_SIZE default sends them.
LOAD_BATCH_SIZE = 1000

_mongo_clients = {}  # event loop -> pymongo.AsyncMongoClient


def cached_documents():
    """Return the MongoDB collection of BoardChannel's cache, with a client per event loop."""
    loop = asyncio.get_running_loop()
    client = _mongo_clients.get(loop)
    if client is None:
        client = _mongo_clients[loop] = pymongo.AsyncMongoClient(settings.MONGO_URL, appname="rxdjango-benchmark")
    return client[settings.MONGO_STATE_DB][BoardChannel.cache.store.collection_name]


def encode(message):
    return orjson.dumps(message).decode()


def floor_group(board_id):
    return f"bench-floor-{board_id}"


def baseline_group(board_id):
    return f"bench-baseline-{board_id}"


class LoadFloorConsumer(AsyncWebsocketConsumer):
    """Send a board's cached flat instances after the first frame, read with one indexed query.

    The protocol is rxdjango's as far as the client sees it: "instances" frames, then
    "initialStateEnd". The documents must be cached, so the board must be HOT.
    """

    channel_layer_alias = None

    async def connect(self):
        self.sent = False
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if self.sent:
            return
        self.sent = True
        board_id = self.scope["url_route"]["kwargs"]["board_id"]
        query = {"_anchor": str(board_id), "_deleted": False}
        cursor = cached_documents().find(query, projection={"_flat": 1, "_id": 0}, batch_size=LOAD_BATCH_SIZE)
        batch = []
        async for document in cursor:
            batch.append(orjson.loads(document["_flat"]))
            if len(batch) >= LOAD_BATCH_SIZE:
                await self.send(text_data=encode({"type": "instances", "instances": batch}))
                batch = []
        if batch:
            await self.send(text_data=encode({"type": "instances", "instances": batch}))
        await self.send(text_data=encode({"type": "initialStateEnd", "anchorId": board_id, "tstamp": time.time()}))


class EchoFloorConsumer(AsyncWebsocketConsumer):
    """Reply to each "write" frame with a successful "writeResponse", touching no database."""

    channel_layer_alias = None

    async def receive(self, text_data=None, bytes_data=None):
        message = orjson.loads(text_data or bytes_data)
        if message.get("type") == "write":
            await self.send(text_data=encode({"type": "writeResponse", "writeId": message["writeId"], "success": True}))


class FanoutFloorConsumer(AsyncWebsocketConsumer):
    """Forward the text of every `bench.frame` event of the board's group to the socket."""

    async def connect(self):
        self.group = floor_group(self.scope["url_route"]["kwargs"]["board_id"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def bench_frame(self, event):
        await self.send(text_data=event["text"])


class FanoutBaselineConsumer(AsyncJsonWebsocketConsumer):
    """Send the whole nested board state of every `bench.state` event, encoded per socket.

    This is the usual hand-written live page: a post_save receiver serializes the board
    with the nested serializer and sends it to the board's group (benchmarks.benchapp.baseline).
    """

    async def connect(self):
        self.group = baseline_group(self.scope["url_route"]["kwargs"]["board_id"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def bench_state(self, event):
        await self.send_json(event["state"])
