"""Passwords and profiles: what a user changes on their own account, and an administrator's reset.

A reset sets a random temporary password, shown once to the administrator, and obliges the user to
choose their own at the next sign-in; it also lifts a lock. Only accounts that sign in here (local,
not service accounts) have passwords: LDAP and OIDC users change theirs in their directory.
"""

from __future__ import annotations

from sqlmodel import Session

from api.identity import audit, passwords
from api.problems import ProblemError, conflict, not_found
from core.settings import Settings
from core.store import utcnow
from core.tables import UserRow


def _user(session: Session, username: str) -> UserRow:
    user = session.get(UserRow, username) if len(username) <= 64 else None
    if user is None:
        raise not_found(f"no user '{username}'")
    return user


def _local_only(user: UserRow, lang: str) -> None:
    if user.service_account:
        raise conflict(
            "a service account signs in with API tokens only"
            if lang != "zh"
            else "服务账户只能使用 API 令牌登录",
            "NoPassword",
        )
    if user.auth_source != "local":
        source = user.auth_source.upper()
        raise conflict(
            f"{user.username} signs in with {source}: the password is the directory's"
            if lang != "zh"
            else f"{user.username} 通过 {source} 登录，密码由目录服务管理",
            "NoPassword",
        )


def check_policy(settings: Settings, *, username: str, password: str, lang: str, path: str) -> None:
    problems = passwords.policy_problems(settings, username=username, password=password, lang=lang)
    if problems:
        raise ProblemError(
            422,
            " ".join(problems),
            kind="PasswordPolicy",
            errors=[{"path": path, "message": p} for p in problems],
        )


def set_password(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str | None = None,
    actor: str,
    lang: str = "en",
) -> tuple[UserRow, str]:
    """An administrator sets a password (a random one if none is given) that the user must change."""
    user = _user(session, username)
    _local_only(user, lang)
    temporary = password or passwords.temporary_password(max(16, settings.password_min_length))
    if password is not None:
        check_policy(settings, username=username, password=password, lang=lang, path="body.password")
    user.password_hash = passwords.hash_password(settings, temporary)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, actor=actor, action="password.reset", target=username, chosen=password is not None)
    session.flush()
    return user, temporary


def change_password(
    session: Session, settings: Settings, *, username: str, current: str, new: str, lang: str
) -> UserRow:
    """The user changes their own password; the current one is required."""
    user = _user(session, username)
    _local_only(user, lang)
    if not user.password_hash or not passwords.verify(settings, user.password_hash, current).ok:
        raise ProblemError(
            403,
            passwords.message("wrong_current", lang),
            kind="WrongPassword",
            errors=[{"path": "body.current_password", "message": passwords.message("wrong_current", lang)}],
        )
    if new == current:
        raise ProblemError(
            422,
            passwords.message("same", lang),
            kind="PasswordPolicy",
            errors=[{"path": "body.new_password", "message": passwords.message("same", lang)}],
        )
    check_policy(settings, username=username, password=new, lang=lang, path="body.new_password")
    user.password_hash = passwords.hash_password(settings, new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.add(user)
    audit.record(session, actor=username, action="password.changed", target=username)
    session.flush()
    return user


def update_profile(
    session: Session, *, username: str, language: str | None = None, display_name: str | None = None
) -> UserRow:
    """What a user may change about themselves: their language and the name shown."""
    user = _user(session, username)
    if language is not None:
        user.language = language
    if display_name is not None:
        user.display_name = display_name
    session.add(user)
    session.flush()
    return user
