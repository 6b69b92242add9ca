"""The live-state cache: documents in MongoDB, anchor states and heating streams in Redis."""

from rxdjango.cache.state_cache import StateCache
from rxdjango.cache.states import COLD, COOLING, HEATING, HOT, HeatingAborted
from rxdjango.cache.store import WriteResult

__all__ = ["COLD", "COOLING", "HEATING", "HOT", "HeatingAborted", "StateCache", "WriteResult"]
