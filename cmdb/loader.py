"""Reading a CMDB model from YAML within the definitions' limits, with every issue as a path.

The YAML reader is the process definitions' (`definitions.loader.parse_yaml`): duplicate keys, depth,
alias expansion and size are refused the same way before anything is built.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from cmdb.issues import Issue
from cmdb.model import CmdbModel
from cmdb.validate import check
from definitions.loader import parse_yaml


@dataclass
class ModelResult:
    model: CmdbModel | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.model is not None and not self.issues


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def from_data(data: Any) -> ModelResult:
    try:
        model = CmdbModel.model_validate(data)
    except ValidationError as exc:
        issues = []
        for e in exc.errors():
            msg = str(e["msg"]).removeprefix("Value error, ")
            issues.append(Issue(_path(e["loc"]), msg, f"不符合模型语言：{msg}"))
        return ModelResult(None, issues)
    return ModelResult(model, check(model))


def load_text(text: str) -> ModelResult:
    data, problems = parse_yaml(text)
    if problems:
        return ModelResult(None, [Issue(p.path, p.message, f"YAML 无法读取：{p.message}") for p in problems])
    return from_data(data)


def model_hash(model: CmdbModel) -> str:
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_source() -> str:
    """The shipped default model (cmdb/library/default.yaml)."""
    return resources.files("cmdb").joinpath("library", "default.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=16)
def parsed(source: str) -> CmdbModel:
    """A stored (hence valid) model source, parsed once per process."""
    result = load_text(source)
    if result.model is None or result.issues:
        raise ValueError("a stored CMDB model no longer parses: " + "; ".join(map(str, result.issues)))
    return result.model
