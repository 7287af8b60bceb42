"""posecast server.

Importing this package must stay cheap and import nothing from Flask: `posecast serve` has to
let eventlet monkey-patch the standard library before Flask and its dependencies load.
"""


def create_app(config=None):
    """Build the Flask app from POSECAST_* environment variables; `config` overrides (tests)."""
    from .app import create_app as build

    return build(config)
