"""Checklist answers: notes required for fail and n/a, unknown items named, all answered (issue 20)."""

from __future__ import annotations

from definitions.checklist import Answer, ChecklistItem, all_answered, answer_errors, failed_items

ITEMS = [
    ChecklistItem(
        key="backup",
        label={"zh": "备份完成", "en": "Backup completed"},
        expected={"zh": "作业成功", "en": "Job succeeded"},
    ),
    ChecklistItem(
        key="disk",
        label={"zh": "磁盘空间", "en": "Disk space"},
        expected={"zh": "使用率低于 80%", "en": "Usage below 80%"},
    ),
]


def test_complete_answers_pass() -> None:
    answers = {"backup": Answer(result="pass"), "disk": Answer(result="n/a", note="no local disk")}
    assert answer_errors(ITEMS, answers) == []
    assert all_answered(ITEMS, answers)
    assert failed_items(ITEMS, answers) == []


def test_fail_without_note_and_unknown_item_are_named_in_both_languages() -> None:
    answers = {"backup": Answer(result="fail"), "cpu": Answer(result="pass")}
    errors = answer_errors(ITEMS, answers)
    assert [path for path, _, _ in errors] == ["backup", "cpu"]
    assert "Backup completed" in errors[0][1] and "备份完成" in errors[0][2]
    assert not all_answered(ITEMS, answers)


def test_failed_items_in_checklist_order() -> None:
    answers = {"disk": Answer(result="fail", note="91%"), "backup": Answer(result="fail", note="timeout")}
    assert [item.key for item in failed_items(ITEMS, answers)] == ["backup", "disk"]
