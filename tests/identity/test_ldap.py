"""LDAP sign-in against a real OpenLDAP `slapd` (tests/identity/slapd.py): DN template and service-bind
search, StartTLS and LDAPS with a verified certificate, groups mapped to itilflow groups and roles at
the first sign-in and refreshed at every one, no directory password stored, the lockout, and a
directory that cannot be reached."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ldap3
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from api.identity import ldap
from core.db import session_scope
from core.settings import GroupGrant, Settings
from core.store import user_groups
from core.tables import AdminEventRow, UserRow
from tests.identity.conftest import sign_in
from tests.identity.slapd import SUFFIX, Directory, available, running_slapd

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's slapd (apt-get install slapd)")

TAG = uuid.uuid4().hex[:6]  # the directory's users are new to the (possibly reused) database
ANA, BEN, CHEN = f"ana{TAG}", f"ben{TAG}", f"chen{TAG}"
PASSWORDS = {ANA: "Ana's directory pass 1", BEN: "ben-Directory-pass-2", CHEN: "chen-pass-3 长城"}


def _seed() -> str:
    people = "\n".join(
        f"""dn: uid={uid},ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid.title()}
sn: {uid}
displayName: {uid.title()} Example
mail: {uid}@bank.test
userPassword: {PASSWORDS[uid]}
"""
        for uid in (ANA, BEN, CHEN)
    )
    groups = "\n".join(
        f"""dn: cn={cn},ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: {cn}
{chr(10).join(f"member: uid={m},ou=people,{SUFFIX}" for m in members)}
"""
        for cn, members in (
            ("itil-agents", [ANA]),
            ("change-board", [ANA, BEN]),
            ("it-audit", [BEN]),
            ("unmapped", [ANA, BEN, CHEN]),
        )
    )
    return f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Bank
dc: bank

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: cn=itilflow,ou=services,{SUFFIX}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: itilflow
userPassword: service-bind-secret

{people}
{groups}"""


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    with running_slapd(tmp_path_factory.mktemp("slapd") / "ldap", _seed()) as d:
        yield d


GROUP_MAP = {
    f"cn=itil-agents,ou=groups,{SUFFIX}": GroupGrant(groups=[f"desk{TAG}"], roles=["agent"]),
    "change-board": GroupGrant(groups=[f"cab{TAG}"], roles=["approver"]),  # a CN matches too
    "IT-Audit": GroupGrant(roles=["auditor"]),  # without regard to case
}


@pytest.fixture
def ldap_settings(make_settings: Callable[..., Settings], directory: Directory) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "ldap_url": directory.ldap_url,
            "ldap_start_tls": True,
            "ldap_ca_file": directory.ca_file,
            "ldap_user_dn_template": f"uid={{username}},ou=people,{SUFFIX}",
            "ldap_bind_dn": f"cn=itilflow,ou=services,{SUFFIX}",
            "ldap_bind_password": "service-bind-secret",
            "ldap_group_base": f"ou=groups,{SUFFIX}",
            "ldap_group_map": GROUP_MAP,
            "ldap_timeout": 5,
            **overrides,
        }
        return make_settings(**values)

    return build


def _user(engine: Engine, username: str) -> UserRow | None:
    with session_scope(engine) as session:
        row = session.get(UserRow, username)
        if row is not None:
            session.expunge(row)
        return row


async def test_first_sign_in_creates_the_user_with_mapped_groups_and_roles(
    web: Any, ldap_settings: Callable[..., Settings], db_engine: Engine
) -> None:
    async with web(ldap_settings()) as http:  # DN template, StartTLS, groups searched with the service bind
        r = await sign_in(http, ANA, PASSWORDS[ANA])
        assert r.status_code == 303 and r.headers["location"] == "/ui/inbox", r.text
        page = await http.get("/ui/account")
        assert page.status_code == 200 and f"{ANA.title()} Example" in page.text
    user = _user(db_engine, ANA)
    assert user is not None
    assert user.auth_source == "ldap" and user.external_id == f"uid={ANA},ou=people,{SUFFIX}"
    assert user.password_hash is None  # no directory password is ever stored
    assert sorted(user.roles) == ["agent", "approver", "requester"]  # requester: external_default_roles
    assert user.email == f"{ANA}@bank.test"
    with session_scope(db_engine) as session:
        assert user_groups(session, ANA) == [f"cab{TAG}", f"desk{TAG}"]
        events = session.exec(select(AdminEventRow).where(AdminEventRow.actor == "ldap")).all()
        assert any(e.action == "user.provisioned" and e.target == ANA for e in events)
        assert not any(PASSWORDS[ANA] in str(e.details) for e in events)


async def test_a_search_with_the_service_account_over_ldaps(
    web: Any, ldap_settings: Callable[..., Settings], directory: Directory, db_engine: Engine
) -> None:
    settings = ldap_settings(
        ldap_url=directory.ldaps_url,
        ldap_start_tls=False,
        ldap_user_dn_template=None,
        ldap_user_base=f"ou=people,{SUFFIX}",
        ldap_user_filter="(&(objectClass=inetOrgPerson)(uid={username}))",
    )
    async with web(settings) as http:
        r = await sign_in(http, BEN, "not " + PASSWORDS[BEN])
        assert r.status_code == 401 and "Wrong username or password" in r.text
        assert _user(db_engine, BEN) is None  # nobody is created by a failed sign-in
        # A filter injection is escaped: "*" is no wildcard.
        r = await sign_in(http, "be*", PASSWORDS[BEN])
        assert r.status_code == 401
        r = await sign_in(http, BEN, PASSWORDS[BEN])
        assert r.status_code == 303, r.text
    user = _user(db_engine, BEN)
    assert user is not None and sorted(user.roles) == ["approver", "auditor", "requester"]


async def test_groups_and_roles_are_refreshed_at_every_sign_in(
    web: Any, ldap_settings: Callable[..., Settings], directory: Directory, db_engine: Engine
) -> None:
    settings = ldap_settings()
    async with web(settings) as http:
        assert (await sign_in(http, CHEN, PASSWORDS[CHEN])).status_code == 303
    assert sorted(_user(db_engine, CHEN).roles) == ["requester"]  # type: ignore[union-attr]
    # An administrator grants a role the map does not manage; the directory adds chen to the CAB.
    with session_scope(db_engine) as session:
        row = session.get(UserRow, CHEN)
        assert row is not None
        row.roles = [*row.roles, "process_owner"]
        session.add(row)
    _modify_group(directory, "change-board", CHEN, ldap3.MODIFY_ADD)
    async with web(settings) as http:
        assert (await sign_in(http, CHEN, PASSWORDS[CHEN])).status_code == 303
    assert sorted(_user(db_engine, CHEN).roles) == ["approver", "process_owner", "requester"]  # type: ignore[union-attr]
    with session_scope(db_engine) as session:
        assert user_groups(session, CHEN) == [f"cab{TAG}"]
    # Out of the CAB again: the mapped role and group go, the administrator's role stays.
    _modify_group(directory, "change-board", CHEN, ldap3.MODIFY_DELETE)
    async with web(settings) as http:
        assert (await sign_in(http, CHEN, PASSWORDS[CHEN])).status_code == 303
    assert sorted(_user(db_engine, CHEN).roles) == ["process_owner", "requester"]  # type: ignore[union-attr]
    with session_scope(db_engine) as session:
        assert user_groups(session, CHEN) == []
        actions = [
            (e.actor, e.action, e.details.get("role") or e.target)
            for e in session.exec(
                select(AdminEventRow).where(AdminEventRow.target.in_([CHEN, f"cab{TAG}"]))
            ).all()  # type: ignore[attr-defined]
        ]
    assert ("ldap", "role.granted", "approver") in actions and ("ldap", "role.revoked", "approver") in actions
    assert ("ldap", "group.member_removed", f"cab{TAG}") in actions


def _modify_group(directory: Directory, cn: str, uid: str, op: str) -> None:
    server = ldap3.Server(directory.ldap_url)
    with ldap3.Connection(
        server, user=directory.root_dn, password=directory.root_password, auto_bind=True
    ) as c:
        assert c.modify(f"cn={cn},ou=groups,{SUFFIX}", {"member": [(op, [f"uid={uid},ou=people,{SUFFIX}"])]})


async def test_wrong_passwords_lock_the_account_with_a_bilingual_message(
    web: Any, ldap_settings: Callable[..., Settings], db_engine: Engine
) -> None:
    settings = ldap_settings(lockout_threshold=3, lockout_minutes=10)
    async with web(settings) as http:
        assert (await sign_in(http, ANA, PASSWORDS[ANA])).status_code == 303  # the account exists
        http.cookies.clear()
        for _ in range(2):
            r = await sign_in(http, ANA, "wrong")
            assert r.status_code == 401
        r = await sign_in(http, ANA, "wrong")
        assert r.status_code == 423
        assert "locked until" in r.text and "锁定至" in r.text
        # Even the right password is refused while the lock lasts, and the directory is not asked.
        r = await sign_in(http, ANA, PASSWORDS[ANA])
        assert r.status_code == 423
    user = _user(db_engine, ANA)
    assert user is not None and user.locked_until is not None
    with session_scope(db_engine) as session:  # lift the lock for the other tests
        row = session.get(UserRow, ANA)
        assert row is not None
        row.locked_until = None
        session.add(row)


async def test_an_empty_password_is_never_an_anonymous_bind(ldap_settings: Callable[..., Settings]) -> None:
    # LDAP takes a DN with an empty password as an unauthenticated bind, which succeeds.
    assert ldap.authenticate(ldap_settings(), ANA, "") is None


async def test_tls_is_verified_and_an_unreachable_directory_is_said_so(
    web: Any, ldap_settings: Callable[..., Settings], directory: Directory, tmp_path: Path
) -> None:
    # A certificate that is not the server's: StartTLS fails, the user is told the directory is unreachable.
    from tests.identity.slapd import self_signed

    other_ca, _key = self_signed(tmp_path)
    with pytest.raises(ldap.DirectoryUnavailable):
        ldap.authenticate(ldap_settings(ldap_ca_file=other_ca), ANA, PASSWORDS[ANA])
    settings = ldap_settings(ldap_url="ldap://127.0.0.1:9", ldap_timeout=2)  # nobody listens
    async with web(settings) as http:
        r = await sign_in(http, ANA, PASSWORDS[ANA])
        assert r.status_code == 503 and "cannot be reached" in r.text


def test_ldap3_server_certificate_check_is_on_by_default(directory: Directory) -> None:
    """The settings' default verifies certificates: without our CA, LDAPS refuses the self-signed one."""
    settings = Settings(
        ldap_url=directory.ldaps_url,
        ldap_user_dn_template=f"uid={{username}},ou=people,{SUFFIX}",
    )
    assert settings.ldap_tls_verify
    with pytest.raises(ldap.DirectoryUnavailable):
        ldap.authenticate(settings, ANA, PASSWORDS[ANA])
