import pytest

from server import create_app


@pytest.fixture
def app(tmp_path):
    return create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "ASYNC_MODE": "threading",
        "TESTING": True,
    })


@pytest.fixture
def client(app):
    return app.test_client()
