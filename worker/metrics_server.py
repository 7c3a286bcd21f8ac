"""The worker's /metrics: Temporal's worker metrics, the workflows' and activities' own, the process's.

A worker serves no HTTP otherwise, so this is a small threaded WSGI server on a port of its own
(`ITILFLOW_WORKER_METRICS_PORT`, on `ITILFLOW_WORKER_METRICS_HOST`, 127.0.0.1 by default), with the
API's rule for who may read it: the metrics token as `Bearer` when one is set, else loopback only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from core.metrics import exposition, scrape_allowed
from core.settings import Settings

StartResponse = Callable[..., Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # a scrape every 15 s is not news
        pass


def app(token: str | None) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "/") not in ("/metrics", "/"):
            return _problem(start_response, "404 Not Found", 404, "only /metrics is served here")
        if not scrape_allowed(token, environ.get("HTTP_AUTHORIZATION"), environ.get("REMOTE_ADDR")):
            if token:
                return _problem(start_response, "401 Unauthorized", 401, "send the metrics token as Bearer")
            return _problem(start_response, "403 Forbidden", 403, "loopback clients only without a token")
        body, content_type = exposition()
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    return serve


def _problem(start_response: StartResponse, status: str, code: int, detail: str) -> list[bytes]:
    body = json.dumps({"type": "about:blank", "title": status[4:], "status": code, "detail": detail}).encode()
    start_response(status, [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))])
    return [body]


class MetricsServer:
    """Serves until `close()`; `port` is the one bound (useful with port 0)."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        self._server = make_server(host, port, app(token), server_class=_Server, handler_class=_QuietHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_from(settings: Settings) -> MetricsServer | None:
    """The worker's metrics server as the settings say; None when no port is set."""
    if settings.worker_metrics_port is None:
        return None
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    return MetricsServer(settings.worker_metrics_host, settings.worker_metrics_port, token)
