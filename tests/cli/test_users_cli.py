"""`itilflow users|groups|token` against the test database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from api.auth import authenticate
from cli import main
from core.db import session_scope
from core.settings import get_settings


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, db_engine: Engine) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_users_groups_and_tokens_from_the_shell(
    cli_env: None, db_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    name, group = f"cli{uuid.uuid4().hex[:8]}", f"grp{uuid.uuid4().hex[:8]}"
    assert main(["groups", "create", group, "--label", "Night"]) == 0
    assert (
        main(
            [
                "users",
                "create",
                name,
                "--role",
                "agent",
                "--group",
                group,
                "--email",
                "x@example.test",
                "--language",
                "en",
            ]
        )
        == 0
    )
    assert main(["users", "create", name, "--role", "agent"]) == 1
    assert f"user '{name}' already exists" in capsys.readouterr().err

    assert main(["token", "create", "--user", name, "--name", "laptop"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("itf_")
    with session_scope(db_engine) as session:
        principal = authenticate(session, token)
    assert principal is not None and principal.username == name and principal.groups == [group]

    assert main(["users", "list"]) == 0
    assert name in capsys.readouterr().out
    token_id = token.split("_")[1]
    assert main(["token", "revoke", token_id]) == 0
    with session_scope(db_engine) as session:
        assert authenticate(session, token) is None
    assert main(["token", "create", "--user", "nobody-" + name]) == 1
    assert "no user" in capsys.readouterr().err
