"""Token authentication of WebSocket connections, with DRF's authtoken tokens."""

from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token


@database_sync_to_async
def user_for_token(key):
    """Return the active user owning the token, or None."""
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user
