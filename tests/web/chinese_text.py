"""What a Chinese reader would meet that is not Chinese: untranslated catalogue keys and English words.

The heuristic, for the text a person reads on a page (text nodes, and the `title`, `aria-label`,
`placeholder` and `alt` attributes; not `<code>`, `<pre>`, `<script>`, `<style>`, `<textarea>`, nor
anything marked `translate="no"`, which hold source, data or names the reader typed):

- a *catalogue key* is any key of the page's catalogue appearing verbatim (`studio.save_draft`): a
  `t()` call that found no text;
- an *English fragment* is a Latin word of two letters or more that is not a code and not in the
  allow-list. A code has a digit or a slash, or is upper-case with a dash (`INC-000012`, `v2`, `Asia/Shanghai`);
  a word with an underscore is an internal name (`resolved_at`) and is reported. The allow-list holds
  product names and abbreviations a Chinese IT department reads as they are (itilflow, CMDB, SLA, KPI,
  UTC, YAML…), plus what the test itself named (usernames, keys), which is data, not the page's words.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from api.web.i18n import messages

ALLOWED = {
    # product, standards and abbreviations read as they are in Chinese IT departments
    "itilflow", "itil", "cmdb", "sla", "slas", "ola", "olas", "kpi", "kpis", "cab", "ecab", "it", "id",
    "utc", "yaml", "json", "api", "csv", "pdf", "xlsx", "ical", "icalendar", "ics", "url", "sso", "ldap",
    "oidc", "openid", "ad", "mb", "kb", "sop", "ci", "cis", "mttr", "mtta", "gb", "jr", "iso", "en", "temporal", "mermaid",
    "tab", "esc", "ctrl", "enter", "http", "https", "ok", "qa", "ai", "vs",
    # names of things: a language's own name on the language switch, calendar programs
    "english", "outlook", "thunderbird",
}  # fmt: skip
SKIP_TAGS = {"code", "pre", "script", "style", "textarea", "kbd", "samp"}
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'/\-]*[A-Za-z0-9]|[A-Za-z]{2,}")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from the check)
        self.texts: list[str] = []

    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = tag in SKIP_TAGS or values.get("translate") == "no"
        if not self._hidden() and not hidden:
            self.texts.extend(str(values[a]) for a in READ_ATTRIBUTES if values.get(a))
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._hidden():
            self.texts.append(data)


def readable_text(html: str) -> list[str]:
    reader = _Reader()
    reader.feed(html)
    return reader.texts


def _is_code(word: str) -> bool:
    if any(c.isdigit() for c in word) or "/" in word:  # INC-000012, v2, Asia/Shanghai
        return True
    return "-" in word and word.replace("-", "").isupper()


def findings(html: str, allowed: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The untranslated keys and English words on a page, each once, in order of appearance."""
    keys = set(messages("zh"))
    allow = ALLOWED | {a.lower() for a in allowed}
    found: list[str] = []
    for text in readable_text(html):
        for word in _WORD.findall(text):
            word = word.strip("'-")
            if word in keys:
                hit = f"key {word}"
            elif word.lower() in allow or len(word) < 2:
                continue
            elif "_" in word:
                hit = f"name {word}"
            elif _is_code(word):
                continue
            else:
                hit = word
            if hit not in found:
                found.append(hit)
        for key in re.findall(r"\b[a-z_]+(?:\.[a-z0-9_]+)+\b", text):
            if key in keys and f"key {key}" not in found:
                found.append(f"key {key}")
    return found
