"""The words of the field-rights and checked-reference refusals, in Chinese and English: the caller's
language picks one.

People read these, so they name things by their labels (a field's, a state's, an approval's, a role's)
and fall back to the definition's name only where the definition gives no label.
"""

from __future__ import annotations

from definitions import checklist
from definitions.model import Definition, I18nText, Permission

# Labels of what every record and every installation has; a definition's own labels come first.
_BUILTIN_FIELDS: dict[str, I18nText] = {
    "title": I18nText(zh="标题", en="Title"),
    "requester": I18nText(zh="请求人", en="Requester"),
    "assignee": I18nText(zh="处理人", en="Assignee"),
    "assignment_group": I18nText(zh="处理组", en="Assignment group"),
}
_BUILTIN_ROLES: dict[str, I18nText] = {
    "admin": I18nText(zh="管理员", en="Administrator"),
    "process_owner": I18nText(zh="流程负责人", en="Process owner"),
    "agent": I18nText(zh="处理人员", en="Agent"),
    "approver": I18nText(zh="审批人", en="Approver"),
    "integrator": I18nText(zh="集成账户", en="Integrator"),
    "requester": I18nText(zh="请求人", en="Requester"),
}
_RELATIONS: dict[str, I18nText] = {
    "requester": I18nText(zh="本记录的请求人", en="the record's requester"),
    "assignee": I18nText(zh="本记录的处理人", en="the record's assignee"),
    "assignment_group": I18nText(zh="处理组成员", en="members of the assignment group"),
}


def _zh(lang: str) -> bool:
    return lang.startswith("zh")


def field(d: Definition, name: str, lang: str) -> str:
    count = checklist.split_count(name)
    if count is not None and d.field_type(count[0]) == "checklist":  # a checklist's count in guards
        en, zh = checklist.COUNTS[count[1]]
        return (
            f"{zh}{field(d, count[0], lang)}" if lang.startswith("zh") else f"{en} {field(d, count[0], lang)}"
        )
    spec = d.field(name)
    label = spec.label if spec and spec.label else _BUILTIN_FIELDS.get(name)
    return label.get(lang) if label else name


def state(d: Definition, name: str, lang: str) -> str:
    spec = d.state(name)
    return spec.label.get(lang) if spec and spec.label else name


def step(d: Definition, name: str, lang: str) -> str:
    spec = next((a for a in d.approvals if a.name == name), None)
    return spec.label.get(lang) if spec and spec.label else name


def role(d: Definition, name: str, lang: str) -> str:
    label = d.roles.get(name) or _BUILTIN_ROLES.get(name)
    return label.get(lang) if label else name


def who(d: Definition, perm: Permission, lang: str) -> str:
    """Everyone a permission admits, in words ("Change manager, the record's Implementer")."""
    zh = _zh(lang)
    parts = [role(d, r, lang) for r in perm.roles]
    parts += [(f"{g} 组成员" if zh else f"members of {g}") for g in perm.groups]
    parts += list(perm.users)
    for rel in perm.relations:
        if rel.startswith("field:"):
            label = field(d, rel.removeprefix("field:"), lang)
            parts.append(f"本记录的{label}" if zh else f"the record's {label}")
        else:
            parts.append(_RELATIONS[rel].get(lang) if rel in _RELATIONS else rel)
    return ("、" if zh else ", ").join(parts)


def alternatives(options: list[str], lang: str) -> str:
    unique = list(dict.fromkeys(options))
    return ("或" if _zh(lang) else " or ").join(unique)


def editors_only(user: str, field: str, number: str, who: str, lang: str) -> str:
    if _zh(lang):
        return f"{user} 不能修改 {number} 的{field}：仅{who}可以修改本记录的字段"
    return f"{user} may not change {field} of {number}: only {who} may change this record's fields"


def rule_only(
    user: str, field: str, number: str, labels: list[str], who: str, state: str | None, lang: str
) -> str:
    """A field-rights rule refused: who it admits, and the rule in its own words when it has them."""
    if _zh(lang):
        where = f"在“{state}”状态下" if state else ""
        rule = f"规则「{'」「'.join(labels)}」" if labels else "字段权限规则"
        return f"{user} 不能{where}修改 {number} 的{field}：仅{who}可以修改（{rule}）"
    where = f" in state “{state}”" if state else ""
    rule = "; ".join(f"rule “{label}”" for label in labels) if labels else "the process's field rights"
    return f"{user} may not change {field} of {number}{where}: only {who} may ({rule})"


def sod_named(user: str, field: str, number: str, steps: list[str], lang: str) -> str:
    """Separation of duties: the person a protected field names may not change it."""
    if _zh(lang):
        why = f"{'、'.join(steps)}排除该字段所指的人" if steps else "请求人不能把自己的请求转给他人"
        return f"职责分离：{user} 不能修改 {number} 的{field}：该字段指向本人，{why}"
    why = (
        f"separation of duties in {', '.join(steps)} excludes whoever it names"
        if steps
        else "a requester may not hand their request to someone else"
    )
    return f"separation of duties: {user} may not change {field} of {number}: it names them, and {why}"


def sod_decided(user: str, field: str, number: str, step: str, lang: str) -> str:
    """Separation of duties: who decided an approval may not join the people it excludes afterwards."""
    if _zh(lang):
        return (
            f"职责分离：{user} 已参与 {number} 的{step}决定，该审批排除{field}所指的人，"
            f"因此不能把自己填入{field}"
        )
    return (
        f"separation of duties: {user} decided {step} of {number}, which excludes whoever {field} "
        f"names, so they may not put themselves in {field}"
    )


def reference_rule(field: str, process: str, states: list[str], lang: str) -> str:
    """The rule of a checked reference field, in words."""
    if _zh(lang):
        return f"“{field}”须引用{process}中状态为“{'”或“'.join(states)}”的记录"
    return f"{field} must name a record of {process} in state {' or '.join(f'“{s}”' for s in states)}"


def reference_unknown(rule: str, value: str, process: str, lang: str) -> str:
    if _zh(lang):
        return f"{rule}：“{value}”不是{process}的记录"
    return f"{rule}: “{value}” is no record of {process}"


def reference_state(rule: str, number: str, state: str, lang: str) -> str:
    if _zh(lang):
        return f"{rule}：{number} 当前为“{state}”"
    return f"{rule}: {number} is “{state}”"


def ci_unknown(field: str, ci: int, lang: str) -> str:
    if _zh(lang):
        return f"“{field}”须为配置管理数据库中的配置项：没有编号为 {ci} 的配置项"
    return f"{field} must name a configuration item of the CMDB: there is no configuration item {ci}"


def ci_retired(field: str, name: str, lang: str) -> str:
    if _zh(lang):
        return f"“{field}”不能引用已退役的配置项“{name}”"
    return f"{field} cannot name “{name}”: that configuration item is retired"


def ci_class(field: str, name: str, its_class: str, allowed: list[str], lang: str) -> str:
    if _zh(lang):
        return f"“{field}”只能引用“{'”或“'.join(allowed)}”类的配置项，“{name}”属于“{its_class}”"
    classes = " or ".join(f"“{a}”" for a in allowed)
    return f"{field} takes a configuration item of class {classes}; “{name}” is a “{its_class}”"
