"""The `ci` field type of the definition language: its values (a CMDB id), where `ci_classes` may
stand, and which values the engine asks the CMDB about (workflows/engine/references.py)."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.fieldvalues import FieldValueError, check_value
from definitions.loader import from_data
from definitions.model import FieldDef
from tests.unit.definitions.test_definitions import mini
from workflows.contracts import ReferencedCi, ResolveReferencesResult
from workflows.engine import references
from workflows.engine.refusals import Refusal


def test_a_ci_value_is_a_positive_number_and_a_list_names_each_ci_once() -> None:
    one = FieldDef(name="service", type="ci")
    assert check_value("ci", 12, one) == 12
    assert check_value("ci", "12", one) == 12  # a form's digits
    for bad in ("srv-01", 0, -3, True, 1.5, "", {"id": 1}):
        with pytest.raises(FieldValueError) as raised:
            check_value("ci", bad, one)
        assert raised.value.zh.startswith("应为配置项编号")
    many = FieldDef(name="cis", type="list", item_type="ci")
    assert check_value("list", [3, "4", 3], many) == [3, 4]


def _with_field(**field: Any) -> list[str]:
    data = mini()
    data["fields"].append(field)
    return [str(i) for i in from_data(data).issues]


def test_ci_classes_stand_on_ci_fields_only() -> None:
    assert _with_field(name="service", type="ci", ci_classes=["business_service"]) == []
    assert _with_field(name="cis", type="list", item_type="ci", ci_classes=["server", "database"]) == []
    found = _with_field(name="host", type="string", ci_classes=["server"])
    assert any("ci_classes: a non-empty list of CMDB classes, on a ci field" in i for i in found), found
    found = _with_field(name="service", type="ci", ci_classes=[])
    assert any("ci_classes" in i for i in found), found


def test_the_engine_asks_for_the_cis_being_set_and_refuses_each_wrong_one_by_its_rule() -> None:
    data = mini()
    data["fields"] += [
        {
            "name": "service",
            "type": "ci",
            "ci_classes": ["business_service"],
            "label": {"zh": "服务", "en": "Service"},
        },
        {"name": "cis", "type": "list", "item_type": "ci", "label": {"zh": "配置项", "en": "CIs"}},
    ]
    definition = from_data(data).definition
    assert definition is not None
    wanted = references.wanted_in(definition, {"service": 7, "cis": [1, "2"], "title": "x"})
    assert wanted == {"service": [7], "cis": [1, 2]}
    ask = references.lookup(definition, wanted)
    assert ask.cis == [1, 2, 7] and ask.ci_classes == ["business_service"] and ask.refs == []
    found = ResolveReferencesResult(
        cis=[
            ReferencedCi(
                id=1, name="srv-01", class_name="server", class_label={"zh": "服务器", "en": "Server"}
            ),
            ReferencedCi(
                id=7, name="db", class_name="database", class_label={"zh": "数据库", "en": "Database"}
            ),
        ],
        class_labels={"business_service": {"zh": "业务服务", "en": "Business service"}},
    )
    with pytest.raises(Refusal) as raised:
        references.check(definition, wanted, found, "en")
    assert raised.value.errors == [
        {
            "path": "fields.service",
            "message": "Service takes a configuration item of class “Business service”; “db” is a “Database”",
        },
        {
            "path": "fields.cis",
            "message": "CIs must name a configuration item of the CMDB: there is no configuration item 2",
        },
    ]
    retired = ResolveReferencesResult(
        cis=[ReferencedCi(id=1, name="srv-01", class_name="server", retired=True)]
    )
    with pytest.raises(Refusal) as raised:
        references.check(definition, {"cis": [1]}, retired, "zh")
    assert raised.value.errors == [
        {"path": "fields.cis", "message": "“配置项”不能引用已退役的配置项“srv-01”"}
    ]
    # The read model's CI index: what the fields name now; nothing for a definition without ci fields.
    assert references.cis_named(definition, {"service": 7, "cis": [1, 2]}) == {"service": [7], "cis": [1, 2]}
    plain = from_data(mini()).definition
    assert plain is not None and references.cis_named(plain, {"title": "x"}) is None
