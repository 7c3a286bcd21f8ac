"""Checklist fields and attachments in the engine (issue 20): answers checked item by item and merged,
guards on a checklist's counts choosing what a failed item does, the failed items in words for the
incident raised, and `requires_attachment` refusing a transition by the kind's label, in zh and en."""

from __future__ import annotations

import pytest
import yaml

from definitions.loader import from_data
from tests.unit.engine.support import BOB, T0, inline, start
from workflows.contracts import (
    Actor,
    AddAttachmentInput,
    Attachment,
    FireTransitionInput,
    UpdateFieldsInput,
)
from workflows.engine import Refusal

SOURCE = """
key: routine
title: {zh: 例行操作, en: Routine operation}
number_prefix: RTN
owner: process_owner
attachment_kinds:
  log: {zh: 操作日志, en: Operation log}
fields:
  - name: checks
    type: checklist
    label: {zh: 检查单, en: Checklist}
    items:
      - {key: backup, label: {zh: 备份完成, en: Backup done}, expected: {zh: 作业成功, en: Job succeeded}}
      - {key: disk, label: {zh: 磁盘空间, en: Disk space}, expected: {zh: 低于 80%, en: Below 80%}}
  - {name: anomaly, type: text}
states:
  - {name: open, category: open}
  - {name: anomalous, category: open}
  - {name: done, category: closed, final: true}
transitions:
  - trigger: complete
    from: open
    to: done
    allowed: {roles: [agent]}
    requires_attachment: [log]
    guard: {all: [{field: checks.unanswered, op: eq, value: 0}, {field: checks.failed, op: eq, value: 0}]}
  - trigger: complete
    from: open
    to: anomalous
    allowed: {roles: [agent]}
    guard: {field: checks.failed, op: gt, value: 0}
    effects:
      - set: {anomaly: "$failed:checks"}
  - {trigger: close, from: anomalous, to: done, allowed: {roles: [agent]}}
"""
BOB_ZH = Actor(username="bob", roles=["agent"], groups=["desk"], language="zh")


def attachment(kind: str | None = "log", n: int = 1) -> Attachment:
    return Attachment(
        id=f"{n:032x}", kind=kind, filename="log.txt", content_type="text/plain", size=3, sha256="a" * 64
    )


def test_answers_merge_and_unknown_item_is_refused_by_name() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    engine.update_fields(UpdateFieldsInput(actor=BOB, fields={"checks": {"backup": "pass"}}), T0)
    engine.update_fields(
        UpdateFieldsInput(actor=BOB, fields={"checks": {"disk": {"result": "n/a", "note": "no disk"}}}), T0
    )
    assert engine.record.fields["checks"] == {
        "backup": {"result": "pass", "note": ""},
        "disk": {"result": "n/a", "note": "no disk"},
    }
    seq = engine.record.seq
    with pytest.raises(Refusal) as refused:
        engine.check_update(UpdateFieldsInput(actor=BOB_ZH, fields={"checks": {"cpu": "pass"}}))
    assert "检查单中没有此项：cpu" in refused.value.message
    with pytest.raises(Refusal) as refused:
        engine.check_update(UpdateFieldsInput(actor=BOB, fields={"checks": {"disk": "fail"}}))
    assert "needs a note" in refused.value.message
    assert engine.record.seq == seq  # nothing written


def test_a_failed_item_takes_the_anomaly_variant_with_the_items_in_words() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    checks = {"backup": "pass", "disk": {"result": "fail", "note": "91% used"}}
    engine.fire(FireTransitionInput(actor=BOB, trigger="complete", fields={"checks": checks}), T0)
    assert engine.record.state == "anomalous"
    assert engine.record.fields["anomaly"] == "- 磁盘空间 / Disk space: 91% used"


def test_unanswered_items_refuse_by_the_guard_in_words() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    with pytest.raises(Refusal) as refused:
        engine.check_fire(FireTransitionInput(actor=BOB_ZH, trigger="complete", fields={}))
    assert "未作答项数：检查单" in refused.value.message


def test_requires_attachment_names_the_kind_then_passes_once_attached() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    engine.update_fields(
        UpdateFieldsInput(actor=BOB, fields={"checks": {"backup": "pass", "disk": "pass"}}), T0
    )
    for actor, words in (
        (BOB_ZH, "须先上传附件：操作日志"),
        (BOB, "needs an attachment first: Operation log"),
    ):
        with pytest.raises(Refusal) as refused:
            engine.check_fire(FireTransitionInput(actor=actor, trigger="complete"))
        assert words in refused.value.message
    engine.attach(AddAttachmentInput(actor=BOB, attachment=attachment()), T0)
    assert engine.record.fields.get("anomaly") is None
    engine.fire(FireTransitionInput(actor=BOB, trigger="complete"), T0)
    assert engine.record.state == "done"


def test_attachment_refusals_unknown_kind_duplicate_outsider_closed() -> None:
    engine, _ = start(inline(SOURCE), actor=BOB)
    with pytest.raises(Refusal) as refused:
        engine.check_attach(AddAttachmentInput(actor=BOB_ZH, attachment=attachment("drill_report")))
    assert "没有“drill_report”这类附件（可用类型：操作日志）" in refused.value.message
    engine.attach(AddAttachmentInput(actor=BOB, attachment=attachment()), T0)
    with pytest.raises(Refusal):
        engine.check_attach(AddAttachmentInput(actor=BOB, attachment=attachment()))
    stranger = Actor(username="eve", roles=["requester"])
    with pytest.raises(Refusal) as refused:
        engine.check_attach(AddAttachmentInput(actor=stranger, attachment=attachment(n=2)))
    assert "may not attach" in refused.value.message


def test_validation_names_bad_checklists_and_unknown_kinds() -> None:
    result = from_data(yaml.safe_load(SOURCE.replace("[log]", "[report]")))
    assert any("unknown attachment kind 'report'" in str(i) for i in result.issues)
    result = from_data(yaml.safe_load(SOURCE.replace("    items:\n", "    old_items:\n", 1)))
    assert not result.ok
