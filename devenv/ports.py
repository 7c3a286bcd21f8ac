"""Ports of `itilflow dev` and the tests: finding a free one, checking one, holding the API's."""

from __future__ import annotations

import socket

from devenv.options import DevError

DEFAULT_HOST = "127.0.0.1"


def free_port(host: str = DEFAULT_HOST) -> int:
    """Return a TCP port that is free right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def bind_api_socket(host: str, port: int) -> socket.socket:
    """Bind the API port now, before anything starts, so a taken port is refused up front and cannot
    be taken by someone else while Temporal starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DevError(
            f"API port {host}:{port} is already in use ({exc.strerror}); pass --api-port"
        ) from None
    # Not listening yet: until uvicorn serves (asyncio listens on it then), clients are refused
    # instead of hanging, so a health poll sees a clean "not yet".
    return sock


def check_port_free(host: str, port: int, what: str, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DevError(
                f"{what} port {host}:{port} is already in use ({exc.strerror}); pass {flag}"
            ) from None
