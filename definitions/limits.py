"""How large a definition may be, and how its YAML is read within those bounds.

A definition comes from a process owner's hands (or anyone allowed to call the validate endpoint), and
a published one travels with every record: it is the pinned definition in each workflow input. So the
YAML is read with limits that hold *before* any work proportional to a hostile input is done:

- the source text's size;
- how deep collections nest (PyYAML's composer recurses per level: 1,000 nested `[` overflowed the
  stack); checked on the parser's event stream, which is flat;
- what aliases expand to. YAML anchors and aliases are allowed (they can share a label), but each
  alias counts as a copy of what it names: ten levels of aliases in 650 bytes expand to gigabytes once
  pydantic or JSON walks them. The expanded size is computed on the composed node graph, where an
  alias is a shared node, so the count itself costs one visit per distinct node;
- and, after validation, the size of the pinned definition as JSON: a record's workflow input carries
  it, and Temporal refuses a payload over 2 MB (gRPC messages over 4 MB).

Every refusal names the limit and where the input broke it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

MAX_SOURCE_BYTES = 256 * 1024
MAX_DEPTH = 32
# What the YAML expands to, aliases copied: nodes, and bytes of scalar text.
MAX_EXPANDED_NODES = 100_000
MAX_EXPANDED_BYTES = 1024 * 1024
# The pinned definition as JSON. Temporal warns at 512 KiB per payload and refuses 2 MiB; the workflow
# input also carries the record's fields, so the definition keeps well under the warning.
MAX_PINNED_BYTES = 384 * 1024


class LimitExceeded(Exception):
    """The input breaks one of the limits above: `where` is a YAML position or a path."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def check_source(text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_SOURCE_BYTES:
        raise LimitExceeded(
            "", f"the definition is {size:,} bytes; at most {MAX_SOURCE_BYTES:,} bytes are accepted"
        )


def check_nesting(text: str, loader: type[yaml.SafeLoader]) -> None:
    """Refuse collections nested deeper than MAX_DEPTH, reading events only (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise LimitExceeded(
                    _at(event.start_mark), f"collections nest more than {MAX_DEPTH} levels deep"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


@dataclass
class _Expansion:
    nodes: int
    size: int
    depth: int


def check_expansion(root: yaml.Node) -> None:
    """Refuse a node graph whose aliases expand beyond the limits, or that refers to itself.

    Post-order over the distinct nodes (an alias is a shared node), each node's expanded counts being
    its own plus its children's: linear in the number of distinct nodes however far aliases expand."""
    done: dict[int, _Expansion] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = _Expansion(1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0, 1)
            for child in _children(node):
                sub = done[id(child)]
                total.nodes += sub.nodes
                total.size += sub.size
                total.depth = max(total.depth, sub.depth + 1)
            if total.nodes > MAX_EXPANDED_NODES or total.size > MAX_EXPANDED_BYTES:
                raise LimitExceeded(
                    _at(node.start_mark),
                    f"aliases expand this to {total.nodes:,} values and {total.size:,} bytes of text; "
                    f"at most {MAX_EXPANDED_NODES:,} values and {MAX_EXPANDED_BYTES:,} bytes are accepted",
                )
            if total.depth > MAX_DEPTH:
                raise LimitExceeded(
                    _at(node.start_mark), f"aliases nest this more than {MAX_DEPTH} levels deep"
                )
            done[key] = total
            continue
        if key in done:
            continue
        if key in on_path:
            raise LimitExceeded(_at(node.start_mark), "an alias refers to the collection that contains it")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in done)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_pinned_size(size: int) -> None:
    if size > MAX_PINNED_BYTES:
        raise LimitExceeded(
            "",
            f"the definition is {size:,} bytes as a record carries it; at most {MAX_PINNED_BYTES:,} "
            "bytes are accepted (every record's workflow input holds its definition, and Temporal "
            "refuses inputs over 2 MB)",
        )
