"""Notifications: who receives them (recipient specs) and the values their templates are filled from."""

from __future__ import annotations

from tests.unit.engine.support import BOB, SYSTEM, fire, inline, start
from workflows.contracts import NotificationRecipient as To

NOTES = inline(
    """
key: notes
title: Notes
number_prefix: NOT
owner: process_owner
roles:
  auditor: Auditor
fields:
  - {name: watchers, type: list, item_type: user}
  - {name: owner_group, type: group}
  - {name: builder, type: user}
states:
  - {name: new, category: new, label: {zh: 新建, en: New}}
  - {name: open, category: open, label: {zh: 处理中, en: Open}}
  - {name: closed, category: closed, final: true}
transitions:
  - trigger: open
    from: new
    to: open
    allowed: {roles: [agent]}
    effects:
      - notify:
          template: opened
          to: [requester, assignee, assignment_group, group_lead, actor, "field:watchers", "field:owner_group",
               "field:builder", "user:zed", "group:ops", "role:auditor"]
  - trigger: close
    from: open
    to: closed
    allowed: {roles: [agent]}
    effects:
      - notify: {template: opened, to: [assignee, "field:builder", actor]}
notifications:
  opened:
    subject: {zh: "{{number}} 已打开", en: "{{number}} opened"}
    body: {zh: "{{title}}", en: "{{title}}"}
"""
)


def test_every_kind_of_recipient() -> None:
    engine, _ = start(
        NOTES,
        actor=BOB,
        assignee="ann",
        assignment_group="desk",
        watchers=["wim", "wes"],
        owner_group="owners",
        builder="bill",
    )
    out = fire(engine, BOB, "open")
    [note] = out.notifications
    assert note.recipients == [
        To(kind="user", name="bob"),  # requester
        To(kind="user", name="ann"),  # assignee
        To(kind="group", name="desk"),  # assignment_group
        To(kind="group_lead", name="desk"),  # group_lead: the lead of the assignment group
        To(kind="user", name="bob"),  # actor
        To(kind="user", name="wim"),  # field:watchers, a list of users
        To(kind="user", name="wes"),
        To(kind="group", name="owners"),  # field:owner_group, a group field
        To(kind="user", name="bill"),  # field:builder
        To(kind="user", name="zed"),
        To(kind="group", name="ops"),
        To(kind="role", name="auditor"),
    ]
    assert (note.template, note.key) == ("opened", None)
    assert note.subject == {"zh": "{{number}} 已打开", "en": "{{number}} opened"}
    assert note.body == {"zh": "{{title}}", "en": "{{title}}"}


def test_empty_relations_and_the_engine_itself_receive_nothing() -> None:
    engine, _ = start(NOTES, actor=BOB)
    [note] = fire(engine, BOB, "open").notifications
    assert note.recipients == [
        To(kind="user", name="bob"),
        To(kind="user", name="bob"),
        To(kind="user", name="zed"),
        To(kind="group", name="ops"),
        To(kind="role", name="auditor"),
    ]
    # Nobody to tell: no notification at all.
    assert fire(engine, SYSTEM, "close").notifications == []


def test_a_template_is_filled_from_the_record_and_its_new_state() -> None:
    engine, _ = start(NOTES, actor=BOB, builder="bill")
    [note] = fire(engine, BOB, "open").notifications
    assert note.context == {
        "title": "Printer on fire",
        "requester": "bob",
        "builder": "bill",
        "number": "TST0000001",
        "id": "rec1",
        "state": "open",
        "definition": "notes",
        "state_label": "Open",
        "state_label_zh": "处理中",
    }
    [note] = fire(engine, BOB, "close").notifications
    assert (note.context["state_label"], note.context["state_label_zh"]) == ("closed", "closed")  # no label
