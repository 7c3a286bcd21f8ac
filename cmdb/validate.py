"""Rules of a CMDB model that span its parts, each issue with its path, in zh and en."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from cmdb.issues import Issue
from cmdb.model import CmdbModel

RESERVED = {"name", "class", "status", "id"}  # every CI has these; an attribute may not shadow them


def _hint(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _hint_zh(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"（是否为 '{close[0]}'？）" if close else ""


def check(model: CmdbModel) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, cls in enumerate(model.classes):
        where = f"classes[{i}]"
        if cls.name in seen:
            issues.append(
                Issue(f"{where}.name", f"class '{cls.name}' is declared twice", f"类 '{cls.name}' 重复声明")
            )
        seen.add(cls.name)
        names: set[str] = set()
        for j, attr in enumerate(cls.attributes):
            at = f"{where}.attributes[{j}]"
            if attr.name in RESERVED:
                issues.append(
                    Issue(
                        f"{at}.name",
                        f"'{attr.name}' is built into every CI; choose another attribute name",
                        f"'{attr.name}' 是每个配置项的内置字段，请换一个属性名",
                    )
                )
            if attr.name in names:
                issues.append(
                    Issue(
                        f"{at}.name",
                        f"attribute '{attr.name}' is declared twice in class '{cls.name}'",
                        f"类 '{cls.name}' 中属性 '{attr.name}' 重复声明",
                    )
                )
            names.add(attr.name)
            if attr.type == "enum" and not attr.values:
                issues.append(
                    Issue(
                        f"{at}.values",
                        "an enum attribute lists its values",
                        "枚举属性须列出可选值",
                    )
                )
            if attr.type != "enum" and attr.values:
                issues.append(
                    Issue(
                        f"{at}.values",
                        f"only an enum attribute has values (this one is {attr.type})",
                        f"只有枚举属性才有可选值（此属性类型为 {attr.type}）",
                    )
                )
            if len(set(attr.values)) != len(attr.values):
                issues.append(Issue(f"{at}.values", "an enum value is listed twice", "枚举值重复"))
        if cls.key != "name":
            key = cls.attribute(cls.key)
            if key is None:
                issues.append(
                    Issue(
                        f"{where}.key",
                        f"unknown attribute '{cls.key}'{_hint(cls.key, names)}",
                        f"未知属性 '{cls.key}'{_hint_zh(cls.key, names)}",
                    )
                )
            elif not (key.unique and key.required):
                issues.append(
                    Issue(
                        f"{where}.key",
                        f"the key attribute '{cls.key}' must be unique and required",
                        f"标识属性 '{cls.key}' 必须唯一且必填",
                    )
                )
    relation_names: set[str] = set()
    for i, rel in enumerate(model.relations):
        where = f"relations[{i}]"
        if rel.name in relation_names:
            issues.append(
                Issue(
                    f"{where}.name",
                    f"relationship type '{rel.name}' is declared twice",
                    f"关系类型 '{rel.name}' 重复声明",
                )
            )
        relation_names.add(rel.name)
        for end in ("sources", "targets"):
            for j, name in enumerate(getattr(rel, end)):
                if name not in seen:
                    issues.append(
                        Issue(
                            f"{where}.{end}[{j}]",
                            f"unknown class '{name}'{_hint(name, seen)}",
                            f"未知的类 '{name}'{_hint_zh(name, seen)}",
                        )
                    )
    return issues
