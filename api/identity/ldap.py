"""LDAP and Active Directory sign-in with ldap3: the user's own credentials are checked by binding as
them; nothing of the password is kept.

The user's DN comes from a template (`uid={username},ou=people,…`) or from a search under a service
account's bind (`ldap_bind_dn`). Then itilflow binds as that DN with the password the user typed: the
directory decides. Groups come from the user's `memberOf` (Active Directory) and from a search of
`ldap_group_base` with `ldap_group_filter`. The connection is LDAPS (`ldaps://`) or StartTLS
(`ldap_start_tls`), with certificates verified against `ldap_ca_file` (or the system's CAs).
"""

from __future__ import annotations

import contextlib
import logging
import math
import ssl
from dataclasses import dataclass
from typing import Literal

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from api.identity.provision import ExternalIdentity
from core.settings import Settings

log = logging.getLogger("itilflow.identity.ldap")


class DirectoryUnavailable(Exception):
    """The directory could not be asked (down, TLS refused, service bind refused): not the user's fault."""


@dataclass(frozen=True)
class _Entry:
    dn: str
    attributes: dict[str, list[str]]


def enabled(settings: Settings) -> bool:
    return bool(settings.ldap_url) and bool(settings.ldap_user_dn_template or settings.ldap_user_base)


def _server(settings: Settings) -> Server:
    url = settings.ldap_url or ""
    tls = Tls(
        validate=ssl.CERT_REQUIRED if settings.ldap_tls_verify else ssl.CERT_NONE,
        ca_certs_file=str(settings.ldap_ca_file) if settings.ldap_ca_file else None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return Server(
        url,
        use_ssl=url.lower().startswith("ldaps://"),
        tls=tls,
        get_info=NONE,
        connect_timeout=settings.ldap_timeout,
    )


def _bind(settings: Settings, server: Server, dn: str, password: str) -> Connection | None:
    """A bound connection, None if the directory refused the credentials; DirectoryUnavailable else."""
    conn = Connection(
        server,
        user=dn,
        password=password,
        auto_bind=False,
        raise_exceptions=False,
        receive_timeout=max(1, math.ceil(settings.ldap_timeout)),  # ldap3 packs it as an integer
        read_only=True,
    )
    try:
        conn.open()
        if conn.closed:
            raise DirectoryUnavailable(f"cannot reach {settings.ldap_url}")
        if settings.ldap_start_tls and not server.ssl and not conn.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused by {settings.ldap_url}: {conn.result}")
        if conn.bind():
            return conn
    except (LDAPException, OSError) as exc:
        _close(conn)
        raise DirectoryUnavailable(f"{type(exc).__name__}: {exc}") from None
    result = conn.result or {}
    _close(conn)
    if result.get("result") == 49:  # invalidCredentials
        return None
    raise DirectoryUnavailable(f"bind refused: {result.get('description')} {result.get('message', '')}")


def _close(conn: Connection) -> None:
    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()


def _strings(values: object) -> list[str]:
    if values is None:
        return []
    if isinstance(values, list | tuple):
        return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return [values.decode() if isinstance(values, bytes) else str(values)]


def _search(
    conn: Connection,
    base: str,
    query: str,
    attributes: list[str],
    scope: Literal["BASE", "LEVEL", "SUBTREE"] = SUBTREE,
) -> list[_Entry]:
    try:
        conn.search(base, query, search_scope=scope, attributes=attributes, size_limit=1000)
    except LDAPException as exc:
        raise DirectoryUnavailable(f"search failed: {type(exc).__name__}: {exc}") from None
    found = []
    for item in conn.response or []:
        if item.get("type") != "searchResEntry":
            continue
        attrs = {k: _strings(v) for k, v in (item.get("attributes") or {}).items()}
        found.append(_Entry(dn=str(item["dn"]), attributes=attrs))
    return found


def _cn(dn: str) -> str | None:
    try:
        first = parse_dn(dn)[0]
    except Exception:  # noqa: BLE001 - a value that is not a DN has no CN
        return None
    return str(first[1]) if str(first[0]).lower() == "cn" else None


def authenticate(settings: Settings, username: str, password: str) -> ExternalIdentity | None:
    """The directory's identity for these credentials, or None if it refuses them.

    Raises DirectoryUnavailable when the directory cannot be asked. An empty password is refused
    here: LDAP takes a bind with a DN and no password as an anonymous bind, which always succeeds."""
    if not password or not username or not enabled(settings):
        return None
    server = _server(settings)
    attributes = [
        settings.ldap_display_name_attribute,
        settings.ldap_email_attribute,
        settings.ldap_member_of_attribute,
    ]
    service: Connection | None = None
    try:
        if settings.ldap_bind_dn:
            secret = settings.ldap_bind_password.get_secret_value() if settings.ldap_bind_password else ""
            service = _bind(settings, server, settings.ldap_bind_dn, secret)
            if service is None:
                raise DirectoryUnavailable("the service account's bind (ldap_bind_dn) was refused")
        if settings.ldap_user_dn_template:
            dn = settings.ldap_user_dn_template.format(username=escape_rdn(username))
        else:
            if service is None:
                raise DirectoryUnavailable(
                    "searching users needs ldap_bind_dn (or set ldap_user_dn_template)"
                )
            query = settings.ldap_user_filter.format(username=escape_filter_chars(username))
            entries = _search(service, settings.ldap_user_base or "", query, attributes)
            if len(entries) != 1:
                if len(entries) > 1:
                    log.warning("LDAP: %d entries match the user filter for one username", len(entries))
                return None
            dn = entries[0].dn
        user_conn = _bind(settings, server, dn, password)
        if user_conn is None:
            return None
        try:
            reader = service or user_conn
            own = _search(reader, dn, "(objectClass=*)", attributes, scope=BASE)
            attrs = own[0].attributes if own else {}
            groups = list(attrs.get(settings.ldap_member_of_attribute, []))
            if settings.ldap_group_base:
                query = settings.ldap_group_filter.format(
                    dn=escape_filter_chars(dn), username=escape_filter_chars(username)
                )
                groups += [e.dn for e in _search(reader, settings.ldap_group_base, query, ["cn"])]
        finally:
            _close(user_conn)
    finally:
        if service is not None:
            _close(service)
    memberships = list(dict.fromkeys(groups + [cn for g in groups if (cn := _cn(g))]))
    display = next(iter(attrs.get(settings.ldap_display_name_attribute, [])), "")
    email = next(iter(attrs.get(settings.ldap_email_attribute, [])), None)
    return ExternalIdentity(
        source="ldap",
        username=username,
        external_id=dn,
        display_name=display,
        email=email,
        memberships=memberships,
    )
