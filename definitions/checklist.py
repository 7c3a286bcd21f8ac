"""Checklists: the items a routine operation or drill walks through, and the answers given.

A checklist field (issue 20) lists items, each with the expected result in both languages; a person
answers each item pass, fail or n/a, with a note. A note is required for fail and n/a, because an
auditor reading the record later needs to know why an item did not pass. Guards can require every
item answered, and the failed items are what an effect may raise a linked incident for.

Pure: answers are checked here, the engine decides what to do with them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Answer", "ChecklistItem", "all_answered", "answer_errors", "failed_items"]

Result = Literal["pass", "fail", "n/a"]


class ChecklistItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: dict[Literal["zh", "en"], str]
    expected: dict[Literal["zh", "en"], str]


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    result: Result
    note: str = Field(default="", max_length=2000)


def answer_errors(items: list[ChecklistItem], answers: dict[str, Answer]) -> list[tuple[str, str, str]]:
    """(path, en, zh) for each unknown item and each fail/n-a answer without a note."""
    labels = {item.key: item.label for item in items}
    errors: list[tuple[str, str, str]] = []
    for key, answer in answers.items():
        if key not in labels:
            errors.append((key, f"the checklist has no item {key!r}", f"检查单中没有此项：{key}"))
        elif answer.result != "pass" and not answer.note.strip():
            errors.append(
                (
                    key,
                    f"item “{labels[key]['en']}”: a failed or not-applicable answer needs a note",
                    f"检查项“{labels[key]['zh']}”：结果为不通过或不适用时须填写说明",
                )
            )
    return errors


def all_answered(items: list[ChecklistItem], answers: dict[str, Answer]) -> bool:
    return all(item.key in answers for item in items)


def failed_items(items: list[ChecklistItem], answers: dict[str, Answer]) -> list[ChecklistItem]:
    """The items answered fail, in checklist order (each may raise a linked incident)."""
    return [item for item in items if item.key in answers and answers[item.key].result == "fail"]


# --- the checklist as a field's value (definitions/fieldvalues.py) and in guards ----------------------
# A checklist field's value is a mapping item key -> {"result", "note"}. Guards read two counts every
# checklist field has, as if they were fields of their own: `FIELD.unanswered` (items without an answer)
# and `FIELD.failed` (items answered fail) — e.g. `{field: checks.unanswered, op: eq, value: 0}`.
COUNTS: dict[str, tuple[str, str]] = {
    "unanswered": ("unanswered items of", "未作答项数："),
    "failed": ("failed items of", "不通过项数："),
}


def parse_answers(items: list[ChecklistItem], value: object) -> dict[str, dict[str, str] | None]:
    """The answers sent for a checklist field, checked: `{key: {"result", "note"}}`, `{key: "pass"}`
    for short, or `{key: None}` to withdraw an answer. Raises ValueError((en, zh)) naming every item
    that does not exist and every answer that is not pass/fail/n-a or lacks its note."""
    if not isinstance(value, dict):
        raise ValueError(("expected the answers as an object: item → {result, note}", "应为各检查项的结果"))
    answers: dict[str, Answer] = {}
    withdrawn: list[str] = []
    bad: list[tuple[str, str]] = []
    for key, raw in value.items():
        if raw is None:
            withdrawn.append(str(key))
            continue
        given = {"result": raw} if isinstance(raw, str) else raw
        try:
            answers[str(key)] = Answer.model_validate(given)
        except ValueError:
            bad.append(
                (
                    f"item {key!r}: the result is one of pass, fail, n/a (a note of at most 2000 characters)",
                    f"检查项 {key}：结果应为通过（pass）、不通过（fail）或不适用（n/a），说明不超过 2000 字",
                )
            )
    known = {item.key for item in items}
    bad += [(en, zh) for path, en, zh in answer_errors(items, answers)]
    bad += [
        (f"the checklist has no item {k!r}", f"检查单中没有此项：{k}") for k in withdrawn if k not in known
    ]
    if bad:
        raise ValueError(("; ".join(en for en, _ in bad), "；".join(zh for _, zh in bad)))
    parsed: dict[str, dict[str, str] | None] = {k: a.model_dump() for k, a in answers.items()}
    parsed.update(dict.fromkeys(withdrawn))
    return parsed


def merged(current: object, sent: dict[str, dict[str, str] | None]) -> dict[str, dict[str, str]]:
    """The answers after an edit: the ones sent replace those of their items, None withdraws one."""
    answers = dict(current) if isinstance(current, dict) else {}
    for key, answer in sent.items():
        if answer is None:
            answers.pop(key, None)
        else:
            answers[key] = answer
    return answers


def _answers(value: object) -> dict[str, Answer]:
    if not isinstance(value, dict):
        return {}
    return {str(k): Answer.model_validate(v) for k, v in value.items() if isinstance(v, dict)}


def counts(items: list[ChecklistItem], value: object) -> dict[str, int]:
    """The counts guards read: unanswered and failed items."""
    answers = _answers(value)
    return {
        "unanswered": sum(1 for item in items if item.key not in answers),
        "failed": len(failed_items(items, answers)),
    }


def split_count(name: str) -> tuple[str, str] | None:
    """`checks.failed` -> ("checks", "failed"); None when `name` names no count."""
    field, _, count = name.rpartition(".")
    return (field, count) if field and count in COUNTS else None


def failed_summary(items: list[ChecklistItem], value: object) -> str:
    """The failed items in words, in both languages (an incident raised for them carries it)."""
    answers = _answers(value)
    lines = [
        f"- {item.label['zh']} / {item.label['en']}: {answers[item.key].note}"
        for item in failed_items(items, answers)
    ]
    return "\n".join(lines)
