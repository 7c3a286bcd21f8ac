"""The words of the engine's refusals, in English and Chinese, in one table: the caller's language
(Actor.language) picks one.

People read these, so the parameters are labels (an action's, a state's, a field's: see words.py),
never the definition's internal names unless it gives no label. The table is the place a translator
reads; `tests/unit/engine/test_phrases.py` checks that both languages take the same parameters.
"""

from __future__ import annotations

from definitions.model import Definition, Guard
from workflows.engine import words

PHRASES: dict[str, tuple[str, str]] = {
    # moves: which transition a trigger takes
    "unknown_action": ("{process} has no action '{action}'", "{process}没有“{action}”这个操作"),
    "wrong_state": (
        "“{action}” is not possible while {number} is “{state}” (only from: {sources})",
        "{number} 处于“{state}”，不能执行“{action}”（仅可从以下状态执行：{sources}）",
    ),
    "may_not_act": (
        "{user} may not “{action}” on {number}: allowed for {who}",
        "{user} 不能对 {number} 执行“{action}”：仅{who}可以执行",
    ),
    "engine_only": ("the engine only", "系统自动执行"),
    "guard_failed": ("“{action}” refused: {why}", "“{action}”被拒绝：{why}"),
    "condition": ("condition not met: {condition}", "条件不满足：{condition}"),
    "no_condition": ("condition not met", "条件不满足"),
    "needs": ("“{action}” needs: {fields}", "执行“{action}”需要填写：{fields}"),
    "required": ("required", "必填"),
    "comment": ("a comment", "备注"),
    # attachments (workflows/engine/attachments.py)
    "needs_attachment": (
        "“{action}” needs an attachment first: {kinds}",
        "执行“{action}”前须先上传附件：{kinds}",
    ),
    "attachment_missing": ("an attachment of this kind is required", "须上传此类附件"),
    "may_not_attach": (
        "{user} may not attach files to {number}: allowed for {who}",
        "{user} 不能向 {number} 上传附件：仅{who}可以上传",
    ),
    "unknown_attachment_kind": (
        "{process} takes no attachment of kind '{kind}' (kinds: {kinds})",
        "{process}没有“{kind}”这类附件（可用类型：{kinds}）",
    ),
    "duplicate_attachment": ("attachment {id} is already on {number}", "附件 {id} 已在 {number} 上"),
    # creation
    "may_not_start": ("only {roles} may start a {process} record", "仅{roles}可以发起{process}"),
    "missing_at_start": ("missing required field(s): {fields}", "缺少必填字段：{fields}"),
    # field edits
    "may_not_edit": (
        "{user} may not change fields of {number}: allowed for {who}",
        "{user} 不能修改 {number} 的字段：仅{who}可以修改",
    ),
    "closed": (
        "{number} is “{state}”: a closed record cannot change",
        "{number} 已“{state}”：已关闭的记录不能再修改",
    ),
    "read_only": ("read-only while {number} is “{state}”", "{number} 处于“{state}”时只读"),
    "read_only_fields": (
        "read-only while {number} is “{state}”: {fields}",
        "{number} 处于“{state}”时以下字段只读：{fields}",
    ),
    "required_in_state": (
        "required while {number} is “{state}”: {fields}",
        "{number} 处于“{state}”时以下字段必填：{fields}",
    ),
    "unknown_field": ("unknown field '{name}'", "未知字段“{name}”"),
    "counter_set": (
        "'{name}' is counted by the process and cannot be set by hand",
        "“{name}”由流程自动计数，不能手工设置",
    ),
    # approvals
    "no_approval": ("no approval '{approval}' on {number}", "{number} 上没有审批“{approval}”"),
    "approval_closed": (
        "approval “{step}” of {number} is {state}; it takes no more decisions",
        "{number} 的审批“{step}”已{state}，不再接受决定",
    ),
    "reject_needs_reason": (
        "a rejection of {number} needs its reason: say why in the comment",
        "驳回 {number} 须说明理由：请在意见中写明原因",
    ),
    "reason": ("the reason for the rejection is required", "须填写驳回理由"),
    "already_decided": (
        "{user} has already decided approval “{step}” of {number}",
        "{user} 已对 {number} 的审批“{step}”作出决定",
    ),
    "not_an_approver": (
        "{user} is not an approver of “{step}” ({level}) on {number}",
        "{user} 不是 {number} 的“{step}”（{level}）的审批人",
    ),
    "sod": (
        "separation of duties: {user} is {who} of {number} and may not decide this approval "
        "(rule: exclude {rule})",
        "职责分离：{user} 是 {number} 的{who}，不能审批此项（规则：本审批排除{rule}）",
    ),
    "sod_requester": ("the requester", "请求人"),
    "sod_assignee": ("the assignee", "处理人"),
    "sod_field": ("the {field}", "{field}"),
    # deciding as a substitute
    "own_substitute": (
        "delegation: {user} cannot decide as their own substitute",
        "委托：{user} 不能作为自己的代理人审批",
    ),
    "principal_not_approver": (
        "delegation: {principal} is not an approver of “{step}” ({level}) on {number}, so nobody can "
        "decide it for them",
        "委托：{principal} 不是 {number} 的“{step}”（{level}）的审批人，任何人都不能代其审批",
    ),
    "not_even_as_substitute": (
        "{message}, not even as the substitute of {principal}",
        "{message}，作为 {principal} 的代理人也不行",
    ),
    "one_decision": (
        "{user} has already decided approval “{step}” of {number}; one person decides an approval once "
        "(rule: one decision per person, substitutes included)",
        "{user} 已对 {number} 的审批“{step}”作出决定；每人对一项审批只能决定一次（规则：每人一次，含代理）",
    ),
    "no_delegation": (
        "delegation: {principal} has no delegation to {user} in force now (rule: delegation)",
        "委托：{principal} 当前没有委托给 {user} 的有效委托（规则：委托）",
    ),
}

_APPROVAL_STATES: dict[str, tuple[str, str]] = {
    "pending": ("pending", "待审批"),
    "approved": ("approved", "已批准"),
    "rejected": ("rejected", "已驳回"),
    "cancelled": ("cancelled", "已取消"),
    "expired": ("expired", "已过期"),
}
_OPS: dict[str, tuple[str, str]] = {
    "eq": ("is", "为"),
    "ne": ("is not", "不为"),
    "in": ("is one of", "属于"),
    "not_in": ("is none of", "不属于"),
    "gt": (">", ">"),
    "ge": ("≥", "≥"),
    "lt": ("<", "<"),
    "le": ("≤", "≤"),
    "is_set": ("is filled in", "已填写"),
    "is_empty": ("is empty", "为空"),
    "contains": ("contains", "包含"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang.startswith("zh") else pair[0]


def say(key: str, lang: str, **params: object) -> str:
    """The phrase `key` in `lang` ("zh…" is Chinese, anything else English), filled in."""
    return _pick(PHRASES[key], lang).format(**params)


def listed(items: list[str], lang: str) -> str:
    return ("、" if lang.startswith("zh") else ", ").join(items)


def action(d: Definition, trigger: str, lang: str) -> str:
    """What people call a trigger: the label of its first transition that has one."""
    for t in d.transitions:
        if t.trigger == trigger and t.label is not None:
            return t.label.get(lang)
    return trigger


def process(d: Definition, lang: str) -> str:
    return d.title.get(lang)


def approval_state(state: str, lang: str) -> str:
    pair = _APPROVAL_STATES.get(state)
    return _pick(pair, lang) if pair else state


def condition(d: Definition, guard: Guard, lang: str) -> str:
    """A guard in words, its fields by their labels."""
    zh = lang.startswith("zh")
    if guard.all is not None:
        return (" 且 " if zh else " and ").join(f"({condition(d, g, lang)})" for g in guard.all)
    if guard.any is not None:
        return (" 或 " if zh else " or ").join(f"({condition(d, g, lang)})" for g in guard.any)
    if guard.not_ is not None:
        return f"{'非' if zh else 'not '}({condition(d, guard.not_, lang)})"
    name = words.field(d, guard.field, lang) if guard.field else ""
    op = _pick(_OPS[guard.op], lang) if guard.op in _OPS else str(guard.op)
    if guard.op in ("is_set", "is_empty"):
        return f"{name} {op}"
    if guard.value_field:
        right = words.field(d, guard.value_field, lang)
    elif isinstance(guard.value, list):
        right = listed([str(v) for v in guard.value], lang)
    else:
        right = str(guard.value)
    return f"{name} {op} {right}"
