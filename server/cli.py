"""`posecast` command line. Heavy imports happen inside subcommands so that eventlet can
monkey-patch before anything else loads."""
from __future__ import annotations

import argparse
import os
import sys


def _serve(args: argparse.Namespace) -> int:
    if args.host:
        os.environ["POSECAST_HOST"] = args.host
    if args.port:
        os.environ["POSECAST_PORT"] = str(args.port)
    if args.async_mode:
        os.environ["POSECAST_ASYNC_MODE"] = args.async_mode
    mode = os.environ.get("POSECAST_ASYNC_MODE", "eventlet")
    if mode == "eventlet":
        import warnings

        # Upstream marks eventlet deprecated; the README says how to switch modes.
        warnings.filterwarnings("ignore", message=r"\s*eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()

    from . import create_app
    from .config import ConfigError
    from .sockets import socketio

    try:
        app = create_app()
    except ConfigError as exc:
        print(f"posecast: {exc}", file=sys.stderr)
        return 2
    host, port = app.config["HOST"], app.config["PORT"]
    app.logger.info("posecast serving http://%s:%s/ (async mode %s)", host, port, mode)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=(mode == "threading"),
                 log_output=args.access_log)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posecast", description="Real-time human pose, in the browser.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the live page, the API and Socket.IO")
    serve.add_argument("--host", help="bind address (POSECAST_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (POSECAST_PORT, default 5000)")
    serve.add_argument("--async-mode", choices=("eventlet", "gevent", "threading"),
                       help="Socket.IO async mode (POSECAST_ASYNC_MODE, default eventlet)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=_serve)
    from training.cli import add_parser as add_train

    add_train(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
