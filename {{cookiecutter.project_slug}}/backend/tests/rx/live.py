"""Helpers for tests that talk to channels over a WebSocket, in process."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from rxdjango.channels import get_registered_channels
from rxdjango.connections import close_all
from tests.rxapp.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)

# Seconds to wait for a frame that must arrive.
RECEIVE_TIMEOUT = 10


class LiveClient:
    """A WebSocket client of one channel route, with helpers to read frames by type."""

    def __init__(self, route, app=application):
        self.communicator = WebsocketCommunicator(app, route)
        self.frames = []

    async def open(self, token, last_update=None):
        """Connect, authenticate, and return the auth response frame."""
        connected, _ = await self.communicator.connect()
        assert connected
        await self.communicator.send_json_to({"type": "auth", "token": token, "lastUpdate": last_update})
        return await self.receive()

    async def receive(self, timeout=RECEIVE_TIMEOUT):
        frame = await self.communicator.receive_json_from(timeout)
        self.frames.append(frame)
        return frame

    async def receive_type(self, frame_type, timeout=RECEIVE_TIMEOUT):
        """Return the next frame of a type, skipping other frames."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type:
                return frame

    async def initial_state(self, anchors=1):
        """Read until `anchors` initialStateEnd frames; return the instances received."""
        instances = []
        ends = 0
        while ends < anchors:
            frame = await self.receive()
            if frame["type"] == "instances":
                instances.extend(frame["instances"])
            elif frame["type"] == "initialStateEnd":
                ends += 1
        return instances

    async def next_instances(self, timeout=RECEIVE_TIMEOUT):
        frame = await self.receive_type("instances", timeout)
        return frame["instances"]

    async def send(self, message):
        if isinstance(message, str):
            await self.communicator.send_to(text_data=message)
        else:
            await self.communicator.send_json_to(message)

    async def call(self, call_id, action, *params):
        await self.send({"type": "action", "callId": call_id, "action": action, "params": list(params)})
        while True:
            frame = await self.receive_type("actionResponse")
            if frame["callId"] == call_id:
                return frame

    async def assert_silent(self, timeout=0.5):
        assert await self.communicator.receive_nothing(timeout=timeout)

    async def close(self):
        await self.communicator.disconnect()


def token_for(user):
    return Token.objects.get_or_create(user=user)[0].key


def make_user(username):
    return get_user_model().objects.create_user(username=username, password="x")


def run_sync(function, *args, **kwargs):
    """Run ORM code from an async test, in a thread, committing as it goes."""
    return database_sync_to_async(function)(*args, **kwargs)


@pytest.fixture
def clean_cache(transactional_db):
    """Start every test with empty caches, since row ids repeat between tests."""
    for channel_class in get_registered_channels():
        channel_class.cache.clear_all()
    yield
    close_all()


async def settle(seconds=0.05):
    await asyncio.sleep(seconds)


def hold_cache_fill(monkeypatch, channel_class):
    """Make the channel's cache fills wait before each batch; returns the event that releases them."""
    released = asyncio.Event()
    original = channel_class.cache.write_heating_batch

    async def held_write(*args, **kwargs):
        await released.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(channel_class.cache, "write_heating_batch", held_write)
    return released


async def cache_filled(channel_class, anchor_id, timeout=RECEIVE_TIMEOUT):
    """Wait until the anchor's cache is no longer HEATING.

    The client that loads an anchor gets its state before the cache is filled.
    """
    async with asyncio.timeout(timeout):
        while await run_sync(channel_class.cache.state_of, anchor_id) == "HEATING":
            await asyncio.sleep(0.01)


def build_project(owner, other, name="Apollo"):
    """Create a project with every nested relation: detail, tags, tasks, comments, notes."""
    from decimal import Decimal

    from django.utils import timezone

    from tests.rxapp.models import Comment, Note, Project, ProjectDetail, Tag, Task

    project = Project.objects.create(
        name=name,
        budget=Decimal("1234.50"),
        starts_at=timezone.now(),
        metadata={"color": "blue"},
        owner=owner,
    )
    ProjectDetail.objects.create(project=project, description="Moon landing", website="https://example.com")
    tags = [Tag.objects.get_or_create(name=tag)[0] for tag in ("space", "urgent")]
    project.tags.set(tags)
    first = Task.objects.create(project=project, title="Build rocket", position=1, assignee=owner)
    second = Task.objects.create(project=project, title="Train crew", position=2, assignee=other)
    Comment.objects.create(task=first, author=other, text="Looks good")
    Note.objects.create(project=project, user=owner, text="owner's secret")
    Note.objects.create(project=project, user=other, text="other's secret")
    return project, first, second
