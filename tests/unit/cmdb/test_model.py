"""The CMDB model language: the shipped default is valid, and every rule names its path in zh and en."""

from __future__ import annotations

from cmdb.loader import default_source, load_text
from cmdb.model import Attribute, Label
from cmdb.values import Bad, normalise

BASE = """
title: {zh: 模型, en: Model}
classes:
  - name: host
    label: {zh: 主机, en: Host}
    key: hostname
    attributes:
      - {name: hostname, label: {zh: 主机名, en: Hostname}, required: true, unique: true}
      - {name: tier, type: enum, values: [gold, silver], label: {zh: 级别, en: Tier}}
relations:
  - name: runs_on
    label: {zh: 运行于, en: runs on}
    inverse: {zh: 承载, en: hosts}
    sources: [host]
    targets: [host]
"""


def issues(text: str) -> dict[str, tuple[str, str]]:
    return {i.path: (i.en, i.zh) for i in load_text(text).issues}


def test_the_shipped_default_model_is_valid_and_covers_the_seeds_objects() -> None:
    result = load_text(default_source())
    assert result.ok, result.issues
    assert result.model is not None
    names = {c.name for c in result.model.classes}
    assert {
        "business_service",
        "information_system",
        "application",
        "server",
        "database",
        "network_device",
    } <= names
    assert {c.name for c in result.model.classes if c.business_service} == {"business_service"}
    assert all(r.inverse.zh and r.inverse.en for r in result.model.relations)
    assert "8.3.5" in default_source() and "11.1" in default_source()


def test_a_valid_model_loads() -> None:
    assert load_text(BASE).ok


def test_semantic_rules_name_their_paths() -> None:
    text = (
        BASE.replace("key: hostname", "key: hostnme")
        .replace("targets: [host]", "targets: [hots]")
        .replace("values: [gold, silver]", "values: [gold, gold]")
    )
    found = issues(text)
    assert found["classes[0].key"] == (
        "unknown attribute 'hostnme' (did you mean 'hostname'?)",
        "未知属性 'hostnme'（是否为 'hostname'？）",
    )
    assert found["relations[0].targets[0]"][0] == "unknown class 'hots' (did you mean 'host'?)"
    assert found["classes[0].attributes[1].values"][1] == "枚举值重复"


def test_a_key_must_be_unique_and_required_and_reserved_names_are_refused() -> None:
    text = BASE.replace("required: true, unique: true", "required: true").replace(
        "name: tier", "name: status"
    )
    found = issues(text)
    assert "must be unique and required" in found["classes[0].key"][0]
    assert "built into every CI" in found["classes[0].attributes[1].name"][0]


def test_structure_errors_and_bad_yaml_have_paths() -> None:
    assert "classes[0].label" in issues(BASE.replace("    label: {zh: 主机, en: Host}\n", "", 1))
    assert list(issues("title: [")) == ["line 1, column 9"]
    assert "classes[0].attributes[0].type" in issues(
        BASE.replace("{name: hostname,", "{name: hostname, type: float,")
    )


def test_attribute_values_are_checked_by_type() -> None:
    label = Label(zh="x", en="x")
    assert normalise(Attribute(name="n", type="integer", label=label), "12") == 12
    assert normalise(Attribute(name="b", type="boolean", label=label), "yes") is True
    assert normalise(Attribute(name="i", type="ip", label=label), "10.0.0.1") == "10.0.0.1"
    assert normalise(Attribute(name="d", type="date", label=label), "2026-12-04") == "2026-12-04"
    for kind, value in (
        ("integer", True),
        ("integer", 2**60),
        ("ip", "10.0.0.300"),
        ("url", "javascript:x"),
        ("date", "04/12/2026"),
    ):
        try:
            normalise(Attribute(name="x", type=kind, label=label), value)  # type: ignore[arg-type]
        except Bad as bad:
            assert bad.en and bad.zh
        else:
            raise AssertionError((kind, value))
