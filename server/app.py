"""The Flask application: configuration, database, blueprints, Socket.IO."""
from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, api_v1, auth, config as config_mod, db, errors, instances, models, packet_guard, samples, sockets, static, stream
from .stream import ingest as stream_ingest


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding any setting (tests)."""
    settings = config_mod.from_env()
    settings.update(config or {})
    settings = config_mod.resolve(settings)

    app = Flask(__name__, static_folder=None, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    logging.basicConfig(level=settings["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    errors.init_app(app)
    db.init_app(app)
    instances.init_app(app)
    wings = (samples, models, stream, api_v1)
    for wing in wings:  # tables, routes and Socket.IO handlers
        wing.init_app(app)
    with db.startup_lock(app):  # one process at a time makes what a new database lacks
        db.create_tables(app)
        auth.init_app(app)
        samples.start(app)
        models.start(app)
        stream.start(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(static.bp)
    app.after_request(_security_headers)
    # Socket.IO connections carry the session cookie, so only pages of our own origin (or the
    # ones configured) may open them: no other site can act as a logged-in operator.
    origins = [o.strip() for o in (settings["ALLOWED_ORIGINS"] or "").split(",") if o.strip()] or _same_origin
    sockets.init_app(app, async_mode=settings["ASYNC_MODE"], cors_allowed_origins=origins)
    packet_guard.install(sockets.socketio.server)  # lifecycle names, arity, undecodable packets
    stream_ingest.install(sockets.socketio.server)  # label batches, without a request context each
    proxies = settings["TRUSTED_PROXIES"]
    if proxies:  # X-Forwarded-For/-Proto/-Host set by that many proxies in front, and no others
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def _same_origin(origin, environ) -> bool:
    """Our own origin as the request reached us (rewritten by ProxyFix only for the configured
    POSECAST_TRUSTED_PROXIES), never from an X-Forwarded-* header anyone may send."""
    host = environ.get("HTTP_HOST")
    return bool(origin and host) and origin == f"{environ.get('wsgi.url_scheme', 'http')}://{host}"


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # No Cross-Origin-Embedder-Policy on purpose: cross-origin isolation would switch TF.js to its
    # threaded wasm build, which measured slower here (2 cores shared with video and rendering).
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    # connect-src 'self' makes the browser itself refuse any CDN, model hub or font service.
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self' blob: 'unsafe-eval' 'wasm-unsafe-eval'; "
        "worker-src 'self' blob:; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
        "style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    )
    return response
