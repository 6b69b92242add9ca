"""The @consumer decorator: channel methods that receive channel-layer events."""

CONSUMER_ATTRIBUTE = "_rx_consumer_event"


def consumer(event_type):
    """Bind a channel-layer event type, such as "chat.message", to a ContextChannel method.

    The method runs with the event dict for every event of that type sent to a group that
    the channel joined with `group_add`.
    """
    if not isinstance(event_type, str) or not event_type:
        raise TypeError(f"@consumer requires an event type string such as 'chat.message', got {event_type!r}")

    def decorate(method):
        setattr(method, CONSUMER_ATTRIBUTE, event_type)
        return method

    return decorate


def consumed_event(value):
    return getattr(value, CONSUMER_ATTRIBUTE, None)
