"""Client writes: the checks that a write frame passes, in order, and the ORM write.

Every write frame with a valid writeId gets one `writeResponse`. The checks run in this
order, and the first one that fails sets the error code:

1. the frame is malformed: 400 (rxdjango.protocol rejects it before it reaches this module);
2. Meta.writable lacks the instance type or the operation: 403, before any database or
   cache access;
3. the instance (for a create, the parent) is not in the cached state of the connection's
   anchors, or it is a user_key row of another user: 400. A create also gets a 400 when its
   relation is not a nested list of the instance type in the parent's layer;
4. the row (for a create, the parent row) does not exist: 404;
5. the data gives a user_key row to another user, or can_save / can_create / can_delete
   returns False: 403;
6. the layer's flat serializer rejects the data: 400 with the field errors;
7. the ORM write runs in one transaction, and the signal handlers of rxdjango.broadcast
   send the committed state to every client, the writer included.

Any other exception gets a 500 and rolls the transaction back.
"""

import inspect
import logging
from collections import OrderedDict

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import router, transaction

from rxdjango import broadcast, protocol
from rxdjango.operations import CREATE, SAVE
from rxdjango.serialization import to_json_safe

logger = logging.getLogger("rxdjango.writes")

# Responses remembered per connection, so that a repeated writeId gets the same response
# without being applied again. The oldest is forgotten first.
MAX_REMEMBERED_WRITES = 1000

SERVER_ERROR_MESSAGE = "the write failed because of a server error"


class WriteRejected(Exception):
    """A write failed a check. The code, message and field errors go back in its writeResponse."""

    def __init__(self, code, message, fields=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields


def success_response(write_id, instance_id=None):
    """Return the writeResponse of an applied write, which for a create also contains the new row's id."""
    response = {"type": "writeResponse", "writeId": write_id, "success": True}
    if instance_id is not None:
        response["instanceId"] = instance_id
    return response


def error_response(write_id, code, message, fields=None):
    error = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"type": "writeResponse", "writeId": write_id, "success": False, "error": error}


class WriteHandler:
    """Apply the writes of one connection and remember the response to each writeId.

    `consumer` is the connection's ChannelConsumer. Its channel, user and anchors are read
    at each write, because they are set after authentication and a list channel's anchors change.
    """

    def __init__(self, consumer):
        self.consumer = consumer
        self.responses = OrderedDict()
        # Change batches of the last applied write, sent after its writeResponse.
        self.committed = []

    @property
    def channel_class(self):
        return self.consumer.channel_class

    async def respond(self, message):
        """Apply a write unless its writeId was seen before, and return the writeResponse to send."""
        # NOTE: the memory is per connection, so a write that the client sends again on a
        # new connection after a reconnection is applied again.
        remembered = self.responses.get(message.write_id)
        if remembered is not None:
            logger.info(
                "Connection %s (user %s, anchors %s) repeated writeId %s, so it gets the earlier response again",
                self.consumer.connection_id,
                self.consumer.user_key,
                self.consumer.anchors,
                message.write_id,
            )
            return remembered

        response = await self.apply_and_answer(message)
        self.responses[message.write_id] = response
        if len(self.responses) > MAX_REMEMBERED_WRITES:
            self.responses.popitem(last=False)
        return response

    async def apply_and_answer(self, message):
        try:
            instance_id = await self.apply(message)
        except WriteRejected as rejection:
            self.log_rejection(message, rejection)
            return error_response(message.write_id, rejection.code, rejection.message, rejection.fields)
        except Exception:
            logger.exception("%s failed with a 500", self.describe(message))
            return error_response(message.write_id, protocol.INTERNAL_ERROR, SERVER_ERROR_MESSAGE)
        return success_response(message.write_id, instance_id)

    def log_rejection(self, message, rejection):
        logger.warning("%s rejected with %s: %s", self.describe(message), rejection.code, rejection.message)

    def describe(self, message):
        """Return the write's id, operation and type and the connection's ids, for log lines."""
        consumer = self.consumer
        return (
            f"Write {message.write_id} ({message.operation} of {message.instance_type}) of connection "
            f"{consumer.connection_id} (user {consumer.user_key}, anchors {consumer.anchors})"
        )

    # The checks and the write

    async def apply(self, message):
        """Run the checks and the write. Returns the new row's id for a create, else None."""
        check_writable(self.channel_class, message)
        if message.operation == CREATE:
            return await self.create(message)

        layer = self.channel_class.state_model.layers_for_serializer(message.instance_type)[0]
        await self.check_in_state(layer.instance_type, message.instance_id)
        channel = self.consumer.channel
        description = f"{message.operation} {message.instance_type} {message.instance_id!r}"

        if message.operation == SAVE:
            data = dict(message.data)
            user_key = self.consumer.user_key

            def save_arguments(instance):
                check_user_key_value(layer, data, user_key)
                return instance, dict(data)

            write_arguments = (layer, message.instance_id, data, self.serializer_context())
            self.committed = await self.checked_write(
                layer.model,
                message.instance_id,
                channel.can_save,
                save_arguments,
                description,
                save_row,
                write_arguments,
            )
        else:
            self.committed = await self.checked_write(
                layer.model,
                message.instance_id,
                channel.can_delete,
                lambda instance: (instance,),
                description,
                delete_row,
                (layer.model, message.instance_id),
            )
        return None

    async def create(self, message):
        layer = find_created_layer(self.channel_class.state_model, message)
        parent_layer = layer.parent
        await self.check_in_state(parent_layer.instance_type, message.parent_id)

        data = dict(message.data)
        if layer.user_key is not None and layer.user_key in writable_field_names(layer):
            # A new private row belongs to its writer unless the data names the owner.
            data.setdefault(layer.user_key, self.consumer.user.pk)
        user_key = self.consumer.user_key

        def create_arguments(parent):
            check_user_key_value(layer, data, user_key)
            return layer.model, parent, dict(data)

        description = f"create {message.instance_type} in {message.relation_name} of {message.parent_type}"
        write_arguments = (layer, message.parent_id, data, self.serializer_context())
        pk, self.committed = await self.checked_write(
            parent_layer.model,
            message.parent_id,
            self.consumer.channel.can_create,
            create_arguments,
            description,
            create_row,
            write_arguments,
        )
        return to_json_safe(pk)

    async def checked_write(self, model, pk, hook, arguments, description, write, write_arguments):
        """Read the row, ask the can_* hook, then run the write and return its result.

        arguments(row) returns the hook's arguments and may raise its own rejection. Raises a
        404 when the row does not exist and a 403 when the hook returns a false value.
        A synchronous hook runs in the same database thread call as the read and the write:
        Channels opens a new database connection for each such call.
        """
        # NOTE: the can_* hooks see the row as read here, before the write's transaction, so a
        # change committed in between is not checked again. Only a deletion is (a 404).
        if inspect.iscoroutinefunction(hook):
            instance = await database_sync_to_async(fetch_row)(model, pk)
            if not await hook(*arguments(instance)):
                raise permission_denied(hook, description)
            return await database_sync_to_async(write)(*write_arguments)

        def read_check_write():
            instance = fetch_row(model, pk)
            if not hook(*arguments(instance)):
                raise permission_denied(hook, description)
            return write(*write_arguments)

        return await database_sync_to_async(read_check_write)()

    async def broadcast_committed(self):
        """Send the changes of the last applied write, which wait until its writeResponse is sent.

        The writer learns the outcome without waiting for the cache update and fan-out;
        every client, the writer included, then receives the changes as usual.
        """
        batches, self.committed = self.committed, []
        if batches:
            await broadcast.asend_batches(batches)

    async def check_in_state(self, instance_type, instance_id):
        """Raise a 400 unless the instance is in the cached state of an anchor of this connection.

        A user_key row counts only for its owner, because other users never receive it.
        """
        # NOTE: an anchor whose cache was cleared while the connection stays open (clear_cache,
        # expire_rxdjango_cache) has no documents, so its writes get this 400.
        # The client of a load gets its state before the cache is filled.
        await self.consumer.cache_filled()
        anchors = list(self.consumer.anchors)
        owners = await self.channel_class.cache.live_owners(anchors, instance_type, instance_id)
        user_key = self.consumer.user_key
        if not any(owner is None or str(owner) == user_key for owner in owners.values()):
            raise WriteRejected(
                protocol.BAD_REQUEST,
                f"{instance_type} {instance_id!r} is not in the state of this connection's anchors {anchors}",
            )

    def serializer_context(self):
        """Return the context of the serializers that validate and save a write."""
        return {"channel": self.consumer.channel, "user": self.consumer.user}


def check_writable(channel_class, message):
    """Raise a 403 unless Meta.writable allows the operation on the instance type, without database access."""
    operations = channel_class.writable.get(message.instance_type)
    if operations is None:
        raise WriteRejected(
            protocol.FORBIDDEN,
            f"{message.instance_type} is not writable in {channel_class.__name__}: add its serializer to Meta.writable",
        )
    if message.operation not in operations:
        raise WriteRejected(
            protocol.FORBIDDEN,
            f"{message.operation} is not allowed on {message.instance_type} in {channel_class.__name__}: "
            f"Meta.writable allows {', '.join(sorted(operations))}",
        )


def find_created_layer(state_model, message):
    """Return the layer of a create: the nested many relation `relationName` of the parent's layer.

    Raises a 400 when parentType is not a layer of the state, or when its relationName is
    not a nested list of instanceType.
    """
    parent_layers = state_model.layers_for_serializer(message.parent_type)
    if not parent_layers:
        raise WriteRejected(protocol.BAD_REQUEST, f"parentType {message.parent_type} is not in this channel's state")
    for parent_layer in parent_layers:
        child = parent_layer.child(message.relation_name)
        if child is not None and child.many and child.instance_type == message.instance_type:
            return child
    raise WriteRejected(
        protocol.BAD_REQUEST,
        f"relationName {message.relation_name!r} of {message.parent_type} is not a nested list of "
        f"{message.instance_type}",
    )


def writable_field_names(layer):
    return {name for name, field in layer.flat_serializer_class().fields.items() if not field.read_only}


def check_user_key_value(layer, data, user_key):
    """Raise a 403 when the data sets the user_key field of a private row to another user."""
    if layer.user_key is None or layer.user_key not in data:
        return
    if layer.user_key not in writable_field_names(layer):
        return  # The serializer ignores read-only fields.
    if str(data[layer.user_key]) != user_key:
        raise WriteRejected(
            protocol.FORBIDDEN,
            f"{layer.user_key!r} of {layer.instance_type} must be your own user id {user_key}, "
            f"got {data[layer.user_key]!r}: these rows are private to their user",
        )


def permission_denied(hook, description):
    return WriteRejected(protocol.FORBIDDEN, f"permission denied: {hook.__name__} rejected {description}")


# ORM work, run in a thread with database_sync_to_async


def fetch_row(model, pk):
    """Return the row with primary key pk, or raise a 404 when it does not exist."""
    try:
        instance = model._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):
        raise WriteRejected(protocol.BAD_REQUEST, f"{pk!r} is not a valid id of {model.__name__}") from None
    if instance is None:
        raise WriteRejected(protocol.NOT_FOUND, f"{model.__name__} {pk!r} not found")
    return instance


def lock_row(model, pk):
    """Return the row with primary key pk, locked until the transaction ends where the database supports it."""
    instance = model._default_manager.select_for_update().filter(pk=pk).first()
    if instance is None:
        # Deleted after the checks read it.
        raise WriteRejected(protocol.NOT_FOUND, f"{model.__name__} {pk!r} not found")
    return instance


def validate(serializer, layer):
    if not serializer.is_valid():
        fields = to_json_safe(serializer.errors)
        raise WriteRejected(
            protocol.BAD_REQUEST,
            f"invalid data for {layer.serializer_class.__name__}: {', '.join(fields)}",
            fields=fields,
        )


def save_row(layer, pk, data, context):
    """Validate the data with the layer's flat serializer and save it to the row (a partial update).

    Returns the committed change batches, for WriteHandler.broadcast_committed().
    """
    with broadcast.deferred_broadcasts() as committed, transaction.atomic(using=router.db_for_write(layer.model)):
        instance = lock_row(layer.model, pk)
        serializer = layer.flat_serializer_class(instance, data=data, partial=True, context=context)
        validate(serializer, layer)
        serializer.save()
    return committed


def create_row(layer, parent_pk, data, context):
    """Create a row of the layer from the data and link it to the parent row.

    Returns its primary key and the committed change batches.

    A reverse foreign key gets the parent as its value. A many-to-many relation (either
    direction) gets the new row added to the parent's relation.
    """
    relation = layer.relation
    with broadcast.deferred_broadcasts() as committed, transaction.atomic(using=router.db_for_write(layer.model)):
        parent = lock_row(layer.parent.model, parent_pk)
        if relation.kind == "reverse_foreign_key":
            foreign_key = relation.reverse_query_name
            data = with_parent_id(layer, data, foreign_key, parent.pk)
            serializer = layer.flat_serializer_class(data=data, context=context)
            validate(serializer, layer)
            instance = serializer.save(**{foreign_key: parent})
        else:
            serializer = layer.flat_serializer_class(data=data, context=context)
            validate(serializer, layer)
            instance = serializer.save()
            getattr(parent, layer.source).add(instance)
    return instance.pk, committed


def with_parent_id(layer, data, foreign_key, parent_pk):
    """Return a copy of the data with parent_pk in each writable field whose source is the foreign key.

    Such a field would otherwise be required, and the parent named by the frame wins over
    a value in the data.
    """
    data = dict(data)
    for name, field in layer.flat_serializer_class().fields.items():
        if not field.read_only and field.source == foreign_key:
            data[name] = parent_pk
    return data


def delete_row(model, pk):
    """Delete the row and return the committed change batches."""
    with broadcast.deferred_broadcasts() as committed, transaction.atomic(using=router.db_for_write(model)):
        lock_row(model, pk).delete()
    return committed
