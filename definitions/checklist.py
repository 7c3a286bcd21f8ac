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
