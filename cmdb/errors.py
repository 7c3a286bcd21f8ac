"""The CMDB's refusals: an HTTP status, a kind naming the rule, the words in zh and en, and the issues
(each with its path: a field, or a row's line and column)."""

from __future__ import annotations

from collections.abc import Sequence

from cmdb.issues import Issue


class CmdbError(Exception):
    def __init__(self, status: int, kind: str, en: str, zh: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(en)
        self.status = status
        self.kind = kind
        self.en = en
        self.zh = zh
        self.issues = list(issues)

    def detail(self, lang: str) -> str:
        """Both languages, the reader's first (a reader may have set the other one)."""
        return f"{self.zh} / {self.en}" if lang == "zh" else f"{self.en} / {self.zh}"


def not_found(what_en: str, what_zh: str) -> CmdbError:
    return CmdbError(404, "NotFound", f"no {what_en}", f"没有{what_zh}")


def invalid(issues: Sequence[Issue], en: str | None = None, zh: str | None = None) -> CmdbError:
    n = len(issues)
    return CmdbError(
        422,
        "InvalidCi",
        en or f"{n} problem(s) in the configuration item; each is listed with its field",
        zh or f"配置项有 {n} 处问题，逐项列出了字段",
        issues,
    )
