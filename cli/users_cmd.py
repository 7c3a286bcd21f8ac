"""`itilflow users|groups|token`: manage the directory, roles, passwords and API tokens from the shell.

The same functions serve the admin API (api/services/admin.py), so a rule lives in one place; every
change lands in the admin audit trail as done by `cli:<os user>`.
"""

from __future__ import annotations

import argparse
import sys

from api.identity import accounts
from api.identity.audit import cli_actor
from api.identity.roles import catalogue
from api.problems import ProblemError
from api.services import admin
from cli import delegate_cmd
from core.db import make_engine, migrate, session_scope
from core.settings import get_settings


def _run(action: argparse.Namespace) -> int:
    url = get_settings().resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return int(action.handler(session, action))
    except ProblemError as problem:
        where = "".join(f"; {e['path']}: {e['message']}" for e in problem.errors)
        print(f"itilflow: {problem.detail}{where}", file=sys.stderr)
        return 2 if problem.status == 422 else 1
    finally:
        engine.dispose()


def _users_create(session, args) -> int:  # type: ignore[no-untyped-def]
    user = admin.create_user(
        session,
        username=args.name,
        roles=args.role,
        display_name=args.display_name or "",
        email=args.email,
        language=args.language,
        groups=args.group or [],
        service_account=args.service_account,
        actor=cli_actor(),
    )
    print(
        f"created {user.username} (roles: {', '.join(user.roles)}; groups: {', '.join(user.groups) or '-'})"
    )
    return 0


def _users_list(session, _args) -> int:  # type: ignore[no-untyped-def]
    for u in admin.list_users(session):
        state = "" if u.active else "  [inactive]"
        print(f"{u.username:<20} {','.join(u.roles):<28} {','.join(u.groups) or '-':<24} {u.language}{state}")
    return 0


def _users_grant(session, args) -> int:  # type: ignore[no-untyped-def]
    user = admin.grant_role(session, username=args.name, role=args.role, actor=cli_actor())
    print(f"{user.username}: roles {', '.join(user.roles)}")
    return 0


def _users_revoke(session, args) -> int:  # type: ignore[no-untyped-def]
    user = admin.revoke_role(session, username=args.name, role=args.role, actor=cli_actor())
    print(f"{user.username}: roles {', '.join(user.roles) or '-'}")
    return 0


def _users_roles(session, _args) -> int:  # type: ignore[no-untyped-def]
    for role in catalogue(session).values():
        where = "built-in" if role.builtin else ", ".join(role.sources)
        print(f"{role.name:<22} {role.label.get('en', ''):<40} {role.label.get('zh', ''):<16} {where}")
    return 0


def _users_password(session, args) -> int:  # type: ignore[no-untyped-def]
    _user, temporary = accounts.set_password(session, get_settings(), username=args.name, actor=cli_actor())
    print(f"temporary password for {args.name} (shown once; it must be changed at sign-in):", file=sys.stderr)
    print(temporary)
    return 0


def _groups_create(session, args) -> int:  # type: ignore[no-untyped-def]
    group = admin.create_group(
        session, name=args.name, label=args.label or "", lead=args.lead, actor=cli_actor()
    )
    for member in args.member or []:
        group = admin.add_member(session, group=group.name, username=member, actor=cli_actor())
    print(f"created group {group.name} ({', '.join(group.members) or 'no members'})")
    return 0


def _groups_list(session, _args) -> int:  # type: ignore[no-untyped-def]
    for g in admin.list_groups(session):
        print(f"{g.name:<20} {g.label:<24} {', '.join(g.members) or '-'}")
    return 0


def _token_create(session, args) -> int:  # type: ignore[no-untyped-def]
    created = admin.create_token(session, username=args.user, name=args.name or "", actor=cli_actor())
    print(f"token {created.id} for {created.username} (shown once; store it now):", file=sys.stderr)
    print(created.token)
    return 0


def _token_list(session, args) -> int:  # type: ignore[no-untyped-def]
    for t in admin.list_tokens(session, username=args.user):
        revoked = f"  revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else ""
        print(f"{t.id}  {t.username:<20} {t.name or '-':<24} created {t.created_at:%Y-%m-%d}{revoked}")
    return 0


def _token_revoke(session, args) -> int:  # type: ignore[no-untyped-def]
    token = admin.revoke_token(session, token_id=args.id, actor=cli_actor())
    print(f"revoked token {token.id} of {token.username}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="manage users (DATABASE_URL)")
    usub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    p = usub.add_parser("create", help="create a user")
    p.add_argument("name")
    p.add_argument(
        "--role", action="append", required=True, help="repeat for several roles (see `itilflow users roles`)"
    )
    p.add_argument("--group", action="append", help="repeat for several groups (created if missing)")
    p.add_argument("--email")
    p.add_argument("--display-name")
    p.add_argument("--language", default="zh", choices=["zh", "en"])
    p.add_argument("--service-account", action="store_true", help="a non-human integrator account")
    p.set_defaults(func=_run, handler=_users_create)
    usub.add_parser("list", help="list users").set_defaults(func=_run, handler=_users_list)
    usub.add_parser("roles", help="list the roles that can be granted").set_defaults(
        func=_run, handler=_users_roles
    )
    for action, handler, text in (
        ("grant", _users_grant, "grant a user a role"),
        ("revoke", _users_revoke, "revoke a user's role"),
    ):
        p = usub.add_parser(action, help=text)
        p.add_argument("name")
        p.add_argument("role")
        p.set_defaults(func=_run, handler=handler)
    p = usub.add_parser("reset-password", help="set a temporary password the user must change (printed once)")
    p.add_argument("name")
    p.set_defaults(func=_run, handler=_users_password)
    delegate_cmd.register(usub, _run)

    groups = sub.add_parser("groups", help="manage groups (DATABASE_URL)")
    gsub = groups.add_subparsers(dest="groups_command", metavar="ACTION", required=True)
    p = gsub.add_parser("create", help="create a group")
    p.add_argument("name")
    p.add_argument("--label")
    p.add_argument("--lead", help="username of the group lead")
    p.add_argument("--member", action="append", help="repeat to add members")
    p.set_defaults(func=_run, handler=_groups_create)
    gsub.add_parser("list", help="list groups").set_defaults(func=_run, handler=_groups_list)

    token = sub.add_parser("token", help="API tokens (DATABASE_URL)")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    p = tsub.add_parser("create", help="print a new token for an existing user (shown once)")
    p.add_argument("--user", required=True)
    p.add_argument("--name", help="a label, e.g. 'monitoring'")
    p.set_defaults(func=_run, handler=_token_create)
    p = tsub.add_parser("list", help="list tokens (never their secrets)")
    p.add_argument("--user")
    p.set_defaults(func=_run, handler=_token_list)
    p = tsub.add_parser("revoke", help="revoke a token by id")
    p.add_argument("id")
    p.set_defaults(func=_run, handler=_token_revoke)
