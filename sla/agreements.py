"""Agreements with versions: defining one, changing one through change management, and picking the one
that covers a record.

Seed 004 §7.1 puts changes to an agreement under change management. The decision here: the first version
of an agreement is its definition and needs no change record; every later version must name a change
record (`change_ref`) of the library's change processes that has passed its approval (it is scheduled,
being implemented, verified, reviewed or completed). A new version supersedes the previous one and applies
to records created afterwards; running records keep the key and version they started with.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from core.tables import RecordRow
from sla.errors import SlaError
from sla.model import AgreementSpec, parse_spec, periods_overlap
from sla.tables import AgreementRow

CHANGE_PROCESSES = ("change", "standard_change")
APPROVED_CHANGE_STATES = ("scheduled", "implementing", "verifying", "review", "completed")
DEFAULT_SERVICE = "*"


def _check_change(session: Session, change_ref: str | None) -> None:
    if not change_ref:
        raise SlaError(
            "change_ref",
            "changing an agreement needs an approved change record (seed 004 §7.1)",
            "变更服务级别协议须引用已批准的变更记录（004 §7.1）",
            kind="change_required",
        )
    row = session.exec(
        select(RecordRow).where((RecordRow.id == change_ref) | (RecordRow.number == change_ref))
    ).first()
    if row is None or row.definition_key not in CHANGE_PROCESSES:
        raise SlaError(
            "change_ref", f"no change record {change_ref}", f"没有变更记录 {change_ref}", kind="not_found"
        )
    if row.state not in APPROVED_CHANGE_STATES:
        raise SlaError(
            "change_ref",
            f"change {row.number} is not approved (it is {row.state})",
            f"变更 {row.number} 尚未批准",
            kind="change_required",
        )


def _check_overlap(session: Session, key: str, spec: AgreementSpec) -> None:
    others = session.exec(
        select(AgreementRow).where(
            AgreementRow.service == spec.service, AgreementRow.status == "active", AgreementRow.key != key
        )
    ).all()
    for other in others:
        if periods_overlap(spec, AgreementSpec.model_validate(other.spec)):
            raise SlaError(
                "service",
                f"agreement {other.key} already covers service {spec.service} for these dates and requesters",
                f"协议 {other.key} 已覆盖服务 {spec.service} 的相同日期和请求者",
                kind="overlap",
            )


def save_agreement(
    session: Session,
    key: str,
    data: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    change_ref: str | None = None,
) -> AgreementRow:
    """Define an agreement (version 1) or change it (a new version naming an approved change). Raises
    `SlaError` and writes nothing on bad input."""
    if not key or len(key) > 64 or not key.replace("_", "").replace("-", "").isalnum():
        raise SlaError(
            "key", "a key of letters, digits, - and _ is required", "需要由字母、数字、-、_ 组成的标识"
        )
    spec = parse_spec(data)
    current = session.exec(
        select(AgreementRow).where(AgreementRow.key == key, AgreementRow.status == "active")
    ).first()
    if current is not None:
        _check_change(session, change_ref)
    _check_overlap(session, key, spec)
    if current is not None:
        current.status = "superseded"
        session.add(current)
    row = AgreementRow(
        key=key,
        version=(current.version + 1) if current else 1,
        service=spec.service,
        spec=spec.model_dump(mode="json"),
        change_ref=change_ref if current else None,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def agreement_versions(session: Session, key: str) -> list[AgreementRow]:
    return list(
        session.exec(select(AgreementRow).where(AgreementRow.key == key).order_by(col(AgreementRow.version)))
    )


def select_agreement(
    session: Session, service: str | None, requester_groups: list[str], on: date
) -> AgreementRow | None:
    """The active agreement covering the service and requester on a day, else the default agreement
    (service "*"), else none. Deterministic: a requester-specific agreement wins over a general one, then
    the lowest key."""
    candidates: list[tuple[int, str, AgreementRow]] = []
    services = [s for s in (service, DEFAULT_SERVICE) if s]
    rows = session.exec(
        select(AgreementRow).where(col(AgreementRow.service).in_(services), AgreementRow.status == "active")
    ).all()
    for row in rows:
        spec = AgreementSpec.model_validate(row.spec)
        if spec.valid_from > on or (spec.valid_to is not None and spec.valid_to < on):
            continue
        if spec.requester_groups and not set(spec.requester_groups) & set(requester_groups):
            continue
        rank = (0 if row.service != DEFAULT_SERVICE else 2) + (0 if spec.requester_groups else 1)
        candidates.append((rank, row.key, row))
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


def uncovered_services(session: Session, services: set[str]) -> set[str]:
    """The services no active agreement covers (none when a default agreement exists): what the KPI
    `services_outside_sla` counts (JR/T 0074-2012 App. B.1: services delivered outside any agreement)."""
    covered = set(session.exec(select(AgreementRow.service).where(AgreementRow.status == "active")).all())
    if DEFAULT_SERVICE in covered:
        return set()
    return services - covered
