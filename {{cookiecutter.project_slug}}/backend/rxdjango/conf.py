"""rxdjango settings with their defaults, read from django.conf.settings on each access."""

from django.conf import settings

ONE_WEEK = 7 * 24 * 60 * 60

DEFAULTS = {
    # Seconds an anchor's cache lives after its last client disconnects.
    "RX_CACHE_TTL": ONE_WEEK,
    # Prefix of every Redis key and pub/sub channel that rxdjango uses.
    "RX_REDIS_PREFIX": "rx",
    # Largest text frame accepted from a client, in bytes.
    "RX_MAX_FRAME_BYTES": 256 * 1024,
    # Seconds a new connection has to send its auth frame.
    "RX_AUTH_TIMEOUT": 10,
    # Bytes that may wait in one socket's outgoing buffer before the socket is closed.
    "RX_MAX_BUFFERED_BYTES": 8 * 1024 * 1024,
    # Malformed frames tolerated per connection within RX_FRAME_ERROR_WINDOW seconds.
    "RX_MAX_FRAME_ERRORS": 100,
    "RX_FRAME_ERROR_WINDOW": 60,
    # Flat instances per "instances" frame of an initial load.
    "RX_BATCH_SIZE": 1000,
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "MONGO_URL": "mongodb://127.0.0.1:27017",
    "MONGO_STATE_DB": "rxdjango_state",
}


def get(name):
    return getattr(settings, name, DEFAULTS[name])
