"""The roles a user can be granted: itilflow's own, and every role a published process names.

A definition declares roles (`roles:` with zh/en labels) and names roles in who may fire a transition,
decide an approval, edit or start a record. Every such role of any *published* version can be granted;
an unknown one is refused with the list of the known ones, so a typo never grants nothing silently.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from api.problems import ProblemError
from core.tables import DefinitionRow
from definitions.loader import load_text
from definitions.model import Definition

# itilflow's own roles: what the API and the pages check (api/deps.py, api/web/common.py).
BUILTIN: dict[str, dict[str, str]] = {
    "admin": {"en": "Administrator", "zh": "管理员"},
    "process_owner": {"en": "Process owner", "zh": "流程负责人"},
    "agent": {"en": "Agent (service desk, support)", "zh": "处理人员（服务台、支持）"},
    "approver": {"en": "Approver", "zh": "审批人"},
    "integrator": {"en": "Integrator (service account)", "zh": "集成账户（服务账户）"},
    "requester": {"en": "Requester", "zh": "请求人"},
    "auditor": {"en": "Auditor (reads the admin audit trail)", "zh": "审计员（查看管理审计日志）"},
    "configuration_manager": {"en": "Configuration manager (CMDB)", "zh": "配置管理员（配置管理数据库）"},
}


@dataclass
class RoleInfo:
    name: str
    label: dict[str, str]
    builtin: bool = False
    # "definition key vN" of every published version that declares or names the role.
    sources: list[str] = field(default_factory=list)


def _named_roles(d: Definition) -> dict[str, dict[str, str] | None]:
    """Every role `d` declares (with its label) or names in a permission or an approval."""
    out: dict[str, dict[str, str] | None] = {
        name: {"en": label.en, "zh": label.zh} for name, label in d.roles.items()
    }
    named: list[str] = list(d.start_roles) + list(d.editors.roles)
    for rule in d.field_rights:
        named += rule.editors.roles
    for t in d.transitions:
        if t.allowed is not None:
            named += t.allowed.roles
    for step in d.approvals:
        for level in step.levels:
            named += level.approvers.roles
    for name in named:
        out.setdefault(name, None)
    return out


_CACHE: dict[str, dict[str, dict[str, str] | None]] = {}  # by definition hash: the source never changes
_LOCK = threading.Lock()


def _roles_of(row: DefinitionRow) -> dict[str, dict[str, str] | None]:
    with _LOCK:
        cached = _CACHE.get(row.hash)
    if cached is not None:
        return cached
    result = load_text(row.source)
    roles = _named_roles(result.definition) if result.definition is not None else {}
    with _LOCK:
        _CACHE[row.hash] = roles
    return roles


def catalogue(session: Session) -> dict[str, RoleInfo]:
    """Every grantable role by name: the built-in ones first, then the processes' in name order."""
    found: dict[str, RoleInfo] = {
        name: RoleInfo(name=name, label=dict(label), builtin=True) for name, label in BUILTIN.items()
    }
    rows = session.exec(
        select(DefinitionRow)
        .where(DefinitionRow.status == "published")
        .order_by(col(DefinitionRow.key), col(DefinitionRow.version))
    ).all()
    extra: dict[str, RoleInfo] = {}
    for row in rows:
        for name, label in _roles_of(row).items():
            info = found.get(name) or extra.setdefault(
                name, RoleInfo(name=name, label={"en": name.replace("_", " "), "zh": name})
            )
            if label and not info.builtin:
                info.label = label
            info.sources.append(f"{row.key} v{row.version}")
    return {**found, **dict(sorted(extra.items()))}


def check_roles(session: Session, roles: Iterable[str], *, path: str = "body.roles") -> list[str]:
    """`roles` without duplicates, or a 422 naming each unknown role and listing the known ones."""
    wanted = list(dict.fromkeys(roles))
    known = catalogue(session)
    unknown = [(i, r) for i, r in enumerate(wanted) if r not in known]
    if unknown:
        names = ", ".join(known)
        raise ProblemError(
            422,
            f"unknown role {', '.join(repr(r) for _, r in unknown)}; the known roles are: {names}",
            kind="UnknownRole",
            errors=[{"path": f"{path}[{i}]", "message": f"unknown role; known: {names}"} for i, _ in unknown],
        )
    return wanted
