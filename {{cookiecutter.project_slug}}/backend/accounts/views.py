import logging

from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import CurrentUserSerializer

logger = logging.getLogger("accounts")


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token.

    The same token authenticates REST calls (`Authorization: Token <key>`) and the
    first message of every WebSocket connection.
    """

    parser_classes = [JSONParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            logger.info("Login failed for username %r", request.data.get("username"))
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)

        user = serializer.validated_data["user"]
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class CurrentUserView(APIView):
    def get(self, request):
        return Response(CurrentUserSerializer(request.user).data)


class LogoutView(APIView):
    """Delete the user's token, so it stops working for REST calls and WebSockets."""

    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
