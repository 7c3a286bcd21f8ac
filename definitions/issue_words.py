"""The words of a definition's issues in Chinese: each English message template with its parameters,
and the Chinese template with the same parameters.

The validators (validate*.py, the models' own checks, limits.py, the loader, pydantic's type errors)
word an issue in English from one of these templates. `chinese(message)` finds the template an English
message was made from, takes its parameters back out, and fills the Chinese template with them; a
parameter that is itself a message (a hint, a nested error) is put in Chinese the same way. Names from
the definition (states, fields, roles) stay as written. A test (tests/unit/definitions/
test_issue_words.py) finds every message template in the validators' code and fails when one has no
Chinese here, so a new check cannot ship English-only.
"""

from __future__ import annotations

import re
from functools import cache

# (English template, Chinese template). `{name}` is a parameter: in English it matches any text (the
# shortest that makes the whole message match). More specific templates come before general ones.
TEMPLATES: tuple[tuple[str, str], ...] = (
    # hints appended to a message
    (" (did you mean '{name}'?)", "（是否指 '{name}'？）"),
    # validate.py
    ("unknown state '{name}'{hint}", "未知状态 '{name}'{hint}"),
    ("unknown field '{name}'{hint}", "未知字段 '{name}'{hint}"),
    ("unknown calendar '{name}'{hint}", "未知日历 '{name}'{hint}"),
    ("unknown shared calendar '{name}'{hint}", "未知共享日历 '{name}'{hint}"),
    ("unknown role '{name}'{hint}", "未知角色 '{name}'{hint}"),
    ("unknown trigger '{name}'{hint}", "未知触发动作 '{name}'{hint}"),
    ("unknown notification template '{name}'", "未知通知模板 '{name}'"),
    ("unknown SLA clock '{name}'", "未知 SLA 计时 '{name}'"),
    ("unknown placeholder '{name}'", "未知占位符 '{name}'"),
    (
        "unknown relation '{name}' (requester, assignee, assignment_group or field:FIELD)",
        "未知关系 '{name}'（可用 requester、assignee、assignment_group 或 field:字段名）",
    ),
    (
        "unknown exclusion '{name}' (requester, assignee or field:FIELD)",
        "未知排除项 '{name}'（可用 requester、assignee 或 field:字段名）",
    ),
    (
        "field '{name}' is a {kind} field; expected a {expected} field",
        "字段 '{name}' 是 {kind} 字段；应为 {expected} 字段",
    ),
    (
        "'{name}' is a {kind} field; expected a {expected} field",
        "'{name}' 是 {kind} 字段；应为 {expected} 字段",
    ),
    ("duplicate field '{name}'", "字段 '{name}' 重复"),
    ("duplicate state '{name}'", "状态 '{name}' 重复"),
    ("duplicate approval step '{name}'", "审批步骤 '{name}' 重复"),
    ("duplicate SLA clock '{name}'", "SLA 计时 '{name}' 重复"),
    ("duplicate threshold {at}%", "阈值 {at}% 重复"),
    ("duplicate {what} '{name}'", "{what} '{name}' 重复"),
    ("an enum field needs a non-empty list of values", "枚举字段需要非空的取值列表"),
    (
        "a checklist field needs its items; only checklist fields take items",
        "检查单字段需要列出检查项；只有检查单字段可以设置检查项",
    ),
    ("unknown attachment kind '{name}' ({known})", "未知附件类别 '{name}'（已声明的类别：{known}）"),
    (
        "the requester's form leaves out '{name}', which a new record requires",
        "申请人表单缺少新记录必填的字段 '{name}'",
    ),
    (
        "requesters may not start this process (start_roles)",
        "申请人不能发起此流程（start_roles），无需申请人表单",
    ),
    ("only enum fields take values (this is a {kind} field)", "只有枚举字段可以设置取值（这是 {kind} 字段）"),
    ("a list field needs an item_type other than list", "列表字段需要 list 以外的 item_type"),
    ("a reference field names the definition it points at", "引用字段须写明它指向的流程定义"),
    (
        "a non-empty list of the referenced process's states, on a reference field only",
        "须为被引用流程状态的非空列表，且只用于引用字段",
    ),
    (
        "a non-empty list of CMDB classes, on a ci field (or a list of ci) only",
        "须为 CMDB 类别的非空列表，且只用于 ci 字段（或 ci 列表）",
    ),
    ("built-in field '{name}' must be of type {kind}", "内置字段 '{name}' 的类型必须是 {kind}"),
    ("'{value}' is not one of the values", "'{value}' 不是取值之一"),
    ("the first state is the initial state and cannot be final", "第一个状态是初始状态，不能是终止状态"),
    (
        "no final state: mark at least one state 'final: true'",
        "没有终止状态：请至少把一个状态标为 'final: true'",
    ),
    ("final state '{name}' should be in category closed", "终止状态 '{name}' 应属于 closed 类别"),
    ("state '{name}' is in category closed but not final", "状态 '{name}' 属于 closed 类别，但不是终止状态"),
    ("'{name}' is a final state: no field changes there", "'{name}' 是终止状态：在那里不能修改字段"),
    ("'{name}' is a final state: nothing can leave it", "'{name}' 是终止状态：不能从它流转出去"),
    (
        "empty: nobody could change these fields (use a state's readonly)",
        "为空：没有人能修改这些字段（如需只读，请用状态的 readonly）",
    ),
    ("'{op}' cannot compare {kind} field '{name}'", "'{op}' 不能比较 {kind} 字段 '{name}'"),
    ("'{value}' is not a value of enum field '{name}'", "'{value}' 不是枚举字段 '{name}' 的取值"),
    ("'{value}' is not a value of '{name}'", "'{value}' 不是 '{name}' 的取值"),
    ("'{name}' must be a bool field", "'{name}' 必须是布尔字段"),
    ("'{name}' must be a {kind} field", "'{name}' 必须是 {kind} 字段"),
    ("'{name}' is not one of the levels", "'{name}' 不是级别之一"),
    ("'{name}' is listed twice", "'{name}' 列出了两次"),
    ("CI changes apply with a transition, not an SLA threshold", "配置项变更随流转应用，不能由 SLA 阈值触发"),
    ("an outage is recorded with a transition, not an SLA threshold", "中断随流转记录，不能由 SLA 阈值触发"),
    ("'fire' is only allowed in SLA threshold actions", "'fire' 只能用于 SLA 阈值动作"),
    ("unknown trigger '{name}'", "未知触发动作 '{name}'"),
    (
        "empty: nobody could fire it (omit 'allowed' for engine-only)",
        "为空：没有人能执行它（仅由引擎执行时请省略 'allowed'）",
    ),
    ("a timed transition needs a positive duration", "定时流转需要一个正的时长"),
    ("a timed transition names its source states explicitly", "定时流转须明确写出来源状态"),
    ("only timed transitions (with 'after') take a calendar", "只有定时流转（带 'after'）可以指定日历"),
    (
        "creates a record of this same process without anyone acting (a timed transition, an SLA threshold "
        "or what it fires): every new record would create another, forever",
        "无人操作就会新建本流程的记录（定时流转、SLA 阈值或其触发的动作）：每条新记录都会再建一条，永无止境",
    ),
    (
        "ambiguous trigger '{name}' from state '{state}': transitions[{index}] has no guard, so this one "
        "can never fire",
        "触发动作 '{name}' 在状态 '{state}' 有歧义：transitions[{index}] 没有条件，因此这一条永远不会执行",
    ),
    (
        "state '{name}' is unreachable from the initial state '{start}'",
        "从初始状态 '{start}' 无法到达状态 '{name}'",
    ),
    (
        "state '{name}' is not final and has no transition out of it",
        "状态 '{name}' 不是终止状态，却没有流出的流转",
    ),
    ("no final state can be reached from '{name}'", "从 '{name}' 无法到达任何终止状态"),
    (
        "no priority for impact {impact}, urgency {urgency}",
        "影响度 {impact}、紧急度 {urgency} 没有对应的优先级",
    ),
    # validate_steps.py
    ("an approval cannot wait in final state '{name}'", "审批不能停留在终止状态 '{name}'"),
    ("on_expiry 'fire' needs an expiry_trigger", "on_expiry 为 'fire' 时需要 expiry_trigger"),
    ("reminders need a deadline", "提醒需要一个期限"),
    ("a reminder must come before the deadline", "提醒必须在期限之前"),
    ("on_expiry '{name}' needs a deadline", "on_expiry 为 '{name}' 时需要期限"),
    ("escalation on expiry needs escalate_to recipients", "到期升级需要 escalate_to 接收人"),
    ("no approvers: name users, groups, roles or fields", "没有审批人：请写明用户、组、角色或字段"),
    ("policy quorum needs 'quorum'", "quorum 规则需要 'quorum'"),
    ("a quorum must be at least 1", "法定人数至少为 1"),
    (
        "impossible quorum: {needed} approvals needed but only {named} approver(s) named",
        "法定人数无法达到：需要 {needed} 个批准，但只指定了 {named} 位审批人",
    ),
    (
        "'quorum' only applies to policy quorum (policy is {policy})",
        "'quorum' 只适用于 quorum 规则（当前规则为 {policy}）",
    ),
    ("policy percentage needs a percentage in (0, 100]", "percentage 规则需要 (0, 100] 之间的百分比"),
    (
        "'percentage' only applies to policy percentage (policy is {policy})",
        "'percentage' 只适用于 percentage 规则（当前规则为 {policy}）",
    ),
    ("trigger '{name}' cannot fire from state '{state}'", "触发动作 '{name}' 不能在状态 '{state}' 执行"),
    ("state '{name}' is in both {a} and {b}", "状态 '{name}' 同时出现在 {a} 和 {b} 中"),
    (
        "no target for {field} {value} (add them or a default_target)",
        "{field} {value} 没有目标（请补上，或设置 default_target）",
    ),
    ("a target must be positive", "目标必须为正数"),
    (
        "a date comparison needs a datetime field; '{name}' is a {kind} field",
        "日期比较需要日期时间字段；'{name}' 是 {kind} 字段",
    ),
    (
        "a date comparison needs a date (ISO 8601), a date field, or 'now'",
        "日期比较需要日期（ISO 8601）、日期字段或 'now'",
    ),
    ("not a guard: {error}", "不是有效的条件：{error}"),
    # loader.py, limits.py
    ("invalid YAML: {problem}", "YAML 格式错误：{problem}"),
    ("duplicate key '{name}'", "键 '{name}' 重复"),
    # PyYAML's own problems, the common ones
    ("mapping values are not allowed here", "此处不能出现映射值（冒号后缺空格，或缩进有误？）"),
    ("could not find expected ':'", "找不到应有的 ':'"),
    ("did not find expected key", "找不到应有的键（缩进有误？）"),
    ("did not find expected '-' indicator", "找不到应有的 '-'（列表缩进有误？）"),
    ("found character '{char}' that cannot start any token", "字符 '{char}' 不能出现在这里"),
    # (a literal brace: plain in the English, which is matched, doubled in the Chinese, which is formatted)
    ("expected ',' or '}', but got '{token}'", "应为 ',' 或 '}}'，实际为 '{token}'"),
    ("expected ',' or ']', but got '{token}'", "应为 ',' 或 ']'，实际为 '{token}'"),
    ("<stream end>", "文本末尾"),
    ("found unexpected end of stream", "文本意外结束（引号或括号未闭合？）"),
    ("found undefined alias '{name}'", "未定义的别名 '{name}'"),
    ("a key must be a plain value, not a list or mapping", "键必须是普通值，不能是列表或映射"),
    (
        "a definition is a YAML mapping (key: ..., states: ..., transitions: ...)",
        "定义须为 YAML 映射（key: ...、states: ...、transitions: ...）",
    ),
    (
        "the definition is {size} bytes as a record carries it; at most {limit} bytes are accepted (every "
        "record's workflow input holds its definition, and Temporal refuses inputs over 2 MB)",
        "记录携带的定义为 {size} 字节；最多接受 {limit} 字节"
        "（每条记录的工作流输入都包含其定义，Temporal 拒绝超过 2 MB 的输入）",
    ),
    (
        "the definition is {size} bytes; at most {limit} bytes are accepted",
        "定义为 {size} 字节；最多接受 {limit} 字节",
    ),
    ("an alias refers to the collection that contains it", "别名引用了包含它自身的集合"),
    ("collections nest more than {depth} levels deep", "集合嵌套超过 {depth} 层"),
    (
        "aliases expand this to {values} values and {size} bytes of text; at most {max_values} values and "
        "{max_size} bytes are accepted",
        "别名将其展开为 {values} 个值、{size} 字节文本；最多接受 {max_values} 个值、{max_size} 字节",
    ),
    ("aliases nest this more than {depth} levels deep", "别名嵌套超过 {depth} 层"),
    # the models' own checks (model.py, model_parts.py)
    (
        "a guard is either a comparison (field/op) or one of all/any/not, not both",
        "条件要么是比较（field/op），要么是 all/any/not 之一，不能两者都有",
    ),
    ("a guard takes only one of all/any/not", "条件只能取 all/any/not 之一"),
    ("a comparison needs both 'field' and 'op'", "比较需要同时写明 'field' 和 'op'"),
    ("operator '{op}' needs 'value' or 'value_field'", "运算符 '{op}' 需要 'value' 或 'value_field'"),
    (
        "an offset moves a date to compare: operator '{op}' compares no dates",
        "偏移用于移动要比较的日期：运算符 '{op}' 不比较日期",
    ),
    ("an effect takes exactly one of {keys}; got {given}", "一个效果只能取 {keys} 之一；实际为 {given}"),
    (
        "an offset takes exactly one of days, hours, working_days, working_hours",
        "偏移只能取 days、hours、working_days、working_hours 之一",
    ),
    ("{unit} count in a calendar: name it with `calendar`", "{unit} 按日历计算：请用 `calendar` 指定日历"),
    # calendars (calendar.py, shared_calendars.py)
    (
        "invalid time in period {period}: {hh}:{mm} (expected 00:00 to 24:00)",
        "时段 {period} 中的时间无效：{hh}:{mm}（应在 00:00 到 24:00 之间）",
    ),
    (
        "invalid period {period}: expected 'HH:MM-HH:MM', e.g. '09:00-18:00'",
        "时段 {period} 无效：应为 'HH:MM-HH:MM'，例如 '09:00-18:00'",
    ),
    ("invalid period {period}: start must be before end", "时段 {period} 无效：开始必须早于结束"),
    ("overlapping periods {a} and {b}", "时段 {a} 与 {b} 重叠"),
    ("date {date} is listed both in holidays and in workdays", "日期 {date} 同时列在节假日和调休工作日中"),
    (
        "calendar has no working period in the week (set weekly hours or always: true)",
        "日历一周内没有工作时段（请设置 weekly 工作时间或 always: true）",
    ),
    (
        "workdays are listed but have no hours: set workday_hours or give Monday working hours",
        "列出了调休工作日但没有工作时间：请设置 workday_hours 或给出周一的工作时间",
    ),
    (
        "unknown timezone {name}: expected an IANA name such as 'Asia/Shanghai'",
        "未知时区 {name}：应为 IANA 名称，例如 'Asia/Shanghai'",
    ),
    (
        "a shared calendar reference takes no setting but label (remove {keys})",
        "引用共享日历时只能设置 label（请删除 {keys}）",
    ),
    ("weekly.{day}: {error}", "weekly.{day}：{error}"),
    ("year {year} is outside 2000–2100", "年份 {year} 不在 2000–2100 之间"),
    ("label needs a text in {langs}", "label 需要 {langs} 的文本"),
    ("the holidays package knows no country {code}", "holidays 包中没有国家 {code}"),
    ("{file} names its calendar {name}, not {expected}", "{file} 中的日历名为 {name}，而不是 {expected}"),
    # pydantic's own type errors (the loader drops its "Value error, " prefix)
    ("Field required", "必填"),
    ("Extra inputs are not permitted", "不认识这个键（拼写有误，或放错了位置？）"),
    ("Input should be a valid string", "应为文本"),
    ("Input should be a valid integer{rest}", "应为整数"),
    ("Input should be a valid number{rest}", "应为数字"),
    ("Input should be a valid boolean{rest}", "应为 true 或 false"),
    ("Input should be a valid list", "应为列表"),
    ("Input should be a valid dictionary{rest}", "应为映射（key: value）"),
    ("Input should be a valid date{rest}", "应为日期（ISO 8601）"),
    ("Input should be a valid datetime{rest}", "应为日期时间（ISO 8601）"),
    ("Input should be a valid duration{rest}", "应为时长（ISO 8601，例如 PT4H）"),
    ("Input should be greater than or equal to {n}", "应大于或等于 {n}"),
    ("Input should be greater than {n}", "应大于 {n}"),
    ("Input should be less than or equal to {n}", "应小于或等于 {n}"),
    ("Input should be less than {n}", "应小于 {n}"),
    ("Input should be {choices}", "应为 {choices}"),
    ("String should match pattern '{pattern}'", "应符合格式 '{pattern}'"),
    ("String should have at least {n} character{s}", "至少 {n} 个字符"),
    ("String should have at most {n} character{s}", "至多 {n} 个字符"),
    ("List should have at least {n} item{rest}", "至少 {n} 项"),
    ("List should have at most {n} item{rest}", "至多 {n} 项"),
    ("Dictionary should have at least {n} item{rest}", "至少 {n} 项"),
)

_PARAM = re.compile(r"\{(\w+)\}")


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for en, zh in TEMPLATES:
        pattern, at = "", 0
        for match in _PARAM.finditer(en):
            pattern += re.escape(en[at : match.start()]) + f"(?P<{match[1]}>.*?)"
            at = match.end()
        out.append((re.compile(pattern + re.escape(en[at:]) + r"\Z", re.DOTALL), zh))
    return tuple(out)


def chinese(message: str) -> str:
    """The Chinese of an English issue message made from one of the templates (else the message)."""
    for pattern, zh in _compiled():
        match = pattern.match(message)
        if match is None:
            continue
        values = {
            name: chinese(value) if value and value != message else value
            for name, value in match.groupdict().items()
        }
        if values.get("choices"):
            values["choices"] = _or(values["choices"])
        return zh.format(**values)
    return message


def _or(text: str) -> str:
    """Lists of choices in pydantic's words ("'a', 'b' or 'c'") in Chinese punctuation."""
    return text.replace("' or '", "'、'").replace("', '", "'、'")


def known(message: str) -> bool:
    """Whether the message was made from one of the templates."""
    return any(pattern.match(message) for pattern, _ in _compiled())


def say(message: str, lang: str, zh: str | None = None) -> str:
    """The message in the reader's language (`zh` when the check worded it in Chinese itself)."""
    if not lang.startswith("zh"):
        return message
    return zh or chinese(message)
