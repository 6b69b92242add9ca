"""StateCache: the cached state of one channel's anchors, in MongoDB with Redis coordination.

The consumer side is asyncio and the signal side is synchronous. Both share the clients of
rxdjango.connections. Anchor ids are compared by their str() form, so 7 and "7" are the
same anchor, and the ids that this class returns are str.

Life of an anchor (see rxdjango.cache.states for the Redis keys):

- The first client to `acquire` a COLD anchor gets "load" and the anchor turns HEATING. The
  loader writes batches with `write_heating_batch` and ends with `finish_heating` (-> HOT)
  or `abort_heating` (-> COOLING -> COLD).
- Clients that acquire while HEATING get "wait" and read the loader's batches with
  `follow_heating`, from the first batch on, so they receive exactly what the loader sent.
- Clients that acquire while HOT get "hot" and read the documents with `read_anchor`.
- `clear`, `expire` and aborts move the anchor to COOLING, delete its documents and leave
  it COLD. A client that arrives while COOLING turns it HEATING and gets "load", but
  `acquire` returns only after the deletion has finished.
"""

import asyncio
import contextvars
import logging
import time
import uuid

import orjson

from rxdjango import conf
from rxdjango.cache.states import HEATING, HOT, AnchorStates, HeatingAborted, decode_reply
from rxdjango.cache.store import DocumentStore, storable_user_id

logger = logging.getLogger("rxdjango.cache")

# Seconds between checks while a new loader waits for a cooling to finish.
COOLING_POLL_SECONDS = 0.05

# Stream entries read per XREAD. Each entry is one heating batch.
STREAM_ENTRIES_PER_READ = 16

# Loader tokens of the loads started in the current asyncio context: (channel_key, anchor) -> token.
_context_loader_tokens = contextvars.ContextVar("rxdjango_loader_tokens", default=None)


def anchor_key(anchor_id):
    return str(anchor_id)


class StateCache:
    """The cache of one channel.

    Signal-side writes and heating batches take the anchor's write lock in Redis. They
    raise redis.exceptions.LockError when another writer keeps it for longer than
    rxdjango.cache.states.WRITE_LOCK_WAIT seconds.

    ttl_seconds: how long an anchor stays cached after its last session ends.
    heating_timeout: seconds without a batch after which a loader counts as dead, so that a
    waiting client can take over. A loader that needs longer between batches can renew its
    lease with an empty `write_heating_batch`.
    cooling_timeout: seconds after which an unfinished cooling counts as dead.
    finished_stream_ttl: seconds a finished heating stream is kept for clients that asked
    to wait just before it finished.
    """

    def __init__(
        self,
        channel_key,
        ttl_seconds,
        *,
        heating_timeout=30.0,
        cooling_timeout=300.0,
        finished_stream_ttl=60.0,
    ):
        self.channel_key = channel_key
        self.ttl_seconds = ttl_seconds
        self.heating_timeout = heating_timeout
        self.states = AnchorStates(channel_key, heating_timeout, cooling_timeout, finished_stream_ttl)
        self.store = DocumentStore(channel_key)
        # Loader token of the newest load started in this process, per anchor. It is used
        # when the caller's asyncio context has none.
        self._latest_tokens = {}
        # A waiting client checks on the loader at least twice per heating timeout.
        self._follow_block_ms = max(10, min(1000, int(heating_timeout * 500)))

    def __repr__(self):
        return f"StateCache({self.channel_key!r}, ttl_seconds={self.ttl_seconds})"

    # Loader tokens

    def _remember_loader_token(self, anchor, token):
        tokens = dict(_context_loader_tokens.get() or {})
        tokens[(self.channel_key, anchor)] = token
        _context_loader_tokens.set(tokens)
        self._latest_tokens[anchor] = token

    def _loader_token(self, anchor):
        tokens = _context_loader_tokens.get() or {}
        token = tokens.get((self.channel_key, anchor)) or self._latest_tokens.get(anchor)
        if token is None:
            raise HeatingAborted(
                f"anchor {anchor} of {self.channel_key} has no load started in this process. "
                "Call acquire() and load only when it returns 'load'."
            )
        return token

    def _forget_loader_token(self, anchor, token):
        tokens = _context_loader_tokens.get() or {}
        if tokens.get((self.channel_key, anchor)) == token:
            tokens = dict(tokens)
            del tokens[(self.channel_key, anchor)]
            _context_loader_tokens.set(tokens)
        if self._latest_tokens.get(anchor) == token:
            del self._latest_tokens[anchor]

    # Consumer side (asyncio)

    async def acquire(self, anchor_id):
        """Count a session on the anchor and return how the caller gets its state.

        "load": the caller reads the database and calls write_heating_batch, then
        finish_heating or abort_heating. The anchor's documents have been deleted.
        "wait": another client is loading, so read its batches with follow_heating.
        "hot": read the cached documents with read_anchor.
        """
        anchor = anchor_key(anchor_id)
        count_session = True
        while True:
            token = uuid.uuid4().hex
            mode, detail = await self.states.acquire(anchor, token, count_session)
            count_session = False
            if mode != "load":
                logger.debug("Anchor %s of %s: acquire returned %r", anchor, self.channel_key, mode)
                return mode

            self._remember_loader_token(anchor, token)
            logger.info("Anchor %s of %s: %s -> HEATING", anchor, self.channel_key, detail)
            if await self._prepare_load(anchor, token):
                return "load"
            self._forget_loader_token(anchor, token)
            logger.warning(
                "Anchor %s of %s: the load lease expired before loading began, so the client acquires again",
                anchor,
                self.channel_key,
            )

    async def _prepare_load(self, anchor, token):
        """Wait for a running cooling, then delete what earlier loads left. Returns False if the lease expired."""
        waited = False
        while await self.states.cooling_in_progress(anchor):
            if not waited:
                logger.info("Anchor %s of %s: waiting for the cooling to end before loading", anchor, self.channel_key)
                waited = True
            if not await self.states.renew(anchor, token):
                return False
            await asyncio.sleep(COOLING_POLL_SECONDS)

        # Documents can remain from an aborted or expired load, or from signal-side writes
        # after a cooling began. The load would otherwise serve them as current.
        deleted = await self.store.async_delete_anchor(anchor)
        if deleted:
            logger.info("Anchor %s of %s: deleted %d documents left from before", anchor, self.channel_key, deleted)
        return await self.states.renew(anchor, token)

    async def release(self, anchor_id):
        """End a session counted by acquire. The last one to end starts the anchor's TTL."""
        # NOTE: a process that dies without releasing leaves its sessions counted, and the
        # anchor never expires until clear() or clear_all() runs.
        anchor = anchor_key(anchor_id)
        count = await self.states.release(anchor, time.time())
        if count < 0:
            logger.warning("Anchor %s of %s: released a session that was never acquired", anchor, self.channel_key)
        elif count == 0:
            logger.debug("Anchor %s of %s: no sessions left, idle from now", anchor, self.channel_key)

    async def write_heating_batch(self, anchor_id, instances, user_ids):
        """Store a batch of the loader's flat instances and pass it to the waiting clients.

        user_ids contains the owner's user id of each instance, or None. An empty batch only
        renews the loader's lease. Raises HeatingAborted when the lease has expired.
        """
        anchor = anchor_key(anchor_id)
        if len(instances) != len(user_ids):
            raise ValueError(f"a heating batch has {len(instances)} instances but {len(user_ids)} user ids")
        token = self._loader_token(anchor)
        if not await self.states.renew(anchor, token):
            raise self._lost_lease(anchor)
        if not instances:
            return

        await self.store.write_batch(anchor, instances, user_ids, self.states.async_write_lock(anchor))
        # NOTE: if the lease expires between the renewal above and this append, the
        # documents stay without being streamed. The next load deletes them.
        pairs = zip(instances, user_ids, strict=True)
        payload = orjson.dumps([[flat, storable_user_id(user_id)] for flat, user_id in pairs])
        if not await self.states.append_batch(anchor, token, payload):
            raise self._lost_lease(anchor)
        logger.debug("Anchor %s of %s: heating batch of %d instances", anchor, self.channel_key, len(instances))

    def _lost_lease(self, anchor):
        logger.warning(
            "Anchor %s of %s: the loader's lease expired or the cache was cleared, so the load is void",
            anchor,
            self.channel_key,
        )
        return HeatingAborted(f"anchor {anchor} of {self.channel_key}: this process lost its lease on the load")

    async def finish_heating(self, anchor_id, tstamp):
        """Mark the anchor HOT as of tstamp, the time taken before the load read the database."""
        anchor = anchor_key(anchor_id)
        token = self._loader_token(anchor)
        finished = await self.states.finish(anchor, token, tstamp)
        self._forget_loader_token(anchor, token)
        if not finished:
            raise self._lost_lease(anchor)
        logger.info("Anchor %s of %s: HEATING -> HOT (heated at %.3f)", anchor, self.channel_key, tstamp)

    async def abort_heating(self, anchor_id):
        """Stop the load: waiting clients get HeatingAborted and the partial documents are deleted.

        Does nothing when this process no longer owns the load, so it is safe in error handlers.
        """
        anchor = anchor_key(anchor_id)
        try:
            token = self._loader_token(anchor)
        except HeatingAborted:
            logger.debug("Anchor %s of %s: no load to abort in this process", anchor, self.channel_key)
            return
        self._forget_loader_token(anchor, token)

        cooling_token = uuid.uuid4().hex
        started = time.time()
        if not await self.states.abort(anchor, token, cooling_token):
            logger.info("Anchor %s of %s: the load to abort had already lost its lease", anchor, self.channel_key)
            return
        logger.info("Anchor %s of %s: HEATING -> COOLING (load aborted)", anchor, self.channel_key)
        deleted = 0
        try:
            deleted = await self.store.async_delete_anchor(anchor, up_to=started)
        except Exception:
            # The next load deletes what is left, so the caller's own error stays the one raised.
            logger.exception("Anchor %s of %s: deleting the aborted load's documents failed", anchor, self.channel_key)
        left = await self.states.async_end_cooling(anchor, cooling_token)
        logger.info("Anchor %s of %s: COOLING -> %s, %d documents deleted", anchor, self.channel_key, left, deleted)

    async def follow_heating(self, anchor_id):
        """Yield the loader's batches as lists of (flat, user_id), from the first one on.

        Returns after the last batch. Raises HeatingAborted when the load is aborted, its
        loader stops renewing its lease, or the stream of a finished load has expired.
        """
        anchor = anchor_key(anchor_id)
        state, token = await self.states.state_and_token(anchor)
        if state not in (HEATING, HOT) or token is None:
            raise HeatingAborted(f"anchor {anchor} of {self.channel_key} is {state}, so there is no load to follow")

        last_id = "0-0"
        while True:
            entries = await self.states.read_stream(anchor, last_id, self._follow_block_ms, STREAM_ENTRIES_PER_READ)
            if not entries:
                await self._check_loader(anchor, token)
                continue
            for entry_id, fields in entries:
                last_id = entry_id
                if decode_reply(fields[b"token"]) != token:
                    raise HeatingAborted(f"anchor {anchor} of {self.channel_key} was reloaded by another client")
                kind = fields[b"kind"]
                if kind == b"batch":
                    yield [(flat, user_id) for flat, user_id in orjson.loads(fields[b"data"])]
                elif kind == b"end":
                    return
                else:
                    raise HeatingAborted(f"loading anchor {anchor} of {self.channel_key} was aborted")

    async def _check_loader(self, anchor, token):
        state, current_token = await self.states.state_and_token(anchor)
        if current_token != token or state not in (HEATING, HOT):
            logger.info(
                "Anchor %s of %s: the loader stopped without finishing (state %s)", anchor, self.channel_key, state
            )
            raise HeatingAborted(f"the loader of anchor {anchor} of {self.channel_key} stopped without finishing")
        if state == HOT and not await self.states.stream_exists(anchor):
            raise HeatingAborted(
                f"the heating stream of anchor {anchor} of {self.channel_key} has expired. Read the HOT cache instead."
            )

    async def read_anchor(self, anchor_id, since=None):
        """Yield the cached documents of a HOT anchor as lists of (flat, user_id).

        Without since, the live instances. With since, every instance changed after it,
        tombstones of deletions included. Deletions before heated_at() are not cached, so
        with an older since the caller must send the full state instead.
        """
        anchor = anchor_key(anchor_id)
        async for batch in self.store.read(anchor, since, conf.get("RX_BATCH_SIZE")):
            yield batch

    async def live_owners(self, anchor_ids, instance_type, instance_id):
        """Return {anchor id (str): owner's user id or None} for the anchors whose cache has the live instance.

        Anchors whose cache lacks the instance, or has only its tombstone, are left out.
        """
        anchors = [anchor_key(anchor_id) for anchor_id in anchor_ids]
        return await self.store.live_owners(anchors, instance_type, instance_id)

    async def heated_at(self, anchor_id):
        """Return the tstamp of the load behind the HOT cache, or None when the anchor is not HOT."""
        return await self.states.async_heated_at(anchor_key(anchor_id))

    # Signal side and management commands (synchronous)

    def live_anchor_ids(self):
        """Return the ids (str) of the anchors that are HEATING or HOT."""
        return self.states.live_anchors()

    def state_of(self, anchor_id):
        """Return "COLD", "HEATING", "HOT" or "COOLING"."""
        return self.states.state_of(anchor_key(anchor_id))

    def session_count(self, anchor_id):
        return self.states.session_count(anchor_key(anchor_id))

    def idle_since(self, anchor_id):
        """Return when the anchor's last session ended (time.time() seconds), or None while it has sessions."""
        return self.states.idle_since(anchor_key(anchor_id))

    def write_instance(self, anchor_id, flat, user_id):
        """Store a changed flat instance. The result's `written` is False when the cached document is newer."""
        anchor = anchor_key(anchor_id)
        return self.store.write(anchor, flat, user_id, False, self.states.write_lock(anchor))

    def write_tombstone(self, anchor_id, flat, user_id):
        """Mark an instance deleted, keeping its flat instance for reconnecting clients."""
        anchor = anchor_key(anchor_id)
        return self.store.write(anchor, flat, user_id, True, self.states.write_lock(anchor))

    def contains(self, anchor_id, instance_type, instance_id):
        """Return whether the anchor's cache contains the instance and it is not deleted."""
        return self.store.contains(anchor_key(anchor_id), instance_type, instance_id)

    def clear(self, anchor_id):
        """Cool a HOT anchor now: HOT -> COOLING -> delete -> COLD. Returns False when it was not HOT."""
        return self._cool(anchor_key(anchor_id), "clear") is not None

    def _cool(self, anchor, mode, cutoff=0.0):
        """Run one cooling and return the state it started from, or None when none started."""
        cooling_token = uuid.uuid4().hex
        started = time.time()
        previous = self.states.begin_cooling(anchor, cooling_token, mode, cutoff)
        if previous is None:
            return None
        logger.info("Anchor %s of %s: %s -> COOLING (%s)", anchor, self.channel_key, previous, mode)
        deleted = 0
        try:
            # Documents written after the cooling began belong to a newer load and stay.
            deleted = self.store.delete_anchor(anchor, up_to=started)
        finally:
            left = self.states.end_cooling(anchor, cooling_token)
            logger.info("Anchor %s of %s: COOLING -> %s, %d documents deleted", anchor, self.channel_key, left, deleted)
        return previous

    def clear_all(self):
        """Drop every cached document and Redis key of this channel, which leaves every anchor COLD."""
        keys = self.states.delete_all()
        self.store.drop()
        self._latest_tokens.clear()
        logger.info("Cleared the whole cache of %s (%d Redis keys)", self.channel_key, keys)

    def expired_anchor_ids(self, now, ttl_seconds=None):
        """Return the ids (str) of anchors without sessions for longer than the TTL at now.

        ttl_seconds overrides the TTL given to the constructor.
        """
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        return self.states.idle_anchors(now - ttl)

    def expire(self, now, dry_run=False, ttl_seconds=None):
        """Cool the HOT anchors idle for longer than the TTL at now, and return their ids (str).

        With dry_run, returns the anchors that would be cooled and changes nothing. Idle
        COLD anchors lose their idle record and any documents left behind, and are not
        listed. Anchors left in the live set by a loader that died are removed from it.
        ttl_seconds overrides the TTL given to the constructor.
        """
        cutoff = now - (self.ttl_seconds if ttl_seconds is None else ttl_seconds)
        expired = self.states.idle_anchors(cutoff)
        if dry_run:
            return [anchor for anchor in expired if self.states.state_of(anchor) == HOT]

        pruned = self.states.prune_live_anchors()
        if pruned:
            logger.info("Removed %d anchors of %s whose loader died from the live set", pruned, self.channel_key)

        cooled = []
        for anchor in expired:
            previous = self._cool(anchor, "expire", cutoff)
            if previous == HOT:
                cooled.append(anchor)
            elif previous is None:
                logger.debug(
                    "Anchor %s of %s: not expired, it is %s or has sessions again",
                    anchor,
                    self.channel_key,
                    self.states.state_of(anchor),
                )
        return cooled
