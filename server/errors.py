"""One error for bad input anywhere in the API: a 400 with a message that says what is wrong."""
from flask import jsonify


class Invalid(ValueError):
    pass


def init_app(app) -> None:
    app.register_error_handler(Invalid, lambda exc: (jsonify(error=str(exc)), 400))
