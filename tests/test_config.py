import pytest

from server import config


def test_defaults_are_local_and_embedded(tmp_path):
    settings = config.resolve(config.from_env({"POSECAST_INSTANCE_PATH": str(tmp_path)}))
    assert settings["HOST"] == "127.0.0.1"
    assert settings["PORT"] == 5000
    assert settings["ASYNC_MODE"] == "eventlet"
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'posecast.db'}"


def test_environment_overrides(tmp_path):
    env = {
        "POSECAST_INSTANCE_PATH": str(tmp_path),
        "POSECAST_PORT": "8123",
        "POSECAST_ASYNC_MODE": "threading",
        "DATABASE_URL": "postgresql+psycopg://u@localhost/posecast",
        "POSECAST_SECRET_KEY": "from-env",
    }
    settings = config.resolve(config.from_env(env))
    assert settings["PORT"] == 8123
    assert settings["ASYNC_MODE"] == "threading"
    assert settings["DATABASE_URL"] == env["DATABASE_URL"]
    assert settings["SECRET_KEY"] == "from-env"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    env = {"POSECAST_INSTANCE_PATH": str(tmp_path)}
    first = config.resolve(config.from_env(env))["SECRET_KEY"]
    second = config.resolve(config.from_env(env))["SECRET_KEY"]
    assert len(first) == 64 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("env, message", [
    ({"POSECAST_PORT": "http"}, "POSECAST_PORT"),
    ({"POSECAST_PORT": "70000"}, "POSECAST_PORT"),
    ({"POSECAST_ASYNC_MODE": "asyncio"}, "POSECAST_ASYNC_MODE"),
    ({"POSECAST_ASSET_MAX_AGE": "1.5"}, "POSECAST_ASSET_MAX_AGE"),
    ({"POSECAST_MESSAGE_QUEUE": "amqp://localhost"}, "POSECAST_MESSAGE_QUEUE"),  # only Redis is installed
    ({"POSECAST_HEARTBEAT_S": "0"}, "POSECAST_HEARTBEAT_S"),
])
def test_bad_values_are_refused_with_the_variable_named(tmp_path, env, message):
    with pytest.raises(config.ConfigError, match=message):
        config.resolve(config.from_env({"POSECAST_INSTANCE_PATH": str(tmp_path), **env}))
