"""Reading definitions from YAML text into models, with every error as `path: message`."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from definitions import limits
from definitions.model import Definition
from definitions.validate import Issue, check


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: YAML would silently keep the last one."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (dict, list)):  # `{a: 1}: x` is valid YAML, but no definition has such keys
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(error: Any) -> str:
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


@dataclass
class LoadResult:
    definition: Definition | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.definition is not None and not self.issues


def parse_yaml(text: str) -> tuple[Any, list[Issue]]:
    """The YAML's data, read within the limits of definitions/limits.py, or the issues that stopped it."""
    try:
        limits.check_source(text)
        limits.check_nesting(text, _UniqueKeyLoader)
        loader = _UniqueKeyLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                data = None
            else:
                limits.check_expansion(root)
                data = loader.construct_document(root)
        finally:
            loader.dispose()
    except limits.LimitExceeded as exc:
        return None, [Issue(exc.where, exc.message)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "yaml"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Issue(where, f"invalid YAML: {problem}")]
    if not isinstance(data, dict):
        return None, [Issue("", "a definition is a YAML mapping (key: ..., states: ..., transitions: ...)")]
    return data, []


def from_data(data: Any) -> LoadResult:
    """Validate already-parsed data (YAML or JSON) into a definition plus every semantic issue."""
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        issues = [Issue(_path(e["loc"]), _message(e)) for e in exc.errors()]
        return LoadResult(None, issues)
    issues = check(definition)
    try:
        limits.check_pinned_size(len(_canonical_json(definition)))
    except limits.LimitExceeded as exc:
        issues.append(Issue(exc.where, exc.message))
    return LoadResult(definition, issues)


def load_text(text: str) -> LoadResult:
    data, issues = parse_yaml(text)
    if issues:
        return LoadResult(None, issues)
    return from_data(data)


def load_file(path: Path) -> LoadResult:
    return load_text(path.read_text(encoding="utf-8"))


def library_files() -> list[Path]:
    """The shipped ITIL library, as files inside the installed package."""
    folder = resources.files("definitions").joinpath("library")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


class PinnedDefinition(BaseModel):
    """A definition frozen for one record: what a running workflow interprets, whatever gets published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    version: int
    hash: str
    definition: Definition


class _PinnedCache:
    """The most recently used pinned definitions, by hash. Only a definition whose content matches
    its hash is kept, so a mislabelled one can never stand in for the real one. Definitions are
    read-only once pinned (the engine never changes them), which is what makes sharing safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, PinnedDefinition] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> PinnedDefinition | None:
        if not isinstance(key, str):
            return None
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def remember(self, pinned: PinnedDefinition) -> None:
        if pinned.hash in self._items or definition_hash(pinned.definition) != pinned.hash:
            return
        with self._lock:
            self._items[pinned.hash] = pinned
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_PINNED = _PinnedCache(size=256)


def shared_pinned(key: str, version: int, digest: str) -> PinnedDefinition | None:
    """The decoded pinned definition with this identity, if this process holds one."""
    cached = _PINNED.get(digest)
    return cached if cached is not None and (cached.key, cached.version) == (key, version) else None


def share_pinned(pinned: PinnedDefinition) -> None:
    """Offer a pinned definition for sharing (kept only if its content matches its hash)."""
    _PINNED.remember(pinned)


def _reuse_decoded(data: Any, handler: ValidatorFunctionWrapHandler) -> PinnedDefinition:
    """Every workflow start, continue-as-new and update carries the whole pinned definition, and
    building its models again each time was the largest single cost of starting a record. A pinned
    definition never changes (its hash says what it is), so the decoded one is shared."""
    if isinstance(data, dict):
        cached = _PINNED.get(data.get("hash"))
        if cached is not None and cached.key == data.get("key") and cached.version == data.get("version"):
            return cached
    pinned: PinnedDefinition = handler(data)
    _PINNED.remember(pinned)
    return pinned


# Use this type for a pinned definition inside a message (a field, not a model's own __init__, so a
# cached instance can be returned in place of a new one).
SharedPinnedDefinition = Annotated[PinnedDefinition, WrapValidator(_reuse_decoded)]


def _canonical_json(definition: Definition) -> bytes:
    canonical = json.dumps(
        definition.model_dump(mode="json", by_alias=True), sort_keys=True, ensure_ascii=False
    )
    return canonical.encode("utf-8")


def definition_hash(definition: Definition) -> str:
    return "sha256:" + hashlib.sha256(_canonical_json(definition)).hexdigest()


def pin(definition: Definition, version: int) -> PinnedDefinition:
    return PinnedDefinition(
        key=definition.key, version=version, hash=definition_hash(definition), definition=definition
    )
