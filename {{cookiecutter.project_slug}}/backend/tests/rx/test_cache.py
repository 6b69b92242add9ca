"""StateCache against the real Redis and MongoDB (FerretDB) servers: states, heating, writes, reads."""

import asyncio
import time
import uuid

import pytest

from rxdjango import connections
from rxdjango.cache import COLD, COOLING, HEATING, HOT, HeatingAborted
from rxdjango.cache.store import MAX_INLINE_BYTES
from tests.rx import cache_fixtures
from tests.rx.cache_fixtures import NOTE_TYPE, TASK_TYPE, follow_all, heat, make_flat, read_all, stored_document

close_async_clients = cache_fixtures.close_async_clients
make_cache = cache_fixtures.make_cache
cache = cache_fixtures.cache

ANCHOR = 7


def gridfs_file_count(cache):
    return connections.sync_mongo_db()[f"{cache.store.bucket_name}.files"].count_documents({})


def document_count(cache, anchor_id=ANCHOR):
    return connections.sync_mongo_db()[cache.store.collection_name].count_documents({"_anchor": str(anchor_id)})


# States and sessions


async def test_acquire_cold_anchor_loads(cache):
    assert cache.state_of(ANCHOR) == COLD

    assert await cache.acquire(ANCHOR) == "load"

    assert cache.state_of(ANCHOR) == HEATING
    assert cache.live_anchor_ids() == {"7"}
    assert cache.session_count(ANCHOR) == 1


async def test_acquire_heating_anchor_waits(cache):
    assert await cache.acquire(ANCHOR) == "load"

    assert await cache.acquire(ANCHOR) == "wait"

    assert cache.state_of(ANCHOR) == HEATING
    assert cache.session_count(ANCHOR) == 2


async def test_finish_heating_makes_anchor_hot(cache):
    tstamp = await heat(cache, ANCHOR, [make_flat(1, 100.0)], tstamp=100.0)

    assert cache.state_of(ANCHOR) == HOT
    assert await cache.heated_at(ANCHOR) == tstamp
    assert cache.live_anchor_ids() == {"7"}
    assert await cache.acquire(ANCHOR) == "hot"


async def test_heated_at_none_unless_hot(cache):
    assert await cache.heated_at(ANCHOR) is None

    await cache.acquire(ANCHOR)

    assert await cache.heated_at(ANCHOR) is None


async def test_anchor_ids_compared_as_str(cache):
    await heat(cache, 7, [make_flat(1, 1.0)])

    assert cache.state_of("7") == HOT
    assert await cache.acquire("7") == "hot"
    assert cache.session_count(7) == 2
    assert [flat["id"] for flat, _ in await read_all(cache, "7")] == [1]


async def test_release_counts_sessions_and_idle_time(cache):
    await heat(cache, ANCHOR, [make_flat(1, 1.0)])
    await cache.acquire(ANCHOR)

    await cache.release(ANCHOR)
    assert cache.session_count(ANCHOR) == 1
    assert cache.idle_since(ANCHOR) is None

    before = time.time()
    await cache.release(ANCHOR)
    assert cache.session_count(ANCHOR) == 0
    assert before <= cache.idle_since(ANCHOR) <= time.time()

    await cache.acquire(ANCHOR)
    assert cache.idle_since(ANCHOR) is None
    assert cache.session_count(ANCHOR) == 1


async def test_release_without_acquire_keeps_count_at_zero(cache):
    await cache.release(ANCHOR)

    assert cache.session_count(ANCHOR) == 0
    assert cache.idle_since(ANCHOR) is not None
    assert await cache.acquire(ANCHOR) == "load"
    assert cache.session_count(ANCHOR) == 1


async def test_clear_hot_anchor(cache):
    await heat(cache, ANCHOR, [make_flat(1, 1.0), make_flat(2, 1.0)])

    assert cache.clear(ANCHOR) is True

    assert cache.state_of(ANCHOR) == COLD
    assert cache.live_anchor_ids() == set()
    assert document_count(cache) == 0
    assert await cache.heated_at(ANCHOR) is None
    assert await cache.acquire(ANCHOR) == "load"


async def test_clear_rejects_cold_and_heating(cache):
    assert cache.clear(ANCHOR) is False

    await cache.acquire(ANCHOR)
    await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0)], [None])

    assert cache.clear(ANCHOR) is False
    assert cache.state_of(ANCHOR) == HEATING
    assert document_count(cache) == 1


async def test_clear_keeps_other_anchors(cache):
    await heat(cache, 1, [make_flat(1, 1.0)])
    await heat(cache, 2, [make_flat(1, 1.0)])

    cache.clear(1)

    assert cache.state_of(2) == HOT
    assert cache.live_anchor_ids() == {"2"}
    assert [flat["id"] for flat, _ in await read_all(cache, 2)] == [1]


async def test_clear_all_drops_everything(cache):
    await heat(cache, 1, [make_flat(1, 1.0)])
    await cache.acquire(2)
    big = make_flat(3, 1.0, text="x" * (MAX_INLINE_BYTES + 1))
    cache.write_instance(1, big, None)

    cache.clear_all()

    assert cache.state_of(1) == COLD
    assert cache.state_of(2) == COLD
    assert cache.live_anchor_ids() == set()
    assert cache.session_count(2) == 0
    assert document_count(cache, 1) == 0
    assert gridfs_file_count(cache) == 0
    assert list(connections.sync_redis().scan_iter(match=f"{cache.states.base()}:*")) == []
    assert await cache.acquire(1) == "load"


async def test_clear_all_voids_running_load(cache):
    await cache.acquire(ANCHOR)

    cache.clear_all()

    with pytest.raises(HeatingAborted):
        await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0)], [None])


# Heating: one loader, waiting clients follow its stream


async def test_concurrent_acquires_elect_one_loader(cache):
    modes = await asyncio.gather(*(cache.acquire(ANCHOR) for _ in range(20)))

    assert modes.count("load") == 1
    assert modes.count("wait") == 19
    assert cache.session_count(ANCHOR) == 20


async def test_concurrent_clients_receive_loader_batches(cache):
    batches = [[make_flat(i * 10 + j, 5.0, title=f"task {i}.{j}") for j in range(3)] for i in range(4)]
    user_ids = [[None, 42, "u-9"] for _ in batches]
    expected = [list(zip(batch, users, strict=True)) for batch, users in zip(batches, user_ids, strict=True)]

    async def open_anchor():
        mode = await cache.acquire(ANCHOR)
        if mode == "wait":
            return mode, await follow_all(cache, ANCHOR)
        for batch, users in zip(batches, user_ids, strict=True):
            await cache.write_heating_batch(ANCHOR, batch, users)
            await asyncio.sleep(0.01)
        await cache.finish_heating(ANCHOR, 5.0)
        return mode, expected

    results = await asyncio.gather(*(open_anchor() for _ in range(20)))

    assert [mode for mode, _ in results].count("load") == 1
    for mode, received in results:
        assert received == expected, mode
    assert cache.state_of(ANCHOR) == HOT
    assert [pair for batch in expected for pair in batch] == await read_all(cache, ANCHOR)


async def test_follower_started_late_gets_every_batch(cache):
    assert await cache.acquire(ANCHOR) == "load"
    assert await cache.acquire(ANCHOR) == "wait"
    first = [make_flat(1, 2.0), make_flat(2, 2.0)]
    second = [make_flat(3, 2.0)]
    third = [make_flat(4, 2.0)]
    await cache.write_heating_batch(ANCHOR, first, [None, None])
    await cache.write_heating_batch(ANCHOR, second, [None])

    follower = asyncio.create_task(follow_all(cache, ANCHOR))
    await asyncio.sleep(0.05)
    await cache.write_heating_batch(ANCHOR, third, [None])
    await cache.finish_heating(ANCHOR, 2.0)

    assert await follower == [[(flat, None) for flat in batch] for batch in (first, second, third)]


async def test_follower_after_finish_reads_kept_stream(cache):
    batch = [make_flat(1, 3.0)]
    await heat(cache, ANCHOR, batch)

    assert await follow_all(cache, ANCHOR) == [[(batch[0], None)]]


async def test_finished_stream_expires(make_cache):
    cache = make_cache(finished_stream_ttl=0.2)
    await heat(cache, ANCHOR, [make_flat(1, 3.0)])
    await asyncio.sleep(0.4)

    assert connections.sync_redis().exists(cache.states.stream_key("7")) == 0
    with pytest.raises(HeatingAborted, match="expired"):
        await follow_all(cache, ANCHOR)
    assert await cache.acquire(ANCHOR) == "hot"


async def test_heating_key_expires_unless_renewed(make_cache):
    cache = make_cache(heating_timeout=5)
    redis_client = connections.sync_redis()
    await cache.acquire(ANCHOR)
    await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0)], [None])

    assert 0 < redis_client.pttl(cache.states.state_key("7")) <= 5000
    assert 0 < redis_client.pttl(cache.states.stream_key("7")) <= 5000

    await cache.finish_heating(ANCHOR, 1.0)

    assert redis_client.pttl(cache.states.state_key("7")) == -1
    assert 0 < redis_client.pttl(cache.states.stream_key("7")) <= 60000


async def test_follow_cold_anchor_raises(cache):
    with pytest.raises(HeatingAborted, match="COLD"):
        await follow_all(cache, ANCHOR)


async def test_empty_load_finishes(cache):
    assert await cache.acquire(ANCHOR) == "load"
    await cache.acquire(ANCHOR)

    follower = asyncio.create_task(follow_all(cache, ANCHOR))
    await cache.finish_heating(ANCHOR, 1.0)

    assert await follower == []
    assert cache.state_of(ANCHOR) == HOT
    assert await read_all(cache, ANCHOR) == []


async def test_abort_heating_stops_followers(cache):
    assert await cache.acquire(ANCHOR) == "load"
    assert await cache.acquire(ANCHOR) == "wait"
    await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0)], [None])
    follower = asyncio.create_task(follow_all(cache, ANCHOR))
    await asyncio.sleep(0.05)

    await cache.abort_heating(ANCHOR)

    with pytest.raises(HeatingAborted, match="aborted"):
        await follower
    assert cache.state_of(ANCHOR) == COLD
    assert cache.live_anchor_ids() == set()
    assert document_count(cache) == 0


async def test_abort_heating_survives_failed_deletion(cache, monkeypatch):
    async def fail(*args, **kwargs):
        raise ConnectionError("MongoDB is down")

    await cache.acquire(ANCHOR)
    monkeypatch.setattr(cache.store, "async_delete_anchor", fail)

    await cache.abort_heating(ANCHOR)

    assert cache.state_of(ANCHOR) == COLD
    assert connections.sync_redis().exists(cache.states.cooling_key("7")) == 0


async def test_abort_heating_twice_is_harmless(cache):
    await cache.acquire(ANCHOR)
    await cache.abort_heating(ANCHOR)

    await cache.abort_heating(ANCHOR)

    assert cache.state_of(ANCHOR) == COLD


async def test_aborted_anchor_loads_again(cache):
    await cache.acquire(ANCHOR)
    await cache.abort_heating(ANCHOR)
    await cache.release(ANCHOR)

    assert await cache.acquire(ANCHOR) == "load"
    await cache.write_heating_batch(ANCHOR, [make_flat(2, 2.0)], [None])
    await cache.finish_heating(ANCHOR, 2.0)

    assert [flat["id"] for flat, _ in await read_all(cache, ANCHOR)] == [2]


async def test_dead_loader_lets_follower_take_over(make_cache):
    cache = make_cache(heating_timeout=0.5)
    assert await cache.acquire(ANCHOR) == "load"
    await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0, title="stale")], [None])

    async def follower():
        assert await cache.acquire(ANCHOR) == "wait"
        received = []
        with pytest.raises(HeatingAborted, match="stopped"):
            async for batch in cache.follow_heating(ANCHOR):
                received.append(batch)
        await cache.release(ANCHOR)
        mode = await cache.acquire(ANCHOR)
        if mode == "load":
            await cache.write_heating_batch(ANCHOR, [make_flat(2, 9.0, title="fresh")], [None])
            await cache.finish_heating(ANCHOR, 9.0)
        return received, mode

    started = time.monotonic()
    received, mode = await asyncio.create_task(follower())

    assert time.monotonic() - started < 3
    assert received == [[(make_flat(1, 1.0, title="stale"), None)]]
    assert mode == "load"
    assert cache.state_of(ANCHOR) == HOT
    assert [flat["title"] for flat, _ in await read_all(cache, ANCHOR)] == ["fresh"]
    # The first loader's lease is gone, so its writes are rejected.
    with pytest.raises(HeatingAborted):
        await cache.write_heating_batch(ANCHOR, [make_flat(3, 1.0)], [None])


async def test_expire_prunes_dead_loader_from_live_set(make_cache):
    cache = make_cache(heating_timeout=0.2)
    await cache.acquire(1)
    await heat(cache, 2, [make_flat(1, 1.0)])
    await asyncio.sleep(0.4)
    assert cache.live_anchor_ids() == {"1", "2"}

    cache.expire(time.time())

    assert cache.live_anchor_ids() == {"2"}


async def test_empty_batch_renews_lease(make_cache):
    cache = make_cache(heating_timeout=0.4)
    await cache.acquire(ANCHOR)

    for _ in range(4):
        await asyncio.sleep(0.2)
        await cache.write_heating_batch(ANCHOR, [], [])

    assert cache.state_of(ANCHOR) == HEATING


async def test_expired_lease_rejects_finish(make_cache):
    cache = make_cache(heating_timeout=0.2)
    await cache.acquire(ANCHOR)
    await asyncio.sleep(0.4)

    assert cache.state_of(ANCHOR) == COLD
    with pytest.raises(HeatingAborted):
        await cache.finish_heating(ANCHOR, 1.0)


async def test_heating_batch_without_acquire_raises(cache):
    with pytest.raises(HeatingAborted, match="acquire"):
        await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0)], [None])


async def test_heating_batch_length_mismatch_raises(cache):
    await cache.acquire(ANCHOR)

    with pytest.raises(ValueError, match="2 instances but 1 user ids"):
        await cache.write_heating_batch(ANCHOR, [make_flat(1, 1.0), make_flat(2, 1.0)], [None])


async def test_load_deletes_leftover_documents(cache):
    cache.write_instance(ANCHOR, make_flat(1, 1.0, title="left by a dead load"), None)

    assert await cache.acquire(ANCHOR) == "load"

    assert document_count(cache) == 0


# COOLING -> HEATING


async def test_client_during_cooling_waits_for_deletion(cache):
    await heat(cache, ANCHOR, [make_flat(1, 1.0, title="old")])
    cooling_started = time.time()
    assert cache.states.begin_cooling("7", "cooling-1", "clear") == HOT
    assert cache.state_of(ANCHOR) == COOLING
    assert cache.live_anchor_ids() == set()

    acquiring = asyncio.create_task(cache.acquire(ANCHOR))
    await asyncio.sleep(0.3)

    assert not acquiring.done()
    assert cache.state_of(ANCHOR) == HEATING
    assert cache.live_anchor_ids() == {"7"}

    cache.store.delete_anchor("7", up_to=cooling_started)
    assert cache.states.end_cooling("7", "cooling-1") == HEATING

    assert await asyncio.wait_for(acquiring, 2) == "load"
    await cache.write_heating_batch(ANCHOR, [make_flat(2, time.time(), title="new")], [None])
    await cache.finish_heating(ANCHOR, time.time())
    assert [flat["title"] for flat, _ in await read_all(cache, ANCHOR)] == ["new"]


async def test_slow_cooling_keeps_new_load(make_cache):
    cache = make_cache(cooling_timeout=0.3)
    await heat(cache, ANCHOR, [make_flat(1, 1.0, title="old")])
    cooling_started = time.time()
    cache.states.begin_cooling("7", "slow-cooling", "clear")

    # The cooling never reports its end, so the client loads once the cooling times out.
    assert await asyncio.wait_for(cache.acquire(ANCHOR), 3) == "load"
    loaded = make_flat(2, time.time(), title="new")
    await cache.write_heating_batch(ANCHOR, [loaded], [None])

    cache.store.delete_anchor("7", up_to=cooling_started)
    assert cache.states.end_cooling("7", "slow-cooling") == HEATING

    await cache.finish_heating(ANCHOR, loaded["_tstamp"])
    assert cache.state_of(ANCHOR) == HOT
    assert [flat["title"] for flat, _ in await read_all(cache, ANCHOR)] == ["new"]


async def test_cooling_expires_to_cold(make_cache):
    cache = make_cache(cooling_timeout=0.2)
    await heat(cache, ANCHOR, [make_flat(1, 1.0)])
    cache.states.begin_cooling("7", "dead-cooling", "clear")

    await asyncio.sleep(0.4)

    assert cache.state_of(ANCHOR) == COLD


# The tstamp guard: a write never replaces a newer document


async def test_write_instance_keeps_newer_document(cache):
    assert cache.write_instance(ANCHOR, make_flat(1, 20.0, title="new"), None).written is True

    result = cache.write_instance(ANCHOR, make_flat(1, 10.0, title="old"), None)

    assert result.written is False
    assert result.previous is None
    assert stored_document(cache, "7", TASK_TYPE, 1)["_tstamp"] == 20.0


async def test_write_instance_returns_previous(cache):
    first = cache.write_instance(ANCHOR, make_flat(1, 10.0, title="a"), None)
    second = cache.write_instance(ANCHOR, make_flat(1, 20.0, title="b"), None)

    assert first.written is True
    assert first.previous is None
    assert second.written is True
    assert second.previous == make_flat(1, 10.0, title="a")


async def test_write_instance_equal_tstamp_replaces(cache):
    cache.write_instance(ANCHOR, make_flat(1, 10.0, title="a"), None)

    result = cache.write_instance(ANCHOR, make_flat(1, 10.0, title="b"), None)

    assert result.written is True
    assert result.previous["title"] == "a"


async def test_heating_batch_keeps_newer_signal_write(cache):
    await cache.acquire(ANCHOR)
    cache.write_instance(ANCHOR, make_flat(1, 20.0, title="signal"), None)

    await cache.write_heating_batch(ANCHOR, [make_flat(1, 10.0, title="load"), make_flat(2, 10.0)], [None, None])
    await cache.finish_heating(ANCHOR, 10.0)

    titles = {flat["id"]: flat.get("title") for flat, _ in await read_all(cache, ANCHOR)}
    assert titles == {1: "signal", 2: None}


async def test_heating_batch_replaces_older_signal_write(cache):
    await cache.acquire(ANCHOR)
    cache.write_instance(ANCHOR, make_flat(1, 5.0, title="signal"), None)

    await cache.write_heating_batch(ANCHOR, [make_flat(1, 10.0, title="load")], [None])
    await cache.finish_heating(ANCHOR, 10.0)

    assert [flat["title"] for flat, _ in await read_all(cache, ANCHOR)] == ["load"]


async def test_signal_write_after_heating_batch(cache):
    await heat(cache, ANCHOR, [make_flat(1, 10.0, title="load")], tstamp=10.0)

    older = cache.write_instance(ANCHOR, make_flat(1, 5.0, title="late"), None)
    newer = cache.write_instance(ANCHOR, make_flat(1, 20.0, title="signal", operation="update"), None)

    assert older.written is False
    assert newer.written is True
    assert newer.previous == make_flat(1, 10.0, title="load")
    assert [flat["title"] for flat, _ in await read_all(cache, ANCHOR)] == ["signal"]


async def test_tombstone_respects_tstamp(cache):
    cache.write_instance(ANCHOR, make_flat(1, 20.0), None)

    older = cache.write_tombstone(ANCHOR, make_flat(1, 10.0, operation="delete"), None)
    newer = cache.write_tombstone(ANCHOR, make_flat(1, 30.0, operation="delete"), None)
    revived = cache.write_instance(ANCHOR, make_flat(1, 25.0, operation="update"), None)

    assert older.written is False
    assert newer.written is True
    assert newer.previous == make_flat(1, 20.0)
    assert revived.written is False
    assert stored_document(cache, "7", TASK_TYPE, 1)["_deleted"] is True


async def test_write_after_tombstone_has_no_previous(cache):
    cache.write_tombstone(ANCHOR, make_flat(1, 10.0, operation="delete"), None)

    result = cache.write_instance(ANCHOR, make_flat(1, 20.0, operation="create"), None)

    assert result.written is True
    assert result.previous is None


async def test_concurrent_first_writes_keep_newest(cache):
    writes = [make_flat(1, float(tstamp), title=f"v{tstamp}") for tstamp in range(1, 13)]

    await asyncio.gather(*(asyncio.to_thread(cache.write_instance, ANCHOR, flat, None) for flat in writes))

    assert stored_document(cache, "7", TASK_TYPE, 1)["_tstamp"] == 12.0


async def test_write_instance_rejects_incomplete_flat(cache):
    with pytest.raises(ValueError, match="_tstamp"):
        cache.write_instance(ANCHOR, {"id": 1, "_instance_type": TASK_TYPE}, None)


# Reads, tombstones and user ids


async def test_read_anchor_skips_tombstones(cache):
    await heat(cache, ANCHOR, [make_flat(1, 10.0), make_flat(2, 10.0)])
    cache.write_tombstone(ANCHOR, make_flat(2, 20.0, operation="delete"), None)

    assert [flat["id"] for flat, _ in await read_all(cache, ANCHOR)] == [1]


async def test_read_anchor_since_includes_tombstones(cache):
    await heat(cache, ANCHOR, [make_flat(1, 10.0), make_flat(2, 10.0), make_flat(3, 10.0)], tstamp=10.0)
    cache.write_instance(ANCHOR, make_flat(1, 30.0, title="changed", operation="update"), None)
    cache.write_tombstone(ANCHOR, make_flat(2, 20.0, operation="delete"), None)

    changes = await read_all(cache, ANCHOR, since=15.0)

    assert [(flat["id"], flat["_operation"]) for flat, _ in changes] == [(2, "delete"), (1, "update")]
    assert changes[1][0]["title"] == "changed"
    assert await read_all(cache, ANCHOR, since=30.0) == []
    assert len(await read_all(cache, ANCHOR, since=0.0)) == 3


async def test_read_anchor_strips_internal_fields(cache):
    flat = make_flat(1, 10.0, title="a", tags=[1, 2], meta={"a.b": {"$c": 1}})
    await heat(cache, ANCHOR, [flat], user_ids=[5])

    [(read_flat, user_id)] = await read_all(cache, ANCHOR)

    assert read_flat == flat
    assert user_id == 5


async def test_read_anchor_in_batches(cache, settings):
    settings.RX_BATCH_SIZE = 4
    await heat(cache, ANCHOR, [make_flat(i, 1.0) for i in range(10)])

    sizes = [len(batch) async for batch in cache.read_anchor(ANCHOR)]

    assert sizes == [4, 4, 2]


async def test_user_ids_kept_on_every_path(cache):
    owner = uuid.uuid4()
    assert await cache.acquire(ANCHOR) == "load"
    assert await cache.acquire(ANCHOR) == "wait"
    batch = [make_flat(1, 1.0, NOTE_TYPE), make_flat(2, 1.0, NOTE_TYPE), make_flat(3, 1.0)]
    follower = asyncio.create_task(follow_all(cache, ANCHOR))
    await asyncio.sleep(0.05)
    await cache.write_heating_batch(ANCHOR, batch, [11, owner, None])
    await cache.finish_heating(ANCHOR, 1.0)
    cache.write_instance(ANCHOR, make_flat(4, 2.0, NOTE_TYPE), "carol")

    followed = await follower
    read = {flat["id"]: user_id for flat, user_id in await read_all(cache, ANCHOR)}

    assert [user_id for _, user_id in followed[0]] == [11, str(owner), None]
    assert read == {1: 11, 2: str(owner), 3: None, 4: "carol"}


async def test_contains_live_instances_only(cache):
    await heat(cache, ANCHOR, [make_flat(1, 1.0), make_flat(2, 1.0)])
    cache.write_tombstone(ANCHOR, make_flat(2, 2.0, operation="delete"), None)

    assert cache.contains(ANCHOR, TASK_TYPE, 1) is True
    assert cache.contains(ANCHOR, TASK_TYPE, 2) is False
    assert cache.contains(ANCHOR, TASK_TYPE, 3) is False
    assert cache.contains(ANCHOR, NOTE_TYPE, 1) is False
    assert cache.contains(8, TASK_TYPE, 1) is False


async def test_collection_has_anchor_index(cache):
    cache.write_instance(ANCHOR, make_flat(1, 1.0), None)

    indexes = connections.sync_mongo_db()[cache.store.collection_name].index_information()

    keys = sorted(tuple(index["key"]) for index in indexes.values())
    assert keys == [(("_anchor", 1), ("_tstamp", 1)), (("_id", 1),)]


# GridFS for instances over the document size limit


async def test_large_instance_round_trip(cache):
    large = make_flat(1, 10.0, text="x" * (17 * 1024 * 1024))
    await heat(cache, ANCHOR, [make_flat(2, 1.0)])

    result = cache.write_instance(ANCHOR, large, 3)

    assert result.written is True
    assert "_gridfs" in stored_document(cache, "7", TASK_TYPE, 1)
    assert gridfs_file_count(cache) == 1
    pairs = {flat["id"]: (flat, user_id) for flat, user_id in await read_all(cache, ANCHOR)}
    assert pairs[1] == (large, 3)
    assert cache.contains(ANCHOR, TASK_TYPE, 1) is True


async def test_large_instance_replaced_by_small(cache):
    large = make_flat(1, 10.0, text="x" * (MAX_INLINE_BYTES + 1))
    cache.write_instance(ANCHOR, large, None)

    result = cache.write_instance(ANCHOR, make_flat(1, 20.0, text="short"), None)

    assert result.previous == large
    assert gridfs_file_count(cache) == 0
    assert "_gridfs" not in stored_document(cache, "7", TASK_TYPE, 1)


async def test_large_instance_older_write_uploads_nothing(cache):
    cache.write_instance(ANCHOR, make_flat(1, 20.0), None)

    result = cache.write_instance(ANCHOR, make_flat(1, 10.0, text="x" * (MAX_INLINE_BYTES + 1)), None)

    assert result.written is False
    assert gridfs_file_count(cache) == 0


async def test_large_instance_in_heating_batch(cache):
    large = make_flat(1, 10.0, text="y" * (MAX_INLINE_BYTES + 10))
    assert await cache.acquire(ANCHOR) == "load"
    assert await cache.acquire(ANCHOR) == "wait"
    follower = asyncio.create_task(follow_all(cache, ANCHOR))
    await asyncio.sleep(0.05)
    await cache.write_heating_batch(ANCHOR, [large, make_flat(2, 10.0)], [None, None])
    await cache.finish_heating(ANCHOR, 10.0)

    assert (await follower)[0][0] == (large, None)
    assert (await read_all(cache, ANCHOR))[0] == (large, None)

    cache.clear(ANCHOR)
    assert gridfs_file_count(cache) == 0


# Expiry


async def test_expire_cools_idle_anchors_past_ttl(make_cache):
    cache = make_cache(ttl_seconds=60)
    for anchor_id in (1, 2, 3):
        await heat(cache, anchor_id, [make_flat(1, 1.0)])
    await cache.release(1)
    await cache.release(2)
    now = time.time()

    assert sorted(cache.expired_anchor_ids(now + 61)) == ["1", "2"]
    assert cache.expired_anchor_ids(now + 30) == []
    assert sorted(cache.expire(now + 61)) == ["1", "2"]

    assert cache.state_of(1) == COLD
    assert cache.state_of(2) == COLD
    assert cache.state_of(3) == HOT
    assert document_count(cache, 1) == 0
    assert document_count(cache, 3) == 1
    assert cache.expired_anchor_ids(now + 61) == []


async def test_expire_with_ttl_override(make_cache):
    cache = make_cache(ttl_seconds=3600)
    await heat(cache, 1, [make_flat(1, 1.0)])
    await cache.release(1)
    now = time.time()

    assert cache.expired_anchor_ids(now + 61) == []
    assert cache.expired_anchor_ids(now + 61, ttl_seconds=60) == ["1"]
    assert cache.expire(now + 61, ttl_seconds=60) == ["1"]
    assert cache.state_of(1) == COLD


async def test_expire_dry_run_changes_nothing(make_cache):
    cache = make_cache(ttl_seconds=60)
    await heat(cache, 1, [make_flat(1, 1.0)])
    await cache.release(1)

    assert cache.expire(time.time() + 61, dry_run=True) == ["1"]

    assert cache.state_of(1) == HOT
    assert document_count(cache, 1) == 1
    assert cache.expired_anchor_ids(time.time() + 61) == ["1"]


async def test_expire_skips_anchor_in_use_again(make_cache):
    cache = make_cache(ttl_seconds=60)
    await heat(cache, 1, [make_flat(1, 1.0)])
    await cache.release(1)
    await cache.acquire(1)

    assert cache.expire(time.time() + 61) == []
    assert cache.state_of(1) == HOT


async def test_expire_skips_heating_anchor(make_cache):
    cache = make_cache(ttl_seconds=60)
    await cache.acquire(1)
    await cache.release(1)

    assert cache.expire(time.time() + 61) == []
    assert cache.state_of(1) == HEATING
    assert cache.expired_anchor_ids(time.time() + 61) == ["1"]


async def test_expire_sweeps_idle_cold_anchor(make_cache):
    cache = make_cache(ttl_seconds=60)
    await cache.release(1)
    cache.write_instance(1, make_flat(1, 1.0), None)

    assert cache.expire(time.time() + 61) == []

    assert document_count(cache, 1) == 0
    assert cache.expired_anchor_ids(time.time() + 61) == []
