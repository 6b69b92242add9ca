"""WebSocket routes, all under /ws/."""

from django.urls import path

{% if cookiecutter.include_example_app == 'y' -%}
from board.channels import BoardChannel, BoardListChannel
{% endif -%}
from config.consumers import PingConsumer

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
{%- if cookiecutter.include_example_app == 'y' %}
    path("ws/boards/", BoardListChannel.as_asgi()),
    path("ws/boards/<int:board_id>/", BoardChannel.as_asgi()),
{%- endif %}
]
