import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery"


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="carol", email="carol@example.com", password=PASSWORD)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token(user):
    return Token.objects.create(user=user)


@pytest.fixture
def auth_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture(scope="session", autouse=True)
def drop_live_state_at_exit():
    """Remove this run's MongoDB database and Redis keys when the session ends."""
    yield
    from rxdjango.connections import close_all, sync_mongo_db, sync_redis

    sync_mongo_db().client.drop_database(settings.MONGO_STATE_DB)
    redis = sync_redis()
    keys = list(redis.scan_iter(match=f"{settings.RX_REDIS_PREFIX}:*", count=1000))
    if keys:
        redis.delete(*keys)
    close_all()
