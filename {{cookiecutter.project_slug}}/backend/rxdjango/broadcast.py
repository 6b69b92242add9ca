"""Change propagation: from a committed model change to the frames of every live anchor.

Signal handlers record which rows changed. When the transaction commits, each changed row
is serialized once per layer that contains its model, the anchors that show it are found
(only live ones), the cache is updated, and one frame per anchor is published.
"""

import asyncio
import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from rxdjango import fanout, protocol

logger = logging.getLogger("rxdjango.broadcast")

# Model class -> [(channel class, layer)] for every layer of every registered channel.
_layers_by_model = defaultdict(list)
# Watched model -> [(channel class, layer, lookup from the layer's model to the watched model)].
_property_watches = defaultdict(list)
# Models whose signals are connected.
_connected_models = set()

# Fields that describe a flat instance rather than being its data.
META_FIELDS = ("id", "_instance_type", "_tstamp", "_operation")


def register_channel(channel_class):
    """Index a channel's layers by model and connect the signals of their models."""
    state_model = channel_class.state_model
    for layer in state_model.layers:
        _layers_by_model[layer.model].append((channel_class, layer))
        connect_model(layer.model)
        for field in layer.model._meta.many_to_many:
            connect_m2m(field.remote_field.through)
    for watch in state_model.related_property_watches:
        _property_watches[watch.watched_model].append((channel_class, watch.layer, watch.lookup))
        connect_model(watch.watched_model)


def connect_model(model):
    if model in _connected_models:
        return
    _connected_models.add(model)
    uid = f"rxdjango:{model._meta.label}"
    post_save.connect(handle_post_save, sender=model, dispatch_uid=f"{uid}:post_save", weak=False)
    pre_delete.connect(handle_pre_delete, sender=model, dispatch_uid=f"{uid}:pre_delete", weak=False)
    post_delete.connect(handle_post_delete, sender=model, dispatch_uid=f"{uid}:post_delete", weak=False)


def connect_m2m(through):
    uid = f"rxdjango:{through._meta.label}:m2m_changed"
    m2m_changed.connect(handle_m2m_changed, sender=through, dispatch_uid=uid, weak=False)


# Transaction batching


# The batches that commit in this thread while deferred_broadcasts() is active, else None.
_deferral = threading.local()


@contextmanager
def deferred_broadcasts():
    """Collect the batches that commit inside the block in the yielded list instead of sending them.

    The caller sends them later with send_batches(), e.g. after the response to the write
    that made the changes.
    """
    deferred = []
    _deferral.batches = deferred
    try:
        yield deferred
    finally:
        _deferral.batches = None


def send_batches(batches):
    """Send the batches collected by deferred_broadcasts()."""
    for batch in batches:
        batch.flush()


# Consumers send the changes of their writes from this thread, so the database thread
# that Channels shares between all connections is free for the next write meanwhile.
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rxdjango-broadcast")


async def asend_batches(batches):
    """Send the batches collected by deferred_broadcasts() from the broadcast thread."""
    await asyncio.get_running_loop().run_in_executor(_sender, send_from_broadcast_thread, batches)


def send_from_broadcast_thread(batches):
    """Send batches, keeping the thread's database connections open for the next call.

    Opening a connection has a cost of its own: Django's SQLite backend, for one, registers
    its SQL functions on every new connection. A connection that can no longer be used is
    closed first, so that the batches' queries open a new one.
    """
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            connection.close()
    send_batches(batches)


class ChangeBatch:
    """Rows changed in one transaction, flushed once when it commits (last change wins)."""

    def __init__(self, using):
        self.using = using
        self.changes = {}

    def add(self, model, pk, operation, captured=None):
        key = (model, pk)
        previous = self.changes.get(key)
        if previous is not None and previous[0] == "create" and operation == "update":
            operation = "create"
        if previous is not None and previous[0] == "create" and operation == "delete":
            # Created and deleted before anyone could see it.
            del self.changes[key]
            return
        self.changes[key] = (operation, captured)

    def flush(self):
        deferred = getattr(_deferral, "batches", None)
        if deferred is not None:
            deferred.append(self)
            return
        changes, self.changes = self.changes, {}
        for (model, pk), (operation, captured) in changes.items():
            try:
                propagate(model, pk, operation, captured)
            except Exception:
                logger.exception("Broadcasting %s of %s %s failed", operation, model._meta.label, pk)


def current_batch(using):
    """Return the batch of the open transaction, registering its flush on commit.

    A batch whose flush was dropped (its savepoint or transaction rolled back) is replaced,
    so nothing from rolled-back work is sent.
    """
    connection = transaction.get_connection(using)
    batch = getattr(connection, "_rx_batch", None)
    if batch is not None and connection.in_atomic_block:
        if any(entry[1] == batch.flush for entry in connection.run_on_commit):
            return batch
    batch = ChangeBatch(using)
    connection._rx_batch = batch
    transaction.on_commit(batch.flush, using=using)
    return batch


def record(model, pk, operation, using, captured=None):
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        propagate(model, pk, operation, captured)
        return
    current_batch(using).add(model, pk, operation, captured)


# Signal handlers


def handle_post_save(sender, instance, created, raw=False, using=DEFAULT_DB_ALIAS, **kwargs):
    if raw:
        return
    record(sender, instance.pk, "create" if created else "update", using)


def handle_pre_delete(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    """Capture what a delete needs while the row and its relations still exist."""
    instance._rx_captured = capture_delete(sender, instance)


def handle_post_delete(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    captured = getattr(instance, "_rx_captured", None)
    if captured is None:
        return
    record(sender, captured["pk"], "delete", using, captured)


def handle_m2m_changed(sender, instance, action, reverse, model, pk_set, using=DEFAULT_DB_ALIAS, **kwargs):
    if action == "pre_clear":
        # pk_set is None for a clear, so remember the related keys while they exist.
        instance._rx_cleared = through_related_keys(sender, instance, model)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return

    record(type(instance), instance.pk, "update", using)
    keys = pk_set if action != "post_clear" else getattr(instance, "_rx_cleared", set())
    for pk in keys or ():
        record(model, pk, "update", using)


def through_related_keys(through, instance, model):
    """Keys of the `model` rows linked to instance in a many-to-many through table."""
    source = target = None
    for field in through._meta.fields:
        if not field.is_relation:
            continue
        if source is None and field.related_model is type(instance):
            source = field.name
        elif field.related_model is model:
            target = field.name
    if source is None or target is None:
        return set()
    return set(through._default_manager.filter(**{source: instance.pk}).values_list(target, flat=True))


# Propagation


def capture_delete(model, instance):
    """Return the flat instances and anchors of a row about to be deleted, per layer."""
    tstamp = time.time()
    layers = []
    for channel_class, layer in _layers_by_model.get(model, ()):
        live = channel_class.cache.live_anchor_ids()
        if not live:
            continue
        anchors = live_anchors(channel_class, layer, instance.pk, live)
        if not anchors:
            continue
        flat = layer.serialize(instance, tstamp, "delete")
        parents = parent_rows(layer, instance.pk)
        layers.append((channel_class, layer, flat, anchors, parents))
    return {"pk": instance.pk, "tstamp": tstamp, "layers": layers, "owners": property_owners(model, instance.pk)}


def live_anchors(channel_class, layer, pk, live):
    """Anchors of the channel that show the row and have a live cache."""
    restrict_to = live if channel_class._meta.optimize_anchors else None
    return [anchor for anchor in layer.anchor_ids(pk, restrict_to=restrict_to) if str(anchor) in live]


def parent_rows(layer, pk):
    """Primary keys of the parent-layer rows whose relation field lists this row."""
    if layer.parent is None:
        return []
    rows = layer.parent.model._default_manager.filter(**{layer.relation.query_name: pk})
    return list(rows.values_list("pk", flat=True))


def property_owners(model, pk):
    """Rows whose related_property reads this row; each (model, pk) once, whatever the channels."""
    owners = {}
    lookups = {(layer.model, lookup) for _channel_class, layer, lookup in _property_watches.get(model, ())}
    for owner_model, lookup in lookups:
        rows = owner_model._default_manager.filter(**{lookup: pk}).values_list("pk", flat=True)
        owners.update(dict.fromkeys((owner_model, owner_pk) for owner_pk in rows))
    return list(owners)


def propagate(model, pk, operation, captured=None):
    """Send one committed change of a row to every live anchor that shows it."""
    if operation == "delete":
        propagate_delete(captured)
        for owner_model, owner_pk in captured["owners"]:
            propagate(owner_model, owner_pk, "update")
        return

    entries = _layers_by_model.get(model, ())
    if entries:
        instance = model._default_manager.filter(pk=pk).first()
        if instance is None:
            return  # Deleted later in the same transaction, or rolled back.
        tstamp = time.time()
        for channel_class, layer in entries:
            live = channel_class.cache.live_anchor_ids()
            if not live:
                continue
            anchors = live_anchors(channel_class, layer, pk, live)
            if anchors:
                send_instance(channel_class, layer, instance, anchors, operation, tstamp)
            if operation == "create":
                for parent_pk in parent_rows(layer, pk):
                    propagate(layer.parent.model, parent_pk, "update")
            if operation == "create" and layer.parent is None and channel_class._meta.auto_update:
                fanout.publish(fanout.created_topic(channel_class.channel_key), str(pk))

    for owner_model, owner_pk in property_owners(model, pk):
        propagate(owner_model, owner_pk, "update")


def send_instance(channel_class, layer, instance, anchors, operation, tstamp):
    flat = layer.serialize(instance, tstamp, operation)
    user_id = layer.user_id_of(flat)
    frames = {}
    for anchor in anchors:
        result = channel_class.cache.write_instance(anchor, flat, user_id)
        if not result.written:
            continue
        outgoing = flat
        if operation == "update" and result.previous is not None:
            outgoing = delta(result.previous, flat)
            if outgoing is None:
                continue
        key = id(outgoing)
        if key not in frames:
            frames[key] = protocol.encode({"type": "instances", "instances": [outgoing]})
        fanout.publish(fanout.anchor_topic(channel_class.channel_key, anchor), frames[key], user_id)
        send_missing_relations(channel_class, layer, flat, result.previous, anchor, tstamp)


def related_keys(value):
    if value is None:
        return set()
    return set(value) if isinstance(value, list) else {value}


def send_missing_relations(channel_class, layer, flat, previous, anchor, tstamp):
    """Send rows that the instance now points to but the anchor's cache lacks.

    Only keys that were not in the cached version of the instance are checked, so an
    update that leaves a relation unchanged costs no cache lookup.
    """
    for child in layer.children:
        keys = related_keys(flat.get(child.relation_name))
        if previous is not None:
            keys -= related_keys(previous.get(child.relation_name))
        for key in keys:
            if channel_class.cache.contains(anchor, child.instance_type, key):
                continue
            row = child.model._default_manager.filter(pk=key).first()
            if row is not None:
                send_instance(channel_class, child, row, [anchor], "create", tstamp)


def delta(previous, current):
    """Return the changed fields of an update plus the meta fields, or None when nothing changed."""
    changed = {
        name: value for name, value in current.items() if name not in META_FIELDS and previous.get(name) != value
    }
    if not changed:
        return None
    for name in META_FIELDS:
        changed[name] = current[name]
    return changed


def propagate_delete(captured):
    for channel_class, layer, flat, anchors, parents in captured["layers"]:
        user_id = layer.user_id_of(flat)
        frame = protocol.encode({"type": "instances", "instances": [flat]})
        for anchor in anchors:
            result = channel_class.cache.write_tombstone(anchor, flat, user_id)
            if not result.written:
                continue
            topic = fanout.anchor_topic(channel_class.channel_key, anchor)
            fanout.publish(topic, frame, user_id)
            if layer.parent is None and channel_class._meta.many:
                fanout.publish(topic, protocol.encode({"type": "removeAnchor", "anchorId": flat["id"]}))
        for parent_pk in parents:
            propagate(layer.parent.model, parent_pk, "update")


# Manual broadcasts


def broadcast_instance(channel_class, anchor_id, instance, operation):
    """Send an instance to one anchor of one channel, bypassing the signals."""
    tstamp = time.time()
    for layer in channel_class.state_model.layers_for_model(type(instance)):
        if operation == "delete":
            flat = layer.serialize(instance, tstamp, "delete")
            user_id = layer.user_id_of(flat)
            if channel_class.cache.write_tombstone(anchor_id, flat, user_id).written:
                frame = protocol.encode({"type": "instances", "instances": [flat]})
                fanout.publish(fanout.anchor_topic(channel_class.channel_key, anchor_id), frame, user_id)
        else:
            send_instance(channel_class, layer, instance, [anchor_id], operation, tstamp)


def serialize_for_channel(channel_class, instance):
    layers = channel_class.state_model.layers_for_model(type(instance))
    if not layers:
        raise ValueError(f"{channel_class.__name__} has no layer for {type(instance).__name__}")
    return layers[0].serialize(instance, time.time(), "update")
