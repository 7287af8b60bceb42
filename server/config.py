"""Configuration: POSECAST_* environment variables (and DATABASE_URL) over safe defaults."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from core.paths import PROJECT_ROOT
ASYNC_MODES = ("eventlet", "gevent", "threading")
QUEUE_SCHEMES = ("redis://", "rediss://")  # what Flask-SocketIO hands to its RedisManager


def flag(raw: str) -> bool:
    """1/true/yes/on or 0/false/no/off."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(raw)


# name -> (environment variable, default, parser). Defaults that depend on other settings are
# filled in by resolve().
# A model name (core/checks.py NAME: letters, digits, _ . -), optionally /VERSION to pin one.
DEFAULT_MODEL_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(/[1-9][0-9]{0,8})?")

SETTINGS = {
    "HOST": ("POSECAST_HOST", "127.0.0.1", str),
    "PORT": ("POSECAST_PORT", "5000", int),
    "ASYNC_MODE": ("POSECAST_ASYNC_MODE", "eventlet", str),
    "INSTANCE_PATH": ("POSECAST_INSTANCE_PATH", str(PROJECT_ROOT / "instance"), str),
    "DATABASE_URL": ("DATABASE_URL", None, str),
    "SECRET_KEY": ("POSECAST_SECRET_KEY", None, str),
    "WEB_DIR": ("POSECAST_WEB_DIR", str(PROJECT_ROOT / "web"), str),
    "ASSETS_DIR": ("POSECAST_ASSETS_DIR", str(PROJECT_ROOT / "assets"), str),
    "MODELS_DIR": ("POSECAST_MODELS_DIR", str(PROJECT_ROOT / "tfjs_models"), str),
    "ASSET_MAX_AGE": ("POSECAST_ASSET_MAX_AGE", "86400", int),
    "LOG_LEVEL": ("POSECAST_LOG_LEVEL", "INFO", str),
    "CLIENT_LOG_MAX_BYTES": ("POSECAST_CLIENT_LOG_MAX_BYTES", "8192", int),
    "DEFAULT_MODEL": ("POSECAST_DEFAULT_MODEL", "yoga5", str),
    "SAMPLE_MAX_BYTES": ("POSECAST_SAMPLE_MAX_BYTES", str(256 * 1024), int),
    "UPLOAD_MAX_BYTES": ("POSECAST_UPLOAD_MAX_BYTES", str(200 * 1024 * 1024), int),
    "LIVE_LOGIN": ("POSECAST_LIVE_LOGIN", "0", flag),
    "ADMIN_USER": ("POSECAST_ADMIN_USER", "admin", str),
    "ADMIN_PASSWORD": ("POSECAST_ADMIN_PASSWORD", None, str),
    "SESSION_COOKIE_SECURE": ("POSECAST_COOKIE_SECURE", "0", flag),
    "RETENTION_DAYS": ("POSECAST_RETENTION_DAYS", "90", int),
    "RATE_EVENTS_PER_S": ("POSECAST_RATE_EVENTS_PER_S", "300", int),
    "RATE_BURST": ("POSECAST_RATE_BURST", "3000", int),
    "BATCH_MAX_EVENTS": ("POSECAST_BATCH_MAX_EVENTS", "500", int),
    "DASHBOARD_TICK_MS": ("POSECAST_DASHBOARD_TICK_MS", "100", int),
    "ALLOWED_ORIGINS": ("POSECAST_ALLOWED_ORIGINS", None, str),
    "TRUSTED_PROXIES": ("POSECAST_TRUSTED_PROXIES", "0", int),
    # Cluster mode (server/cluster/, README "Scale out"): Flask-SocketIO's message queue joins the
    # processes (unset: one process, no Redis); each process beats in the database so the others
    # can tell when it is dead.
    "MESSAGE_QUEUE": ("POSECAST_MESSAGE_QUEUE", None, str),
    "MESSAGE_QUEUE_CHANNEL": ("POSECAST_MESSAGE_QUEUE_CHANNEL", "posecast", str),
    "HEARTBEAT_S": ("POSECAST_HEARTBEAT_S", "5", int),
    # /api/v1 inference (server/api_v1/): worker processes (0: one per core), the bounded queue
    # in front of them, their pose executor, and what one request may send.
    "INFER_WORKERS": ("POSECAST_INFER_WORKERS", "0", int),
    "INFER_QUEUE": ("POSECAST_INFER_QUEUE", "16", int),
    "INFER_EXECUTOR": ("POSECAST_INFER_EXECUTOR", "openvino", str),
    "INFER_MAX_BYTES": ("POSECAST_INFER_MAX_BYTES", str(20 * 1024 * 1024), int),
    "INFER_MAX_PIXELS": ("POSECAST_INFER_MAX_PIXELS", str(40_000_000), int),
    "INFER_MAX_IMAGES": ("POSECAST_INFER_MAX_IMAGES", "16", int),
    "INFER_TIMEOUT_S": ("POSECAST_INFER_TIMEOUT_S", "120", int),
    "JOB_MAX_BYTES": ("POSECAST_JOB_MAX_BYTES", str(500 * 1024 * 1024), int),
    "JOB_MAX_QUEUED": ("POSECAST_JOB_MAX_QUEUED", "20", int),
    "JOB_RETENTION_DAYS": ("POSECAST_JOB_RETENTION_DAYS", "7", int),
    "API_RATE_PER_S": ("POSECAST_API_RATE_PER_S", "20", int),
    "API_RATE_BURST": ("POSECAST_API_RATE_BURST", "40", int),
}


class ConfigError(ValueError):
    pass



def from_env(environ: dict[str, str] | None = None) -> dict:
    """Read every setting from the environment; a malformed value is a ConfigError."""
    environ = os.environ if environ is None else environ
    config = {}
    for name, (var, default, parse) in SETTINGS.items():
        raw = environ.get(var, default)
        if raw is None:
            config[name] = None
            continue
        try:
            config[name] = parse(raw)
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not a valid {parse.__name__}") from None
    return config


def resolve(config: dict) -> dict:
    """Validate and fill derived defaults (database in the instance folder, a persisted key)."""
    if config["ASYNC_MODE"] not in ASYNC_MODES:
        raise ConfigError(f"POSECAST_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}")
    if not 0 < config["PORT"] < 65536:
        raise ConfigError("POSECAST_PORT must be between 1 and 65535")
    if config.get("TRUSTED_PROXIES", 0) < 0:
        raise ConfigError("POSECAST_TRUSTED_PROXIES must be the number of proxies in front (0: none)")
    queue = config.get("MESSAGE_QUEUE")
    if queue and not queue.startswith(QUEUE_SCHEMES):
        raise ConfigError(f"POSECAST_MESSAGE_QUEUE must be a Redis URL ({', '.join(QUEUE_SCHEMES)}...)")
    default_model = config.get("DEFAULT_MODEL") or ""
    if default_model and not DEFAULT_MODEL_FORM.fullmatch(default_model):
        raise ConfigError("POSECAST_DEFAULT_MODEL must be a model name (its newest version) or NAME/VERSION")
    if config.get("HEARTBEAT_S", 5) < 1:
        raise ConfigError("POSECAST_HEARTBEAT_S must be a positive number of seconds")
    if config.get("INFER_EXECUTOR", "openvino") not in ("openvino", "tensorflow"):
        raise ConfigError("POSECAST_INFER_EXECUTOR must be openvino or tensorflow")
    if config.get("INFER_WORKERS", 0) < 0:
        raise ConfigError("POSECAST_INFER_WORKERS must be 0 (one per core) or more")
    config["INFER_WORKERS"] = config.get("INFER_WORKERS") or os.cpu_count() or 1
    for name in ("RETENTION_DAYS", "RATE_EVENTS_PER_S", "RATE_BURST", "BATCH_MAX_EVENTS", "DASHBOARD_TICK_MS",
                 "INFER_QUEUE", "INFER_MAX_BYTES", "INFER_MAX_PIXELS", "INFER_MAX_IMAGES", "INFER_TIMEOUT_S",
                 "API_RATE_PER_S", "API_RATE_BURST", "JOB_MAX_BYTES", "JOB_MAX_QUEUED"):
        if config[name] < (0 if name == "RETENTION_DAYS" else 1):
            raise ConfigError(f"{SETTINGS[name][0]} must be a {'non-negative' if name == 'RETENTION_DAYS' else 'positive'} number")
    instance = Path(config["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance / 'posecast.db'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _persisted_secret(instance / "secret_key")
    return config


def _persisted_secret(path: Path) -> str:
    """A random key made once per instance folder, so sessions survive restarts."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
