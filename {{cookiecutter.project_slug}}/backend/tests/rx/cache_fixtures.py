"""Fixtures and helpers for the StateCache tests, run against the real Redis and MongoDB servers.

A test module uses a fixture by assigning it to a module-level name, e.g.
`make_cache = cache_fixtures.make_cache`.

Each cache gets a unique channel key, so tests never share Redis keys or MongoDB collections
and test runs in parallel do not collide.
"""

import time
import uuid

import pytest

from rxdjango import connections
from rxdjango.cache import StateCache

TASK_TYPE = "tests.rxapp.serializers.TaskSerializer"
NOTE_TYPE = "tests.rxapp.serializers.NoteSerializer"


def make_flat(instance_id, tstamp, instance_type=TASK_TYPE, operation="initial_state", **fields):
    """Return a flat instance as Layer.serialize() builds it."""
    return {"id": instance_id, "_instance_type": instance_type, "_tstamp": tstamp, "_operation": operation, **fields}


def drop_cache(cache):
    """Delete every Redis key and MongoDB collection of a test cache."""
    cache.states.delete_all()
    db = connections.sync_mongo_db()
    db.drop_collection(cache.store.collection_name)
    db.drop_collection(f"{cache.store.bucket_name}.files")
    db.drop_collection(f"{cache.store.bucket_name}.chunks")


@pytest.fixture
async def close_async_clients():
    """Close the test's event loop clients after the test, so no socket outlives its loop."""
    yield
    await connections.aclose()


@pytest.fixture
def make_cache(close_async_clients):
    """Return a function that creates a StateCache on a fresh channel key. Its data is dropped after the test."""
    caches = []

    def make(ttl_seconds=3600, **options):
        cache = StateCache(f"tests.cache.c{uuid.uuid4().hex[:12]}", ttl_seconds, **options)
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        drop_cache(cache)


@pytest.fixture
def cache(make_cache):
    return make_cache()


async def heat(cache, anchor_id, instances, user_ids=None, tstamp=None):
    """Load an anchor as a loader does: acquire, one heating batch, finish. Returns heated_at."""
    mode = await cache.acquire(anchor_id)
    assert mode == "load", f"acquire returned {mode!r}"
    await cache.write_heating_batch(anchor_id, instances, user_ids or [None] * len(instances))
    tstamp = time.time() if tstamp is None else tstamp
    await cache.finish_heating(anchor_id, tstamp)
    return tstamp


async def read_all(cache, anchor_id, since=None):
    """Return every (flat, user_id) pair that read_anchor yields, in order."""
    pairs = []
    async for batch in cache.read_anchor(anchor_id, since=since):
        pairs.extend(batch)
    return pairs


async def follow_all(cache, anchor_id):
    """Return the batches that follow_heating yields."""
    return [batch async for batch in cache.follow_heating(anchor_id)]


def stored_document(cache, anchor_id, instance_type, instance_id):
    """Return the raw MongoDB document of one cached instance, or None."""
    collection = connections.sync_mongo_db()[cache.store.collection_name]
    return collection.find_one({"_id": f"{anchor_id}:{instance_type}:{instance_id}"})
