"""The small parts of `itilflow dev` (devenv/) that need no Temporal: ports, the token file, exits."""

from __future__ import annotations

import signal
import socket
import stat
from pathlib import Path

import pytest

from devenv.options import DevError
from devenv.ports import bind_api_socket, check_port_free, free_port, port_accepts
from devenv.tokens import _read_tokens, _write_private
from devenv.worker_process import describe_exit


def test_a_taken_port_is_refused_up_front_with_the_flag_to_change() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_accepts("127.0.0.1", port)
        with pytest.raises(DevError, match="--api-port"):
            bind_api_socket("127.0.0.1", port)
        with pytest.raises(DevError, match="--temporal-port"):
            check_port_free("127.0.0.1", port, "Temporal", "--temporal-port")


def test_the_api_socket_is_bound_but_refuses_connections_until_served() -> None:
    port = free_port()
    check_port_free("127.0.0.1", port, "API", "--api-port")
    sock = bind_api_socket("127.0.0.1", port)
    try:
        assert sock.getsockname() == ("127.0.0.1", port)
        assert not port_accepts("127.0.0.1", port)  # bound, not listening: a clean "not yet"
    finally:
        sock.close()


def test_the_token_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "demo-tokens.json"
    path.write_text("not json", encoding="utf-8")
    path.chmod(0o644)
    assert _read_tokens(path) == {}
    _write_private(path, '{"agent": {"token": "itf_x"}}\n')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _read_tokens(path) == {"agent": {"token": "itf_x"}}
    assert not path.with_name(path.name + ".tmp").exists()


def test_worker_exits_are_described() -> None:
    assert describe_exit(1) == "exited with code 1"
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
