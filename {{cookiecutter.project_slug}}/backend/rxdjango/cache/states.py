"""The Redis side of the cache: per-anchor states, sessions and heating streams.

Per channel, with `base` = f"{RX_REDIS_PREFIX}:cache:{channel_key}":

    {base}:state:{anchor}    hash of state (HEATING, HOT or COOLING), token and heated_at; COLD has no key
    {base}:stream:{anchor}   stream of the heating batches, ended by an "end" or "abort" entry
    {base}:cooling:{anchor}  string: the token of the cooling that is deleting the anchor's documents
    {base}:lock:{anchor}     redis-py lock held while an anchor's MongoDB documents are compared and replaced
    {base}:live              set of anchors that are HEATING or HOT
    {base}:sessions          hash: anchor -> open sessions
    {base}:idle              sorted set: anchor -> time its session count last dropped to 0

Each state transition is one Lua script, so it is atomic. The token identifies one loader
(HEATING) or one cooling (COOLING). A transition requested with another token does nothing,
so a loader that lost its lease or an old cooling cannot change a newer state.

The HEATING key and its stream expire after the heating timeout unless the loader renews
them. Waiting clients treat that expiry as a dead loader. COOLING expires after the cooling
timeout, so a process that dies while cooling leaves the anchor COLD.
"""

import hashlib

from redis.exceptions import NoScriptError

from rxdjango import conf
from rxdjango.connections import async_redis, sync_redis

# Seconds a write lock lives when its holder dies. A holder keeps it for one MongoDB
# command, or a heating batch's insert plus its rare replacements.
WRITE_LOCK_TIMEOUT = 10.0
# Seconds a writer waits for the lock before raising redis.exceptions.LockError.
WRITE_LOCK_WAIT = 15.0
# Seconds between attempts to take a held lock.
WRITE_LOCK_RETRY = 0.005

COLD = "COLD"
HEATING = "HEATING"
HOT = "HOT"
COOLING = "COOLING"


class HeatingAborted(Exception):
    """The anchor's heating stopped before it finished.

    Raised to waiting clients when the loader aborts or its lease expires, and to a loader
    that lost its lease. A waiting client should release its session and acquire again.
    """


class LuaScript:
    """A Lua script run with EVALSHA, loaded with EVAL when the server lacks it."""

    def __init__(self, source):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def run(self, client, keys, args):
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.source, len(keys), *keys, *args)

    async def arun(self, client, keys, args):
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)


# KEYS: state, sessions, idle, live, stream
# ARGV: anchor, new loader token, heating ttl (ms), count a session (1 or 0)
# Returns {mode, detail}: {"hot", ""}, {"wait", loader token}, or {"load", previous state}.
ACQUIRE = LuaScript("""
if ARGV[4] == '1' then
    redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
    redis.call('ZREM', KEYS[3], ARGV[1])
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'HOT' then
    return {'hot', ''}
end
if state == 'HEATING' then
    return {'wait', redis.call('HGET', KEYS[1], 'token')}
end
local previous = state or 'COLD'
redis.call('DEL', KEYS[1], KEYS[5])
redis.call('HSET', KEYS[1], 'state', 'HEATING', 'token', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[1])
return {'load', previous}
""")

# KEYS: sessions, idle
# ARGV: anchor, now (seconds)
# Returns the session count left.
RELEASE = LuaScript("""
local count = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if count <= 0 then
    redis.call('HDEL', KEYS[1], ARGV[1])
    redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
return count
""")

# The loader-lease check shared by the heating scripts: KEYS[1] is the state, ARGV[1] the token.
HOLDS_LEASE = """
local function holds_lease()
    return redis.call('HGET', KEYS[1], 'state') == 'HEATING' and redis.call('HGET', KEYS[1], 'token') == ARGV[1]
end
"""

# KEYS: state, stream
# ARGV: loader token, heating ttl (ms)
# Renews the loader's lease. Returns 0 when the caller no longer holds the lease.
RENEW = LuaScript(
    HOLDS_LEASE
    + """
if not holds_lease() then
    return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""
)

# KEYS: state, stream
# ARGV: loader token, heating ttl (ms), batch payload
APPEND_BATCH = LuaScript(
    HOLDS_LEASE
    + """
if not holds_lease() then
    return 0
end
redis.call('XADD', KEYS[2], '*', 'token', ARGV[1], 'kind', 'batch', 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""
)

# KEYS: state, stream
# ARGV: loader token, heated_at tstamp, finished stream ttl (ms)
FINISH = LuaScript(
    HOLDS_LEASE
    + """
if not holds_lease() then
    return 0
end
redis.call('HSET', KEYS[1], 'state', 'HOT', 'heated_at', ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('XADD', KEYS[2], '*', 'token', ARGV[1], 'kind', 'end', 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""
)

# KEYS: state, stream, live, cooling
# ARGV: loader token, cooling token, cooling ttl (ms), finished stream ttl (ms), anchor
# HEATING -> COOLING, so that the partial documents are deleted before anyone loads again.
ABORT = LuaScript(
    HOLDS_LEASE
    + """
if not holds_lease() then
    return 0
end
redis.call('XADD', KEYS[2], '*', 'token', ARGV[1], 'kind', 'abort', 'data', '')
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'COOLING', 'token', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
redis.call('SREM', KEYS[3], ARGV[5])
return 1
"""
)

# KEYS: state, stream, live, cooling, sessions, idle
# ARGV: anchor, cooling token, cooling ttl (ms), mode ("clear" or "expire"), idle cutoff (seconds)
# "clear" cools a HOT anchor. "expire" cools an anchor without sessions that has been idle
# since the cutoff or earlier and is HOT, or COLD with documents possibly left behind.
# Returns the state left (HOT or COLD), or false when nothing changed.
BEGIN_COOLING = LuaScript("""
local state = redis.call('HGET', KEYS[1], 'state')
if ARGV[4] == 'expire' then
    if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 1 then
        return false
    end
    local idle_since = redis.call('ZSCORE', KEYS[6], ARGV[1])
    if not idle_since or tonumber(idle_since) > tonumber(ARGV[5]) then
        return false
    end
    if state and state ~= 'HOT' then
        return false
    end
elseif state ~= 'HOT' then
    return false
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'COOLING', 'token', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
return state or 'COLD'
""")

# KEYS: state, cooling
# ARGV: cooling token
# COOLING -> COLD. When a client arrived meanwhile (COOLING -> HEATING), only the cooling
# marker goes, which lets the new loader start. Returns the state left.
END_COOLING = LuaScript("""
if redis.call('GET', KEYS[2]) == ARGV[1] then
    redis.call('DEL', KEYS[2])
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'COOLING' and redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 'COLD'
end
return state or 'COLD'
""")

# KEYS: live
# ARGV: state key prefix (the state key without the anchor)
# Removes the anchors whose state key has expired, which a loader that died leaves behind.
# Returns how many were removed.
# NOTE: the state keys are built in the script instead of passed in KEYS, which a
# standalone Redis allows but Redis Cluster does not.
PRUNE_LIVE = LuaScript("""
local removed = 0
for _, anchor in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if redis.call('EXISTS', ARGV[1] .. anchor) == 0 then
        redis.call('SREM', KEYS[1], anchor)
        removed = removed + 1
    end
end
return removed
""")


def milliseconds(seconds):
    return max(1, int(seconds * 1000))


def escape_glob(text):
    """Escape the characters that Redis SCAN MATCH patterns treat as wildcards."""
    for special in "\\*?[]":
        text = text.replace(special, "\\" + special)
    return text


def decode_reply(value):
    """Decode a Redis reply (bytes, or None for a missing value)."""
    return value.decode() if isinstance(value, bytes) else value


class AnchorStates:
    """The Redis keys and transitions of one channel's anchors, whose ids are str."""

    def __init__(self, channel_key, heating_timeout, cooling_timeout, finished_stream_ttl):
        self.channel_key = channel_key
        self.heating_ttl_ms = milliseconds(heating_timeout)
        self.cooling_ttl_ms = milliseconds(cooling_timeout)
        self.finished_stream_ttl_ms = milliseconds(finished_stream_ttl)

    # Key names read RX_REDIS_PREFIX on each call, so a settings override applies at once.

    def base(self):
        return f"{conf.get('RX_REDIS_PREFIX')}:cache:{self.channel_key}"

    def state_key(self, anchor):
        return f"{self.base()}:state:{anchor}"

    def stream_key(self, anchor):
        return f"{self.base()}:stream:{anchor}"

    def cooling_key(self, anchor):
        return f"{self.base()}:cooling:{anchor}"

    def lock_key(self, anchor):
        return f"{self.base()}:lock:{anchor}"

    def live_key(self):
        return f"{self.base()}:live"

    def sessions_key(self):
        return f"{self.base()}:sessions"

    def idle_key(self):
        return f"{self.base()}:idle"

    def write_lock(self, anchor):
        """Return the anchor's write lock for synchronous code (a context manager)."""
        return sync_redis().lock(
            self.lock_key(anchor),
            timeout=WRITE_LOCK_TIMEOUT,
            sleep=WRITE_LOCK_RETRY,
            blocking_timeout=WRITE_LOCK_WAIT,
            raise_on_release_error=False,
        )

    def async_write_lock(self, anchor):
        """Return the anchor's write lock for asyncio code (an async context manager)."""
        return async_redis().lock(
            self.lock_key(anchor),
            timeout=WRITE_LOCK_TIMEOUT,
            sleep=WRITE_LOCK_RETRY,
            blocking_timeout=WRITE_LOCK_WAIT,
            raise_on_release_error=False,
        )

    # Consumer side (asyncio).

    async def acquire(self, anchor, token, count_session):
        keys = [
            self.state_key(anchor),
            self.sessions_key(),
            self.idle_key(),
            self.live_key(),
            self.stream_key(anchor),
        ]
        args = [anchor, token, self.heating_ttl_ms, "1" if count_session else "0"]
        mode, detail = await ACQUIRE.arun(async_redis(), keys, args)
        return decode_reply(mode), decode_reply(detail)

    async def release(self, anchor, now):
        return await RELEASE.arun(async_redis(), [self.sessions_key(), self.idle_key()], [anchor, now])

    async def renew(self, anchor, token):
        keys = [self.state_key(anchor), self.stream_key(anchor)]
        return bool(await RENEW.arun(async_redis(), keys, [token, self.heating_ttl_ms]))

    async def append_batch(self, anchor, token, payload):
        keys = [self.state_key(anchor), self.stream_key(anchor)]
        return bool(await APPEND_BATCH.arun(async_redis(), keys, [token, self.heating_ttl_ms, payload]))

    async def finish(self, anchor, token, tstamp):
        keys = [self.state_key(anchor), self.stream_key(anchor)]
        args = [token, repr(float(tstamp)), self.finished_stream_ttl_ms]
        return bool(await FINISH.arun(async_redis(), keys, args))

    async def abort(self, anchor, token, cooling_token):
        keys = [self.state_key(anchor), self.stream_key(anchor), self.live_key(), self.cooling_key(anchor)]
        args = [token, cooling_token, self.cooling_ttl_ms, self.finished_stream_ttl_ms, anchor]
        return bool(await ABORT.arun(async_redis(), keys, args))

    async def async_end_cooling(self, anchor, cooling_token):
        keys = [self.state_key(anchor), self.cooling_key(anchor)]
        return decode_reply(await END_COOLING.arun(async_redis(), keys, [cooling_token]))

    async def cooling_in_progress(self, anchor):
        return bool(await async_redis().exists(self.cooling_key(anchor)))

    async def state_and_token(self, anchor):
        state, token = await async_redis().hmget(self.state_key(anchor), ["state", "token"])
        return decode_reply(state) or COLD, decode_reply(token)

    async def async_heated_at(self, anchor):
        state, heated_at = await async_redis().hmget(self.state_key(anchor), ["state", "heated_at"])
        if decode_reply(state) != HOT or heated_at is None:
            return None
        return float(heated_at)

    async def stream_exists(self, anchor):
        return bool(await async_redis().exists(self.stream_key(anchor)))

    async def read_stream(self, anchor, last_id, block_ms, count):
        """Return the stream entries after last_id as (id, fields), waiting up to block_ms for one."""
        reply = await async_redis().xread({self.stream_key(anchor): last_id}, count=count, block=block_ms)
        if not reply:
            return []
        return reply[0][1]

    # Signal side and management commands (synchronous).

    def begin_cooling(self, anchor, cooling_token, mode, cutoff=0.0):
        keys = [
            self.state_key(anchor),
            self.stream_key(anchor),
            self.live_key(),
            self.cooling_key(anchor),
            self.sessions_key(),
            self.idle_key(),
        ]
        args = [anchor, cooling_token, self.cooling_ttl_ms, mode, repr(float(cutoff))]
        return decode_reply(BEGIN_COOLING.run(sync_redis(), keys, args))

    def end_cooling(self, anchor, cooling_token):
        keys = [self.state_key(anchor), self.cooling_key(anchor)]
        return decode_reply(END_COOLING.run(sync_redis(), keys, [cooling_token]))

    def state_of(self, anchor):
        return decode_reply(sync_redis().hget(self.state_key(anchor), "state")) or COLD

    def live_anchors(self):
        return {decode_reply(member) for member in sync_redis().smembers(self.live_key())}

    def prune_live_anchors(self):
        return PRUNE_LIVE.run(sync_redis(), [self.live_key()], [self.state_key("")])

    def session_count(self, anchor):
        return int(sync_redis().hget(self.sessions_key(), anchor) or 0)

    def idle_since(self, anchor):
        return sync_redis().zscore(self.idle_key(), anchor)

    def idle_anchors(self, cutoff):
        """Return the anchors without sessions whose count dropped to 0 at or before cutoff."""
        return [decode_reply(member) for member in sync_redis().zrangebyscore(self.idle_key(), "-inf", cutoff)]

    def delete_all(self):
        """Delete every Redis key of this channel's cache; returns how many were deleted."""
        client = sync_redis()
        deleted = 0
        batch = []
        for key in client.scan_iter(match=f"{escape_glob(self.base())}:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += client.unlink(*batch)
                batch = []
        if batch:
            deleted += client.unlink(*batch)
        return deleted
