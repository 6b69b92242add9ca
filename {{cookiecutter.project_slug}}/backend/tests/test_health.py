import socket

import pytest

from config import health


def closed_port_url(scheme, suffix=""):
    """Return a URL on a loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}{suffix}"


@pytest.fixture
def fresh_clients(monkeypatch):
    """Make the health checks build new clients from the current settings."""
    monkeypatch.setattr(health, "_redis_client", None)
    monkeypatch.setattr(health, "_mongo_client", None)


def test_healthz_ok_with_all_services(client, db, fresh_clients):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": {"status": "ok"},
        "redis": {"status": "ok"},
        "mongo": {"status": "ok"},
    }


def test_healthz_503_when_redis_down(client, db, settings, fresh_clients):
    settings.REDIS_URL = closed_port_url("redis", "/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["status"] == "error"
    assert "ConnectionError" in checks["redis"]["error"]
    assert checks["mongo"] == {"status": "ok"}
    assert checks["database"] == {"status": "ok"}


def test_healthz_503_when_mongo_down(client, db, settings, fresh_clients, monkeypatch):
    settings.MONGO_URL = closed_port_url("mongodb")
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.5)

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["mongo"]["status"] == "error"
    assert checks["redis"] == {"status": "ok"}


def test_healthz_needs_no_login(client, db, fresh_clients):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_healthz_rejects_post(client, db):
    response = client.post("/healthz")

    assert response.status_code == 405
