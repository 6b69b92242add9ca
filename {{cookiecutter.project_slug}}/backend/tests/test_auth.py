from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD


def test_token_issued_for_valid_credentials(api_client, user):
    response = api_client.post("/api/auth/token/", {"username": "carol", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key


def test_token_reused_on_second_login(api_client, user):
    first = api_client.post("/api/auth/token/", {"username": "carol", "password": PASSWORD}, format="json")
    second = api_client.post("/api/auth/token/", {"username": "carol", "password": PASSWORD}, format="json")

    assert first.json()["token"] == second.json()["token"]


def test_token_rejected_for_wrong_password(api_client, user):
    response = api_client.post("/api/auth/token/", {"username": "carol", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.filter(user=user).exists()


def test_token_rejected_without_fields(api_client, db):
    response = api_client.post("/api/auth/token/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_me_requires_token(api_client, db):
    response = api_client.get("/api/auth/me/")

    assert response.status_code == 401


def test_me_rejects_unknown_token(api_client, db):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    response = api_client.get("/api/auth/me/")

    assert response.status_code == 401


def test_me_returns_current_user(auth_client, user):
    response = auth_client.get("/api/auth/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "carol",
        "email": "carol@example.com",
        "first_name": "",
        "last_name": "",
    }


def test_logout_deletes_token(auth_client, token):
    response = auth_client.post("/api/auth/logout/")

    assert response.status_code == 204
    assert not Token.objects.filter(key=token.key).exists()
    assert auth_client.get("/api/auth/me/").status_code == 401


def test_logout_requires_token(api_client, db):
    response = api_client.post("/api/auth/logout/")

    assert response.status_code == 401


def test_create_demo_users_sets_password(api_client, db):
    from django.core.management import call_command

    call_command("create_demo_users", password="another-password")

    response = api_client.post("/api/auth/token/", {"username": "bob", "password": "another-password"}, format="json")
    assert response.status_code == 200
