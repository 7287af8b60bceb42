"""`posecast` command line. Heavy imports happen inside subcommands so that eventlet can
monkey-patch before anything else loads."""
from __future__ import annotations

import argparse
import gc
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
        from .fast_websocket import install

        install()
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
    from . import instances
    from .api_v1.job_runner import requeue_dead
    from .models.training_runs import fail_dead
    from .stream.history import start_retention
    from .stream.ingest import refuse_revoked
    from .stream.label_log import close_orphan_sessions

    start_retention(app)
    # Beat in the database; what worker processes that died left (client sessions, video jobs,
    # training runs) is closed, queued again or failed by the live ones.
    # Edge nodes whose device token was revoked meanwhile are refused.
    instances.start(app, sweeps=[close_orphan_sessions, requeue_dead, fail_dead], checks=[refuse_revoked])
    from . import api_v1

    api_v1.serve(app)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic garbage
    # collector's full passes, which otherwise stalled the server ~100 ms every 2 s under the
    # label stream (bench/ingest.py: p99 to dashboards 240 -> 140 ms).
    gc.freeze()
    host, port = app.config["HOST"], app.config["PORT"]
    app.logger.info("posecast serving http://%s:%s/ (async mode %s)", host, port, mode)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=(mode == "threading"),
                 log_output=args.access_log)
    return 0


def _cluster(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .cluster.supervisor import run
    from .config import ConfigError, from_env

    try:
        settings = from_env()
    except ConfigError as exc:
        print(f"posecast: {exc}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("posecast cluster: --workers must be 1 or more", file=sys.stderr)
        return 2
    port = args.port or settings["PORT"]
    return run(args.workers, args.host or settings["HOST"], port, args.worker_port or port + 1,
               Path(settings["INSTANCE_PATH"]))


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("posecast users: the passwords differ")
    return first


def _in_database(command: str, act) -> int:
    """Runs act(conn) in one transaction on the configured database (what `posecast users`,
    `devices` and `tokens` do); a refused input prints why and exits 2, changing nothing."""
    from . import create_app, db
    from core.checks import Invalid

    app = create_app({"ASYNC_MODE": "threading"})
    try:
        with db.engine_of(app).begin() as conn:
            act(conn)
    except Invalid as exc:
        print(f"posecast {command}: {exc}", file=sys.stderr)
        return 2
    return 0


def _users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .auth import add_user, set_password, users
    from core.checks import Invalid

    def act(conn):
        if args.action == "add":
            add_user(conn, args.username, _read_password(args), args.role)
            print(f"added {args.username} ({args.role})")
        elif args.action == "passwd":
            if not set_password(conn, args.username, _read_password(args)):
                raise Invalid(f"no user {args.username!r}")
            print(f"changed the password of {args.username}; their sessions have ended")
        elif args.action == "remove":
            if conn.execute(users.delete().where(users.c.username == args.username)).rowcount == 0:
                raise Invalid(f"no user {args.username!r}")
            print(f"removed {args.username}")
        else:
            for row in conn.execute(select(users.c.username, users.c.role).order_by(users.c.username)):
                print(f"{row.username}\t{row.role}")
    return _in_database("users", act)


def _devices(args: argparse.Namespace) -> int:
    """Edge nodes' tokens, on the server machine (the database is the server's)."""
    import time

    from . import devices
    from core.checks import Invalid

    def act(conn):
        if args.action == "add":
            token = devices.add(conn, args.name)
            print(f"device {args.name}: its token (shown once; only a hash is kept). On the edge box, put it in a "
                  "file only the node's user can read and pass --token-file, or set POSECAST_DEVICE_TOKEN:",
                  file=sys.stderr)
            print(token)
        elif args.action == "revoke":
            if not devices.revoke(conn, args.name):
                raise Invalid(f"no device {args.name!r} with a valid token")
            print(f"revoked {args.name}: it is refused at its next connect", file=sys.stderr)
        else:
            when = (lambda ms: time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000)) if ms else "-")
            for d in devices.listing(conn):
                state = f"revoked {when(d['revoked_at'])}" if d["revoked_at"] else "valid"
                print(f"{d['name']}\t{state}\tadded {when(d['created_at'])}\tlast used {when(d['last_used_at'])}")
    return _in_database("devices", act)


def _tokens(args: argparse.Namespace) -> int:
    from . import tokens
    from .auth import ROLES
    from core.checks import Invalid

    def act(conn):
        if args.action == "create":
            token = tokens.create(conn, args.name, args.role, ROLES)
            print(f"# API token {args.name!r} ({args.role}); shown once, only its hash is kept:", file=sys.stderr)
            print(token)
        elif args.action == "revoke":
            if not tokens.revoke(conn, args.name):
                raise Invalid(f"no active token {args.name!r}")
            print(f"revoked {args.name}")
        else:
            for t in tokens.listing(conn):
                print(f"{t['name']}\t{t['role']}\tcreated {t['created_at']}\t"
                      f"{'revoked ' + t['revoked_at'] if t['revoked_at'] else 'active'}")
    return _in_database("tokens", act)


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
    cluster = sub.add_parser("cluster", help="nginx in front of N workers joined by Redis, on PostgreSQL (a trial)")
    cluster.add_argument("--workers", type=int, default=2, help="`posecast serve` processes (default 2)")
    cluster.add_argument("--host", help="nginx's bind address (POSECAST_HOST, default 127.0.0.1)")
    cluster.add_argument("--port", type=int, help="nginx's port (POSECAST_PORT, default 5000)")
    cluster.add_argument("--worker-port", type=int, help="the first worker's port (default: nginx's + 1)")
    cluster.set_defaults(func=_cluster)
    users = sub.add_parser("users", help="manage trainer, operator and admin logins (in the database)")
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("admin", "trainer", "operator", "viewer"))
    passwd = users_sub.add_parser("passwd", help="set a user's password")
    passwd.add_argument("username")
    for p in (add, passwd):
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users_sub.add_parser("remove", help="remove a user").add_argument("username")
    users_sub.add_parser("list", help="list users and roles")
    users.set_defaults(func=_users)
    devices = sub.add_parser("devices", help="device tokens of edge nodes (`posecast edge`)")
    devices_sub = devices.add_subparsers(dest="action", required=True)
    devices_sub.add_parser("add", help="a new device: prints its token once").add_argument("name")
    devices_sub.add_parser("revoke", help="refuse the device from its next connect on").add_argument("name")
    devices_sub.add_parser("list", help="devices, valid or revoked, and when last used")
    devices.set_defaults(func=_devices)
    tokens = sub.add_parser("tokens", help="API tokens for /api/v1 (Authorization: Bearer ...)")
    tokens_sub = tokens.add_subparsers(dest="action", required=True)
    create = tokens_sub.add_parser("create", help="create a token and print it (once)")
    create.add_argument("name")
    create.add_argument("--role", default="viewer", choices=("admin", "trainer", "operator", "viewer"),
                        help="what the token may use besides /api/v1 (default viewer: /api/v1 only)")
    tokens_sub.add_parser("revoke", help="revoke a token").add_argument("name")
    tokens_sub.add_parser("list", help="list tokens (names, roles, whether revoked)")
    tokens.set_defaults(func=_tokens)
    from poseio.command import add_parser as add_poses

    add_poses(sub)
    from .models.train_command import add_parser as add_train

    add_train(sub)
    from .models.evaluate_command import add_parser as add_evaluate

    add_evaluate(sub)
    try:  # the edge node: its own package (edge/), argparse only until it runs
        from edge.cli import add_parser as add_edge
    except ImportError:  # an install without edge/
        pass
    else:
        add_edge(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
