"""`itilflow users|groups|token` against the test database."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from api.auth import authenticate
from cli import main
from core.db import session_scope
from core.settings import get_settings
from core.tables import AdminEventRow


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


def test_delegations_from_the_shell(
    cli_env: None, db_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    boss, sub = f"dboss{uuid.uuid4().hex[:6]}", f"dsub{uuid.uuid4().hex[:6]}"
    for name in (boss, sub):
        assert main(["users", "create", name, "--role", "approver"]) == 0
    capsys.readouterr()
    until = date.today() + timedelta(days=10)
    assert (
        main(["users", "delegate", boss, "--to", sub, "--until", until.isoformat(), "--reason", "leave"]) == 0
    )
    out = capsys.readouterr().out
    assert f"{sub} decides for {boss} until {until + timedelta(days=1):%Y-%m-%d} 00:00 UTC" in out
    delegation_id = int(out.split()[1].rstrip(":"))
    assert main(["users", "delegations", "--user", boss]) == 0
    assert f"{boss:<20} -> {sub}" in capsys.readouterr().out
    assert main(["users", "delegate", boss, "--to", boss, "--until", until.isoformat()]) == 2
    assert "body.substitute: cannot be the approver themselves" in capsys.readouterr().err
    assert main(["users", "delegate", boss, "--to", sub, "--until", "soon"]) == 2
    assert main(["users", "undelegate", str(delegation_id)]) == 0
    assert main(["users", "undelegate", str(delegation_id)]) == 1
    assert "already revoked" in capsys.readouterr().err
    with session_scope(db_engine) as session:
        rows = session.exec(select(AdminEventRow).where(AdminEventRow.target == boss)).all()
        assert [r.action for r in rows][-2:] == ["delegation.created", "delegation.revoked"]
        assert all(r.actor.startswith("cli") for r in rows)
