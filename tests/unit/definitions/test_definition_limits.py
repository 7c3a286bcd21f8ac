"""Hostile and oversized definitions are refused with the limit and where it was broken (issue 15).

Each case is an attack that once exhausted memory, overflowed the stack or published a definition that
broke every record later; the refusal must come fast, say which limit, and point at the place.
"""

from __future__ import annotations

import time

import pytest

from definitions import limits
from definitions.diagram import to_mermaid
from definitions.loader import load_text, parse_yaml
from definitions.validate import creation_cycle
from tests.paths import FIXTURES

MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")


def _alias_bomb(levels: int, width: int = 10) -> str:
    names = [f"l{i}" for i in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for prev, name in zip(names, names[1:], strict=False):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    t0 = time.perf_counter()
    data, issues = parse_yaml(_alias_bomb(10))  # 10^11 values once expanded
    assert data is None and len(issues) == 1
    assert "aliases expand this to" in issues[0].message and issues[0].path.startswith("line ")
    assert time.perf_counter() - t0 < 1.0  # counted on the shared nodes, never expanded


def test_an_alias_bomb_inside_a_definition_names_the_line() -> None:
    """The ~600-byte bomb aimed at a guard's value: refused where its expansion passes the limit."""
    anchors = "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 8)
    )
    result = load_text(anchors + MINI.replace("value: 4", "value: *x7", 1))
    assert not result.ok and result.definition is None
    [issue] = result.issues
    assert "aliases expand this to" in issue.message and issue.path == "line 5, column 5"


def test_small_aliases_are_still_welcome() -> None:
    text = MINI.replace("label: {zh: 影响度, en: Impact}", "label: &impact {zh: 影响度, en: Impact}", 1)
    text = text.replace("label: {zh: 紧急度, en: Urgency}", "label: *impact", 1)
    result = load_text(text)
    assert result.ok, result.issues


def test_deep_nesting_and_self_reference_are_refused_not_crashed() -> None:
    for text, message in (
        ("[" * 1000 + "]" * 1000, "collections nest more than 32 levels deep"),
        ("{a: " * 200 + "1" + "}" * 200, "collections nest more than 32 levels deep"),
        ("a: &a [b, *a]\n", "an alias refers to the collection that contains it"),
    ):
        data, issues = parse_yaml(text)
        assert data is None and [i.message for i in issues] == [message]


def test_an_oversized_source_is_refused_by_size() -> None:
    big = MINI + "# " + "x" * limits.MAX_SOURCE_BYTES + "\n"
    result = load_text(big)
    assert not result.ok and "bytes are accepted" in result.issues[0].message


def test_a_definition_too_large_for_a_workflow_input_is_refused() -> None:
    """A valid definition that every record creation would fail with 'Blob data size exceeds limit'."""
    label = "很长的标签" * 4000  # 60 KB of UTF-8 per label, under the source limit 4 times over
    text = MINI
    for name in ("new", "in_progress", "waiting", "approval"):
        text = text.replace(f"- {{name: {name}, ", f"- {{name: {name}, description: {label}, ", 1)
    result = load_text(text)
    assert result.definition is not None or result.issues
    messages = [i.message for i in result.issues]
    assert any("as a record carries it" in m for m in messages), messages


@pytest.mark.parametrize(
    "patch",
    [
        # a timed transition that creates a record of its own process
        (
            "    after: PT3S\n",
            "    after: PT3S\n    effects:\n      - create_record: {definition: mini, title: again}\n",
        ),
        # an SLA threshold that does it
        (
            "          - notify: {template: sla_warning, to: [assignee, group_lead]}\n",
            "          - notify: {template: sla_warning, to: [assignee, group_lead]}\n"
            "          - create_record: {definition: mini, title: again}\n",
        ),
    ],
)
def test_a_process_that_starts_itself_forever_is_refused(patch: tuple[str, str]) -> None:
    text = MINI.replace(*patch, 1)
    assert text != MINI
    result = load_text(text)
    issues = [i for i in result.issues if i.path.endswith("create_record.definition")]
    assert issues and "forever" in issues[0].message


def test_creation_cycles_across_processes() -> None:
    assert creation_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert creation_cycle({"a": {"b"}, "b": {"a"}}) in (["a", "b", "a"], ["b", "a", "b"])
    assert creation_cycle({"x": {"x"}}) == ["x", "x"]


def test_diagram_labels_are_text_never_markup_or_statements() -> None:
    hostile = 'Evil<form action=//evil.example><img src=//evil.example/x.png>"\r[*] --> closed: x;%%'
    text = MINI.replace("label: {zh: 新建, en: New}", f"label: {{zh: 新建, en: '{hostile}'}}", 1)
    result = load_text(text)
    assert result.ok, result.issues
    assert result.definition is not None
    diagram = to_mermaid(result.definition, lang="en")
    state_line = next(line for line in diagram.splitlines() if line.endswith(" as new"))
    assert "<" not in state_line and ">" not in state_line and "\r" not in diagram
    assert "#lt;form action=//evil.example#gt;" in state_line
    # The hostile text could not add a statement: one line per state and transition, as before.
    clean = load_text(MINI).definition
    assert clean is not None
    assert len(diagram.splitlines()) == len(to_mermaid(clean, lang="en").splitlines())
