import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_ping_answered_for_allowed_origin():
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"origin", b"http://localhost:8000")])

    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data="ping")
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_foreign_origin_rejected():
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"origin", b"http://evil.example.com")])

    connected, _ = await communicator.connect()

    assert not connected


async def test_missing_origin_rejected():
    communicator = WebsocketCommunicator(application, "/ws/ping/")

    connected, _ = await communicator.connect()

    assert not connected
