import pytest


@pytest.fixture
def dist_dir(settings, tmp_path):
    settings.FRONTEND_DIST_DIR = tmp_path
    return tmp_path


def test_index_served_for_client_routes(client, dist_dir):
    (dist_dir / "index.html").write_text("<!doctype html><title>app</title>")

    response = client.get("/boards/7")

    assert response.status_code == 200
    assert response.content == b"<!doctype html><title>app</title>"
    assert response["Cache-Control"] == "no-cache"


def test_missing_build_explains_fix(client, dist_dir):
    response = client.get("/")

    assert response.status_code == 404
    assert b"npm run build" in response.content


def test_api_paths_not_answered_with_index(client, dist_dir, db):
    (dist_dir / "index.html").write_text("<!doctype html><title>app</title>")

    response = client.get("/api/unknown/")

    assert response.status_code == 404
    assert b"<title>app</title>" not in response.content
