"""ContextChannel: the server side of one live page.

A subclass declares, in its Meta, the nested serializer that defines the page's state. The
class is checked when it is defined, registered, and served with `as_asgi()`.
"""

import inspect
import logging
from typing import is_typeddict

from channels.db import database_sync_to_async
from django.conf import settings
from rest_framework import serializers

from rxdjango import broadcast, conf, fanout, protocol
from rxdjango.actions import is_action
from rxdjango.cache import StateCache
from rxdjango.consumers import consumed_event
from rxdjango.exceptions import ChannelConfigError
from rxdjango.operations import ALL_OPERATIONS
from rxdjango.state_model import StateModel

logger = logging.getLogger("rxdjango.channels")

_registry = set()

META_OPTIONS = {"state", "auto_update", "optimize_anchors", "cache_ttl", "writable"}


async def call_hook(function, *args, **kwargs):
    """Call a user hook that may be sync (run in a thread, so it may query) or async."""
    if inspect.iscoroutinefunction(function):
        return await function(*args, **kwargs)
    return await database_sync_to_async(function)(*args, **kwargs)


def get_registered_channels():
    """Return the set of every ContextChannel subclass defined so far."""
    return set(_registry)


class ChannelOptions:
    """The validated Meta of one ContextChannel subclass."""

    def __init__(self, channel_name, meta):
        unknown = sorted(name for name in vars(meta) if not name.startswith("_") and name not in META_OPTIONS)
        if unknown:
            raise ChannelConfigError(
                f"{channel_name}.Meta has unknown option(s) {', '.join(unknown)}: "
                f"the options are {', '.join(sorted(META_OPTIONS))}."
            )

        state = getattr(meta, "state", None)
        many = isinstance(state, serializers.ListSerializer)
        child = state.child if many else state
        if not isinstance(child, serializers.ModelSerializer):
            raise ChannelConfigError(
                f"{channel_name}.Meta.state must be a ModelSerializer instance, got {state!r}: "
                "write `state = MySerializer()`, or `MySerializer(many=True)` for a list channel."
            )
        self.state = state
        self.many = many

        self.auto_update = getattr(meta, "auto_update", False)
        if not isinstance(self.auto_update, bool):
            raise ChannelConfigError(f"{channel_name}.Meta.auto_update must be True or False.")
        if self.auto_update and not many:
            raise ChannelConfigError(
                f"{channel_name}.Meta.auto_update is only for list channels: "
                "declare the state with many=True, or remove auto_update."
            )

        self.optimize_anchors = getattr(meta, "optimize_anchors", False)
        if not isinstance(self.optimize_anchors, bool):
            raise ChannelConfigError(f"{channel_name}.Meta.optimize_anchors must be True or False.")

        self.cache_ttl = getattr(meta, "cache_ttl", None)
        if self.cache_ttl is not None and (
            isinstance(self.cache_ttl, bool) or not isinstance(self.cache_ttl, int) or self.cache_ttl <= 0
        ):
            raise ChannelConfigError(
                f"{channel_name}.Meta.cache_ttl must be a positive number of seconds or None, got {self.cache_ttl!r}."
            )

        self.writable_serializers = getattr(meta, "writable", None) or {}
        if not isinstance(self.writable_serializers, dict):
            raise ChannelConfigError(
                f"{channel_name}.Meta.writable must be a dict of serializer class to operations, "
                "e.g. {TaskSerializer: [SAVE, CREATE]}."
            )


def validate_writable(channel_name, options, state_model):
    """Map each writable instance type to its allowed operations."""
    writable = {}
    for serializer_class, operations in options.writable_serializers.items():
        layers = state_model.layers_for_serializer(serializer_class) if isinstance(serializer_class, type) else []
        if not layers:
            raise ChannelConfigError(
                f"{channel_name}.Meta.writable names {serializer_class!r}, which is not a serializer in this "
                "channel's state: use serializer classes nested in Meta.state."
            )
        if isinstance(operations, str) or not set(operations) <= ALL_OPERATIONS or not operations:
            raise ChannelConfigError(
                f"{channel_name}.Meta.writable[{serializer_class.__name__}] must be a non-empty list of "
                "SAVE, CREATE and DELETE from rxdjango.operations."
            )
        writable[layers[0].instance_type] = frozenset(operations)
    return writable


def collect_actions(channel_class):
    actions = {}
    for name, value in inspect.getmembers(channel_class):
        if is_action(value):
            if not inspect.iscoroutinefunction(value):
                raise ChannelConfigError(
                    f"{channel_class.__name__}.{name} is an @action but not async: declare it with `async def`."
                )
            actions[name] = value
    return actions


def collect_event_handlers(channel_class):
    handlers = {}
    for name, value in inspect.getmembers(channel_class):
        event_type = consumed_event(value)
        if event_type is None:
            continue
        if not inspect.iscoroutinefunction(value):
            raise ChannelConfigError(
                f"{channel_class.__name__}.{name} is a @consumer but not async: declare it with `async def`."
            )
        handlers[event_type] = value
    return handlers


def collect_runtime_state(channel_class):
    runtime_state = channel_class.__dict__.get("RuntimeState")
    if runtime_state is None:
        return None
    if not is_typeddict(runtime_state):
        raise ChannelConfigError(
            f"{channel_class.__name__}.RuntimeState must be a typing.TypedDict subclass, "
            "e.g. `class RuntimeState(TypedDict): viewers: int`."
        )
    return runtime_state


class ContextChannelMeta(type):
    def __new__(mcs, name, bases, attrs):
        channel_class = super().__new__(mcs, name, bases, attrs)
        if not any(isinstance(base, ContextChannelMeta) for base in bases):
            return channel_class  # ContextChannel itself

        meta = attrs.get("Meta")
        if meta is None:
            raise ChannelConfigError(
                f"{name} has no Meta: declare `class Meta: state = MySerializer()` inside the channel class."
            )
        options = ChannelOptions(name, meta)
        channel_class._meta = options
        channel_class.state_model = StateModel(options.state, owner=name)
        channel_class.writable = validate_writable(name, options, channel_class.state_model)
        channel_class.actions = collect_actions(channel_class)
        channel_class.event_handlers = collect_event_handlers(channel_class)
        channel_class.runtime_state_class = collect_runtime_state(channel_class)
        channel_class.channel_key = f"{channel_class.__module__}.{name}".lower()
        channel_class.cache = StateCache(channel_class.channel_key, channel_class.get_cache_ttl())

        _registry.add(channel_class)
        broadcast.register_channel(channel_class)
        return channel_class


class ContextChannel(metaclass=ContextChannelMeta):
    """Serve the live state defined by Meta.state to one WebSocket connection.

    One instance exists per connection, created after the client authenticates. `user` is
    the authenticated user and `kwargs` the URL route's keyword arguments.
    """

    def __init__(self, consumer, user, kwargs):
        self.consumer = consumer
        self.user = user
        self.kwargs = kwargs
        self._runtime_state = {}
        if self.runtime_state_class is not None:
            self._runtime_state = dict.fromkeys(self.runtime_state_class.__annotations__)

    # Routing

    @classmethod
    def as_asgi(cls, **initkwargs):
        """Return the ASGI application that serves this channel, for a URL route."""
        from rxdjango.websocket import ChannelConsumer

        attributes = {"channel_class": cls}
        if not cls.event_handlers:
            # Changes reach sockets through the per-process fan-out, so a channel without
            # @consumer methods needs no channel-layer receive per connection. No layer is
            # configured under the alias None.
            attributes["channel_layer_alias"] = None
        consumer_class = type(f"{cls.__name__}Consumer", (ChannelConsumer,), attributes)
        return consumer_class.as_asgi(**initkwargs)

    # Hooks for subclasses

    @staticmethod
    def has_permission(user, **kwargs):
        """Return whether the user may open this channel with these URL kwargs; True by default."""
        return True

    def get_instance_id(self, **kwargs):
        """Return the anchor id of a single-instance channel; the first URL kwarg by default."""
        if not kwargs:
            raise ValueError(
                f"{type(self).__name__} has no URL kwargs: override get_instance_id() to return the anchor id."
            )
        return next(iter(kwargs.values()))

    def list_instances(self):
        """Return the queryset of anchors of a list channel; subclasses must override it."""
        raise NotImplementedError(
            f"{type(self).__name__} is a list channel: override list_instances() to return a queryset."
        )

    def is_visible(self, instance):
        """Return whether a newly created anchor joins this connection's list (auto_update)."""
        return False

    async def on_connect(self, tstamp):
        """Run after authentication; tstamp is the client's lastUpdate on a reconnection, else None."""

    async def on_disconnect(self):
        """Run when the client disconnects."""

    def can_save(self, instance, data):
        """Return whether the user may update the instance with data; False by default."""
        return False

    def can_create(self, model_class, parent, data):
        """Return whether the user may create a model_class row under parent; False by default."""
        return False

    def can_delete(self, instance):
        """Return whether the user may delete the instance; False by default."""
        return False

    # Tools for subclasses

    @property
    def runtime_state(self):
        return self._runtime_state

    async def set_runtime_var(self, name, value):
        """Set one runtime state variable and send it to the client."""
        if name not in self._runtime_state:
            raise KeyError(
                f"{type(self).__name__}.RuntimeState has no variable {name!r}: "
                "declare it in the RuntimeState TypedDict."
            )
        self._runtime_state[name] = value
        await self.consumer.send_frame({"type": "runtimeVar", "var": name, "value": value})

    async def send(self, data):
        """Send a JSON object to this connection's client."""
        await self.consumer.send_frame(data)

    async def group_add(self, group):
        """Join a Channels group; its events reach the @consumer methods."""
        await self.consumer.join_group(group)

    async def serialize_instance(self, instance):
        """Return the flat instance of a model instance in this channel's first matching layer."""
        return await database_sync_to_async(broadcast.serialize_for_channel)(type(self), instance)

    async def add_instance(self, instance_id, at_beginning=False):
        """Add an anchor to a list channel's state and send its instances."""
        await self.consumer.add_anchor(instance_id, at_beginning=at_beginning)

    async def remove_instance(self, instance_id):
        """Remove an anchor from a list channel's state."""
        await self.consumer.remove_anchor(instance_id)

    async def clear(self):
        """Remove every anchor from a list channel's state."""
        await self.consumer.clear_anchors()

    # Class-level operations

    @classmethod
    def get_cache_ttl(cls):
        """Return the cache TTL in seconds: Meta.cache_ttl, else RX_CACHE_TTL, else one week."""
        if cls._meta.cache_ttl is not None:
            return cls._meta.cache_ttl
        return int(getattr(settings, "RX_CACHE_TTL", None) or conf.ONE_WEEK)

    @classmethod
    def clear_cache(cls, anchor_id):
        """Cool one anchor's cache now; returns False when the anchor was not HOT."""
        return cls.cache.clear(anchor_id)

    @classmethod
    def broadcast_instance(cls, anchor_id, instance, operation="update"):
        """Send an instance to every client of one anchor, e.g. after QuerySet.update()."""
        if operation not in ("create", "update", "delete"):
            raise ValueError(f"operation must be 'create', 'update' or 'delete', got {operation!r}")
        broadcast.broadcast_instance(cls, anchor_id, instance, operation)

    @classmethod
    def broadcast_notification(cls, anchor_id, payload, user_id=None):
        """Send {"type": "notification", "payload": payload} to an anchor's clients, or one user's."""
        frame = protocol.encode({"type": "notification", "payload": payload})
        fanout.publish(fanout.anchor_topic(cls.channel_key, anchor_id), frame, user_id)

    @classmethod
    def get_registered_channels(cls):
        return get_registered_channels()
