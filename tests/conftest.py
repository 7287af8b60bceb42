import pytest

from server import create_app
from tests.helpers import browser as hb
from tests.helpers.auth import ADMIN, ADMIN_CONFIG, login
from tests.helpers.paths import ROOT, SHARED_DATA, shared
from tests.helpers.server import LiveServer


@pytest.fixture
def app(tmp_path):
    return create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MODELS_DIR": str(tmp_path / "models"),  # never the repository's tfjs_models/
        "ASYNC_MODE": "threading",
        "TESTING": True,
        **ADMIN_CONFIG,
    })


@pytest.fixture
def anon(app):
    """A client that is not logged in (but has a CSRF token, so refusals are about the role)."""
    client = app.test_client()
    client.environ_base["HTTP_X_CSRF_TOKEN"] = client.get("/api/me").get_json()["csrf_token"]
    return client


@pytest.fixture
def client(app):
    """Logged in as the admin, who may use every route."""
    return login(app.test_client(), *ADMIN)


@pytest.fixture
def user_client(app):
    """user_client(role): a client logged in as a new user with that role."""
    from server import db
    from server.auth import add_user, users

    def make(role: str):
        name = f"{role}-user"
        with db.engine_of(app).begin() as conn:
            if not conn.execute(users.select().where(users.c.username == name)).first():
                add_user(conn, name, f"{role}-password", role)
        return login(app.test_client(), name, f"{role}-password")

    return make


# Browser fixtures: real headless Chromium against a live posecast server.


@pytest.fixture(scope="session")
def browser_ready():
    missing = hb.missing_tools()
    if missing:
        pytest.skip(f"browser tests need {', '.join(missing)} (make test installs them)")
    if not (ROOT / "assets" / "pose" / "posenet.json").exists():
        pytest.skip("assets/ is not built: run `make test` (it runs tools/assets.py)")


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (CI has ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def live_server(browser_ready, tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_session(browser_ready):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def y4m(shared_data, tmp_path_factory):
    """y4m(name, **opts): a fake-webcam clip made once per session from a shared video/image."""
    folder = tmp_path_factory.mktemp("y4m")

    def make(relative: str, **opts) -> str:
        tag = "-".join(f"{k}{v}" for k, v in sorted(opts.items()))
        dest = folder / f"{relative.replace('/', '_')}{'-' + tag if tag else ''}.y4m"
        return hb.make_y4m(shared(relative), dest, **opts)

    return make


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this test session (make test installs the binaries)."""
    from tests.helpers.postgres import Postgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL binaries not found (make test installs Debian's postgresql)")
    server = Postgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, tmp_path):
    """The app on SQLite, then on a fresh database of the real PostgreSQL server."""
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
              "ASYNC_MODE": "threading", "TESTING": True, **ADMIN_CONFIG}
    if request.param == "postgresql":
        pg = request.getfixturevalue("postgres")
        config["DATABASE_URL"] = pg.fresh_database(f"t{abs(hash(request.node.nodeid)) % 10**12}")
    return create_app(config)


@pytest.fixture(scope="session")
def world_model(tmp_path_factory):
    """A models folder holding one `world` export on BlazePose lite (tests/helpers/world_model.py)."""
    from tests.helpers.world_model import export_world_model

    root = tmp_path_factory.mktemp("world-models")
    return root, export_world_model(root)
