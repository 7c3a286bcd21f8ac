"""The demo users' API tokens and the file they are kept in (`demo-tokens.json` in the data dir)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlmodel import Session

from api.auth import authenticate, issue_token, principal_for
from core.tables import UserRow
from devenv.seed import DEMO_USERS

TOKENS_FILE = "demo-tokens.json"
TOKEN_NAME = "itilflow dev (demo)"


def _read_tokens(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds bearer tokens), replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # the mode above is masked by the umask and ignored for an existing file
    os.replace(tmp, path)


def ensure_tokens(session: Session, path: Path) -> dict[str, dict[str, Any]]:
    """Each demo user's token: the one in `path` while it still works (so printed tokens stay the
    same across restarts), else a new one. Writes `path` with mode 0600."""
    previous = _read_tokens(path)
    out: dict[str, dict[str, Any]] = {}
    for user in DEMO_USERS:
        row = session.get(UserRow, user.username)
        if row is None or not row.active:
            continue
        old = previous.get(user.username)
        token = old.get("token") if isinstance(old, dict) else None
        principal = authenticate(session, token) if isinstance(token, str) else None
        if principal is None or principal.username != user.username:
            token = issue_token(session, username=user.username, name=TOKEN_NAME)
            principal = principal_for(session, row)
        out[user.username] = {
            "token": token,
            "roles": principal.roles,
            "groups": principal.groups,
            "title": user.title,
        }
    session.flush()
    _write_private(path, json.dumps(out, indent=2) + "\n")
    return out
