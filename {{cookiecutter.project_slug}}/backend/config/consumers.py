import json

from channels.generic.websocket import AsyncWebsocketConsumer


class PingConsumer(AsyncWebsocketConsumer):
    """Reply to each text frame with {"type": "pong"}, to check the WebSocket path end to end."""

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=json.dumps({"type": "pong"}))
