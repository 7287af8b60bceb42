"""The Socket.IO server. Namespaces and their handlers register on this one instance."""
from flask_socketio import SocketIO

socketio = SocketIO()


def init_app(app, **options) -> None:
    """Bind the server to the app. With POSECAST_MESSAGE_QUEUE (a Redis URL) it is Flask-SocketIO's
    own message queue: every emit, from any process, reaches the clients of every process joined
    to the same queue and channel. Without it, one process and no Redis."""
    # The one SocketIO object outlives an app (tests make many): a previous app's queue must not stay.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(app, message_queue=app.config.get("MESSAGE_QUEUE"),
                      channel=app.config.get("MESSAGE_QUEUE_CHANNEL") or "posecast", **options)
