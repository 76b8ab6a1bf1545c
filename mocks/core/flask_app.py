"""The emulator's full path: its operations as a Flask app.

Built on the first request that needs it (``Emulator.app``), not at start: most requests take
the fast path (``Emulator.answer``), and importing Flask and compiling its URL rules is a
large share of a start. Every view is a thin adapter to ``Emulator.run``; errors are answered
by ``Emulator``'s answers too, so both paths answer alike.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from .contracts import concrete_siblings
from .emulator import Call
from .journal import JOURNAL_NOTES

if TYPE_CHECKING:
    from .emulator import Answer, Emulator, Route


class _Except(BaseConverter):
    """A path segment that is none of the given literals (see ``concrete_siblings``)."""

    def __init__(self, url_map: Any, *literals: str) -> None:
        super().__init__(url_map)
        self.regex = "(?!(?:{})$)[^/]+".format("|".join(re.escape(x) for x in literals))


def build_app(emulator: Emulator) -> Flask:
    """Every route of ``emulator`` (``Emulator.routes``) as a URL rule, in the same order."""
    app = Flask(f"trackmock.{emulator.name}")
    app.url_map.strict_slashes = False
    app.url_map.converters["except"] = _Except
    siblings = concrete_siblings([route.operation.path for route in emulator.routes])
    for route in emulator.routes:
        _add_rule(app, emulator, route, siblings)

    def http_exception(exc: HTTPException) -> Response:
        return flask_response(emulator.http_exception_answer(exc, request))

    def unexpected(exc: Exception) -> Response:
        return flask_response(emulator.unexpected_answer(exc, request.environ["werkzeug.request"]))

    app.register_error_handler(HTTPException, http_exception)
    app.register_error_handler(Exception, unexpected)
    return app


def _add_rule(
    app: Flask, emulator: Emulator, route: Route, siblings: dict[tuple[str, str], set[str]]
) -> None:
    operation, hooks, handler = route.operation, route.hooks, route.handler
    names = operation.path_names
    literals = {
        name: siblings[(operation.path, name)]
        for name in names.values()
        if (operation.path, name) in siblings
    }

    def view(**kwargs: str) -> Response:
        path_args = {names[key]: value for key, value in kwargs.items()}
        # Handlers read the request often: take the request object werkzeug puts in the
        # environ (its ``populate_request``, on by default) instead of going through Flask's
        # context proxy on every read.
        current = request.environ["werkzeug.request"]
        notes = current.environ.get(JOURNAL_NOTES)
        answer = emulator.run(Call(operation, current, emulator, path_args), hooks, handler, notes)
        if answer is None:
            return Response(status=202)
        return flask_response(answer)

    app.add_url_rule(
        operation.rule_excluding(literals),
        endpoint=f"{operation.contract.uri}#{operation.id}",
        view_func=view,
        methods=[operation.method],
    )


def flask_response(answer: Answer) -> Response:
    status, headers, body = answer
    response = Response(body, status=status, headers=headers)
    if not any(name == "Content-Type" for name, _ in headers):
        # werkzeug gives every response a default type: an empty reply has none.
        response.headers.pop("Content-Type", None)
    return response
