from django.core.exceptions import ImproperlyConfigured


class ChannelConfigError(ImproperlyConfigured):
    """A ContextChannel or serializer option is invalid; raised when the class is defined."""
