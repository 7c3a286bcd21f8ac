"""What an agreement says (seed 003 §8.1-8.2, App. A; seed 004): per priority the response and
resolution targets, the service hours as a business calendar, availability and interruption targets, and
operational-level targets per support group (OLAs)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from definitions.calendar import BusinessCalendar
from sla.errors import SlaError

PRIORITIES = ("1", "2", "3", "4")  # the library incident's priority values


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)


class AgreementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[str, str]  # {"zh": ..., "en": ...}
    service: str = Field(min_length=1, max_length=200)  # "*" = the default agreement
    requester_groups: list[str] = Field(default_factory=list)  # empty: every requester
    valid_from: date
    valid_to: date | None = None
    calendar: BusinessCalendar
    targets: dict[str, Targets]
    availability_target: float = Field(gt=0, le=100)  # percent of committed service time
    max_interruptions: int = Field(ge=0)
    olas: dict[str, Targets] = Field(default_factory=dict)  # support group -> its targets


def parse_spec(data: dict[str, Any]) -> AgreementSpec:
    """The spec, or an `SlaError` naming the first field at fault (in zh and en)."""
    try:
        spec = AgreementSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "agreement"
        raise SlaError(path, first["msg"], f"字段 {path} 无效：{first['msg']}") from None
    missing = [p for p in PRIORITIES if p not in spec.targets]
    if missing:
        raise SlaError(
            f"targets.{missing[0]}",
            f"no response and resolution targets for priority {missing[0]}",
            f"缺少优先级 {missing[0]} 的响应和解决目标",
        )
    unknown = sorted(set(spec.targets) - set(PRIORITIES))
    if unknown:
        raise SlaError(
            f"targets.{unknown[0]}", f"unknown priority {unknown[0]}", f"未知的优先级 {unknown[0]}"
        )
    for prio, target in spec.targets.items():
        if target.resolution_minutes < target.response_minutes:
            raise SlaError(
                f"targets.{prio}.resolution_minutes",
                "the resolution target is shorter than the response target",
                "解决目标短于响应目标",
            )
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        raise SlaError("valid_to", "the agreement ends before it starts", "协议的结束日期早于开始日期")
    if not spec.title.get("zh") or not spec.title.get("en"):
        raise SlaError("title", "a title in Chinese (zh) and English (en) is required", "需要中文和英文标题")
    return spec


def periods_overlap(a: AgreementSpec, b: AgreementSpec) -> bool:
    """Two agreements for one service overlap when their validity dates and requester groups meet (an
    empty group list covers every requester)."""
    a_end = a.valid_to or date.max
    b_end = b.valid_to or date.max
    if a.valid_from > b_end or b.valid_from > a_end:
        return False
    if not a.requester_groups or not b.requester_groups:
        return True
    return bool(set(a.requester_groups) & set(b.requester_groups))
