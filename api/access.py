"""Who may call each route: the access policy every route declares, and the refusal it answers with.

A route declares its policy through the dependency that enforces it, so reading the route's signature
shows who may call it: `CurrentUser` / the pages' `User` (any signed-in user), a role dependency made
by `roles_dependency` (`AdminUser`, `ProcessOwner`, `OwnerPage`…), or `Public` for what needs no
sign-in. `policy_of(route)` reads the declaration back from the route's dependency tree; the
role × route matrix test (tests/api/test_access_matrix.py) calls every route as every role of the
role catalogue and fails for a route that declares nothing, and `table()` is the table in
docs/identity.md ("Who may call what"). Which *record* a caller may see is decided per record
(api/services/lookup.py): a record one may not see answers 404, whatever the route's policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi import Depends
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from api.auth import Principal
from api.identity.roles import BUILTIN
from api.problems import ProblemError

Kind = Literal["public", "signed_in", "roles"]
ATTRIBUTE = "__itilflow_access__"

# The routes FastAPI and Starlette add themselves (the OpenAPI document, its viewers, static files):
# they read nothing of anyone's, so they are public. Declared here because they take no dependency.
FRAMEWORK_PUBLIC = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"})


@dataclass(frozen=True)
class Policy:
    kind: Kind
    roles: tuple[str, ...] = ()

    def allows(self, roles: Iterable[str] | None) -> bool:
        """Whether a caller with `roles` (None: not signed in) passes this policy."""
        if self.kind == "public":
            return True
        if roles is None:
            return False
        return self.kind == "signed_in" or bool(set(roles) & set(self.roles))

    def describe(self) -> str:
        if self.kind == "public":
            return "public"
        if self.kind == "signed_in":
            return "any signed-in user"
        return ", ".join(f"`{r}`" for r in self.roles)


PUBLIC = Policy("public")
SIGNED_IN = Policy("signed_in")

F = TypeVar("F", bound=Callable[..., Any])


def declares(policy: Policy) -> Callable[[F], F]:
    """Mark a dependency as the one that enforces `policy` (read back by `policy_of`)."""

    def mark(function: F) -> F:
        setattr(function, ATTRIBUTE, policy)
        return function

    return mark


@declares(PUBLIC)
async def public() -> None:
    """A route anyone may call without signing in (health, sign-in pages)."""


Public = Depends(public)


def role_label(role: str, lang: str) -> str:
    label = BUILTIN.get(role)  # the catalogue's labels of the roles routes check
    if label is not None:
        return label["zh" if lang == "zh" else "en"]
    return role.replace("_", " ")


def role_refusal(user: Principal, roles: Iterable[str]) -> ProblemError:
    """403 naming the rule (the roles this needs) and what the caller has, in the caller's language."""
    lang = "zh" if user.language == "zh" else "en"
    needed = [role_label(r, lang) for r in roles]
    have = [role_label(r, lang) for r in user.roles]
    if lang == "zh":
        detail = (
            f"角色要求：此操作需要以下角色之一：{'、'.join(needed)}；"
            f"{user.username} 的角色：{'、'.join(have) or '无'}"
        )
    else:
        detail = (
            f"role required: this needs the role {' or '.join(needed)}; "
            f"{user.username} has {', '.join(have) or 'none'}"
        )
    return ProblemError(403, detail, kind="RoleRequired")


def roles_dependency(roles: tuple[str, ...], user_dependency: Callable[..., Any]) -> Callable[..., Any]:
    """A dependency that admits only callers of `user_dependency` (the API's token check or a page's
    session check) who have one of `roles`, and declares so."""

    @declares(Policy("roles", roles))
    async def check(user: Principal = Depends(user_dependency)) -> Principal:  # noqa: B008
        if not user.has_role(*roles):
            raise role_refusal(user, roles)
        return user

    return check


def _declared(dependant: Dependant) -> list[Policy]:
    found: list[Policy] = []
    policy = getattr(dependant.call, ATTRIBUTE, None)
    if isinstance(policy, Policy):
        found.append(policy)
    for sub in dependant.dependencies:
        found += _declared(sub)
    return found


def policy_of(route: BaseRoute) -> Policy | None:
    """The policy `route` declares, or None. A role policy wins over the signed-in check it is built
    on; two different role policies on one route are a mistake and declare nothing."""
    if isinstance(route, APIRoute):
        found = set(_declared(route.dependant))
        roles = {p for p in found if p.kind == "roles"}
        if len(roles) > 1:
            return None
        if roles:
            return roles.pop()
        if SIGNED_IN in found:
            return SIGNED_IN
        return PUBLIC if PUBLIC in found else None
    if isinstance(route, Mount | Route) and route.path in FRAMEWORK_PUBLIC:
        return PUBLIC
    return None


def route_methods(route: BaseRoute) -> list[str]:
    if isinstance(route, Mount):
        return ["GET"]
    methods = getattr(route, "methods", None) or {"GET"}
    return sorted(m for m in methods if m != "HEAD")


def table(routes: Iterable[BaseRoute]) -> str:
    """The Markdown table of every route's policy (docs/identity.md); a route without one says so."""
    rows: list[tuple[str, str, str]] = []
    for route in routes:
        path = getattr(route, "path", "?")
        policy = policy_of(route)
        who = policy.describe() if policy is not None else "**undeclared**"
        rows.extend((path, method, who) for method in route_methods(route))
    lines = ["| method | path | who may call it |", "|---|---|---|"]
    lines += [f"| {m} | `{p}` | {w} |" for p, m, w in sorted(rows, key=lambda r: (r[0], r[1]))]
    return "\n".join(lines) + "\n"


def main() -> None:
    """`python -m api.access`: print the table for docs/identity.md."""
    from api.app import create_app  # here: the app imports this module
    from core.settings import Settings

    print(table(create_app(Settings()).routes), end="")


if __name__ == "__main__":
    # Run as a script this file is `__main__`, and the routes carry `api.access`'s own policies.
    import api.access

    api.access.main()
