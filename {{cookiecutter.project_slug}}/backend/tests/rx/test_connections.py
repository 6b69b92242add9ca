"""rxdjango.connections: one client per process (sync) or per event loop (asyncio), never per call."""

import asyncio
import threading

import pymongo
import pytest
import redis
import redis.asyncio

from rxdjango import connections


@pytest.fixture
def fresh_clients():
    """Start and end the test without cached clients."""
    connections.close_all()
    yield
    connections.close_all()


def test_sync_redis_reused(fresh_clients):
    first = connections.sync_redis()

    assert isinstance(first, redis.Redis)
    assert connections.sync_redis() is first
    assert {connections.sync_redis().client_id() for _ in range(20)} == {first.client_id()}


def test_sync_mongo_reused(fresh_clients):
    first = connections.sync_mongo_db()

    assert isinstance(first.client, pymongo.MongoClient)
    assert connections.sync_mongo_db().client is first.client
    assert first.command("ping")["ok"] == 1.0


def test_sync_mongo_db_name_from_settings(fresh_clients, settings):
    assert connections.sync_mongo_db().name == settings.MONGO_STATE_DB


def test_sync_clients_shared_across_threads(fresh_clients):
    redis_clients = []
    mongo_clients = []
    barrier = threading.Barrier(8)

    def grab():
        barrier.wait()
        redis_clients.append(connections.sync_redis())
        mongo_clients.append(connections.sync_mongo_db().client)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(client) for client in redis_clients}) == 1
    assert len({id(client) for client in mongo_clients}) == 1


def test_close_all_replaces_sync_clients(fresh_clients):
    first_redis = connections.sync_redis()
    first_mongo = connections.sync_mongo_db().client

    connections.close_all()

    assert connections.sync_redis() is not first_redis
    assert connections.sync_mongo_db().client is not first_mongo
    assert connections.sync_redis().ping() is True


async def test_async_clients_reused_on_one_loop(fresh_clients):
    first_redis = connections.async_redis()
    first_mongo = connections.async_mongo_db()

    try:
        assert isinstance(first_redis, redis.asyncio.Redis)
        assert isinstance(first_mongo.client, pymongo.AsyncMongoClient)
        assert connections.async_redis() is first_redis
        assert connections.async_mongo_db().client is first_mongo.client
        assert len({await connections.async_redis().client_id() for _ in range(20)}) == 1
        assert (await first_mongo.command("ping"))["ok"] == 1.0
    finally:
        await connections.aclose()


async def test_aclose_replaces_async_clients(fresh_clients):
    first_redis = connections.async_redis()
    first_mongo = connections.async_mongo_db().client

    await connections.aclose()

    try:
        assert connections.async_redis() is not first_redis
        assert connections.async_mongo_db().client is not first_mongo
        assert await connections.async_redis().ping() is True
    finally:
        await connections.aclose()


def test_new_loop_gets_new_async_clients(fresh_clients):
    async def grab():
        return connections.async_redis(), connections.async_mongo_db().client

    first_redis, first_mongo = asyncio.run(grab())

    async def grab_and_use():
        try:
            clients = await grab()
            assert await clients[0].ping() is True
            assert (await clients[1].admin.command("ping"))["ok"] == 1.0
            return clients
        finally:
            await connections.aclose()

    second_redis, second_mongo = asyncio.run(grab_and_use())

    assert second_redis is not first_redis
    assert second_mongo is not first_mongo


def test_async_clients_need_running_loop(fresh_clients):
    with pytest.raises(RuntimeError):
        connections.async_redis()
