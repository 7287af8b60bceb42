"""The Socket.IO server. Namespaces and their handlers register on this one instance."""
from flask_socketio import SocketIO

socketio = SocketIO()
