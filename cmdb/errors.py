"""The CMDB's refusals: an HTTP status, a kind naming the rule, the words in zh and en, and the issues
(each with its path: a field, or a row's line and column)."""

from __future__ import annotations

from collections.abc import Sequence

from cmdb.issues import Issue


class CmdbError(Exception):
    def __init__(
        self, status: int, kind: str, en: str, zh: str, issues: Sequence[Issue] = (), ci_id: int | None = None
    ) -> None:
        super().__init__(en)
        self.ci_id = ci_id  # the CI refused, where the refusal is about one
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


def change_required(class_en: str, class_zh: str, name: str, ci_id: int | None = None) -> CmdbError:
    """A direct edit of a CI whose class is changed only through a change."""
    return CmdbError(
        409,
        "ChangeRequired",
        f"“{name}” is a {class_en}, which is changed only through a change: propose the change of the "
        "configuration item on a change record; it applies when the change is implemented",
        f"“{name}”属于“{class_zh}”类，只能通过变更修改：请在变更单上提出配置项变更，变更实施确认后自动生效",
        ci_id=ci_id,
    )
