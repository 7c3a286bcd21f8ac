"""Mermaid state diagrams of definitions (rendered by the web page and the API)."""

from __future__ import annotations

from definitions.model import Definition

_CATEGORY_STYLE = {
    "new": "fill:#e8f1ff,stroke:#3b6fd8",
    "open": "fill:#fff6e0,stroke:#c98a00",
    "waiting": "fill:#f2f2f2,stroke:#888,stroke-dasharray: 4 3",
    "resolved": "fill:#e7f7ec,stroke:#2f9e57",
    "closed": "fill:#ececec,stroke:#555",
}


# A label is text, never markup or another statement: every character Mermaid or HTML could read as
# syntax becomes a Mermaid entity code (`#name;` / `#number;`, shown as the character), in one pass so
# no code is escaped twice. Every line-break character becomes a space (Mermaid ends a statement at
# any of them: a `\r` in a label injected statements), and other control characters are dropped.
_LABEL = str.maketrans(
    {
        "#": "#35;",
        "&": "#amp;",
        "<": "#lt;",
        ">": "#gt;",
        '"': "#quot;",
        "'": "#39;",
        "`": "#96;",
        ":": "#58;",
        ";": "#59;",
        "{": "#123;",
        "}": "#125;",
        "[": "#91;",
        "]": "#93;",
        "|": "#124;",
        "%": "#37;",
        **dict.fromkeys("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "),
        **{chr(c): None for c in [*range(0x20), 0x7F] if chr(c) not in "\t\n\r\v\f\x1c\x1d\x1e"},
    }
)


def _escape(text: str) -> str:
    return text.translate(_LABEL)


def to_mermaid(definition: Definition, *, lang: str = "en", current: str | None = None) -> str:
    """`stateDiagram-v2` source: states with labels and categories, transitions with their triggers.

    Timed transitions show their delay; approvals mark the state they wait in; `current`
    highlights the state a record is in.
    """
    lines = ["stateDiagram-v2"]
    approvals = {a.state: a for a in definition.approvals}
    for s in definition.states:
        label = s.label.get(lang) if s.label else s.name
        if s.name in approvals:
            step = approvals[s.name]
            label += " ✔ " + (step.label.get(lang) if step.label else step.name)
        lines.append(f'    state "{_escape(label)}" as {s.name}')
    lines.append(f"    [*] --> {definition.initial}")
    for t in definition.transitions:
        text = t.label.get(lang) if t.label else t.trigger
        if t.after is not None:
            # Words, not an emoji: servers and browsers without an emoji font draw a box.
            delay = _duration(t.after.total_seconds())
            text += f"（{delay}后）" if lang.startswith("zh") else f" (after {delay})"
        for src in definition.sources(t):
            lines.append(f"    {src} --> {t.to}: {_escape(text)}")
    for s in definition.states:
        if s.final:
            lines.append(f"    {s.name} --> [*]")
    for category, style in _CATEGORY_STYLE.items():
        lines.append(f"    classDef {category} {style}")
    for s in definition.states:
        lines.append(f"    class {s.name} {s.category}")
    if current is not None and definition.state(current) is not None:
        lines.append("    classDef current fill:#ffe08a,stroke:#b45309,stroke-width:3px")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
