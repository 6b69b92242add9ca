"""Process-wide Redis and MongoDB clients, created on first use and shared by every caller.

Synchronous clients (signal handlers, management commands) exist once per process. Each
asyncio client is bound to the event loop that created it, so there is one per running loop.
A forked child process creates its own clients instead of using its parent's sockets.

Redis replies are bytes: the clients use redis-py's default `decode_responses=False`.
"""

import asyncio
import logging
import os
import threading

import pymongo
import redis
import redis.asyncio

from rxdjango import conf

logger = logging.getLogger("rxdjango.connections")

_lock = threading.Lock()
_owner_pid = os.getpid()
_sync_redis = None
_sync_mongo = None
_loop_clients = {}  # event loop -> _LoopClients


class _LoopClients:
    """The asyncio clients of one event loop."""

    def __init__(self):
        self.redis = None
        self.mongo = None


def _forget_after_fork():
    """Drop the parent's clients in a forked child. The caller must hold _lock."""
    global _owner_pid, _sync_redis, _sync_mongo
    if _owner_pid == os.getpid():
        return
    # The sockets belong to the parent process, so they are dropped, not closed.
    _owner_pid = os.getpid()
    _sync_redis = None
    _sync_mongo = None
    _loop_clients.clear()


def sync_redis():
    """Return the process's redis.Redis client, backed by one connection pool."""
    global _sync_redis
    client = _sync_redis
    if client is not None and _owner_pid == os.getpid():
        return client
    with _lock:
        _forget_after_fork()
        if _sync_redis is None:
            pool = redis.ConnectionPool.from_url(conf.get("REDIS_URL"))
            _sync_redis = redis.Redis(connection_pool=pool)
            logger.debug("Created the synchronous Redis client")
        return _sync_redis


def _sync_mongo_client():
    global _sync_mongo
    client = _sync_mongo
    if client is not None and _owner_pid == os.getpid():
        return client
    with _lock:
        _forget_after_fork()
        if _sync_mongo is None:
            _sync_mongo = pymongo.MongoClient(conf.get("MONGO_URL"), appname="rxdjango")
            logger.debug("Created the synchronous MongoDB client")
        return _sync_mongo


def sync_mongo_db():
    """Return the MONGO_STATE_DB database of the process's pymongo.MongoClient."""
    return _sync_mongo_client()[conf.get("MONGO_STATE_DB")]


def _clients_of_running_loop():
    """Return the clients of the running event loop. Raises RuntimeError when no loop is running."""
    loop = asyncio.get_running_loop()
    holder = _loop_clients.get(loop)
    if holder is not None and _owner_pid == os.getpid():
        return holder
    with _lock:
        _forget_after_fork()
        # A closed loop's clients can no longer run, and the loop object is not reused.
        for closed in [known for known in _loop_clients if known.is_closed()]:
            del _loop_clients[closed]
        return _loop_clients.setdefault(loop, _LoopClients())


def async_redis():
    """Return the redis.asyncio.Redis client of the running event loop."""
    holder = _clients_of_running_loop()
    if holder.redis is None:
        # No await happens between the check and the assignment, so tasks of this loop
        # cannot create a second client.
        holder.redis = redis.asyncio.Redis.from_url(conf.get("REDIS_URL"))
        logger.debug("Created an asyncio Redis client for event loop %x", id(asyncio.get_running_loop()))
    return holder.redis


def async_mongo_db():
    """Return the MONGO_STATE_DB database of the running event loop's pymongo.AsyncMongoClient."""
    holder = _clients_of_running_loop()
    if holder.mongo is None:
        holder.mongo = pymongo.AsyncMongoClient(conf.get("MONGO_URL"), appname="rxdjango")
        logger.debug("Created an asyncio MongoDB client for event loop %x", id(asyncio.get_running_loop()))
    return holder.mongo[conf.get("MONGO_STATE_DB")]


async def aclose():
    """Close the running event loop's clients, so that the next call creates new ones."""
    loop = asyncio.get_running_loop()
    with _lock:
        holder = _loop_clients.pop(loop, None)
    if holder is None:
        return
    if holder.redis is not None:
        await holder.redis.aclose()
    if holder.mongo is not None:
        await holder.mongo.close()


def close_all():
    """Close the synchronous clients and forget every asyncio client.

    Asyncio clients can only be closed on their own loop, so run `await aclose()` there
    first. The ones left here are dropped without closing their sockets.
    """
    global _sync_redis, _sync_mongo
    with _lock:
        _forget_after_fork()
        sync_redis_client, _sync_redis = _sync_redis, None
        sync_mongo_client, _sync_mongo = _sync_mongo, None
        _loop_clients.clear()
    if sync_redis_client is not None:
        sync_redis_client.close()
        sync_redis_client.connection_pool.disconnect()
    if sync_mongo_client is not None:
        sync_mongo_client.close()
