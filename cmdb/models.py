"""The CMDB model's versions: draft -> published -> retired, like process definitions.

Until a configuration manager publishes a version, the shipped default (`library/default.yaml`) is
in force as version 0. Publishing refuses a model that drops a class or relationship type still in
use, so no stored CI or relationship is left without its rules.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from cmdb.errors import CmdbError, not_found
from cmdb.issues import Issue
from cmdb.loader import default_source, load_text, model_hash, parsed
from cmdb.model import CmdbModel
from cmdb.tables import CiRow, CmdbModelRow, RelationRow
from cmdb.views import ModelOut, ModelVersionOut


def now() -> datetime:
    return datetime.now(UTC)


def _published(session: Session) -> CmdbModelRow | None:
    return session.exec(
        select(CmdbModelRow)
        .where(CmdbModelRow.status == "published")
        .order_by(col(CmdbModelRow.version).desc())
        .limit(1)
    ).first()


def current(session: Session) -> tuple[int, CmdbModel]:
    """The model in force and its version (0: the shipped default)."""
    row = _published(session)
    if row is None:
        return 0, parsed(default_source())
    return row.version, parsed(row.source)


def invalid_model(issues: list[Issue]) -> CmdbError:
    return CmdbError(
        422,
        "InvalidModel",
        f"the CMDB model has {len(issues)} problem(s); each is listed with its path",
        f"配置模型有 {len(issues)} 处问题，逐项列出了路径",
        issues,
    )


def create_draft(session: Session, *, source: str, actor: str) -> ModelVersionOut:
    result = load_text(source)
    if not result.ok or result.model is None:
        raise invalid_model(result.issues)
    latest = session.exec(select(func.max(CmdbModelRow.version))).one()
    row = CmdbModelRow(
        version=(latest or 0) + 1,
        source=source,
        hash=model_hash(result.model),
        created_by=actor,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    return _version(row)


def _row(session: Session, version: int) -> CmdbModelRow:
    row = session.exec(select(CmdbModelRow).where(CmdbModelRow.version == version)).first()
    if row is None:
        raise not_found(f"CMDB model version {version}", f"配置模型版本 {version}")
    return row


def publish(session: Session, *, version: int, actor: str) -> ModelVersionOut:
    row = _row(session, version)
    if row.status != "draft":
        raise CmdbError(
            409,
            "WrongState",
            f"CMDB model version {version} is {row.status}; only a draft can be published",
            f"配置模型版本 {version} 的状态为 {row.status}，只能发布草稿",
        )
    model = parsed(row.source)
    issues = _in_use_but_missing(session, model)
    if issues:
        raise CmdbError(
            409,
            "ModelInUse",
            "the new model drops classes or relationship types that stored CIs still use",
            "新模型删除了已有配置项仍在使用的类或关系类型",
            issues,
        )
    previous = _published(session)
    if previous is not None:
        previous.status = "retired"
        session.add(previous)
    row.status, row.published_by, row.published_at = "published", actor, now()
    session.add(row)
    session.flush()
    return _version(row)


def _in_use_but_missing(session: Session, model: CmdbModel) -> list[Issue]:
    issues = []
    classes = session.exec(select(CiRow.class_name).where(CiRow.status == "active").distinct()).all()
    for name in sorted(set(classes)):
        if model.ci_class(name) is None:
            issues.append(Issue("classes", f"class '{name}' has active CIs", f"类 '{name}' 仍有在用的配置项"))
    types = session.exec(select(RelationRow.type).distinct()).all()
    for name in sorted(set(types)):
        if model.relation(name) is None:
            issues.append(
                Issue(
                    "relations",
                    f"relationship type '{name}' is in use",
                    f"关系类型 '{name}' 仍在使用",
                )
            )
    return issues


def _version(row: CmdbModelRow) -> ModelVersionOut:
    return ModelVersionOut(
        version=row.version,
        status=row.status,
        hash=row.hash,
        created_by=row.created_by,
        created_at=row.created_at,
        published_by=row.published_by,
        published_at=row.published_at,
    )


def builtin() -> ModelVersionOut:
    return ModelVersionOut(
        version=0, status="builtin", hash=model_hash(parsed(default_source())), created_by="itilflow"
    )


def versions(session: Session) -> list[ModelVersionOut]:
    rows = session.exec(select(CmdbModelRow).order_by(col(CmdbModelRow.version))).all()
    return [builtin(), *(_version(r) for r in rows)]


def get(session: Session, version: int | None) -> ModelOut:
    """A version (0: the shipped default), or the one in force."""
    if version is None:
        row = _published(session)
    elif version == 0:
        row = None
    else:
        row = _row(session, version)
    if row is None:
        source = default_source()
        return ModelOut(**builtin().model_dump(), source=source, model=parsed(source).model_dump(mode="json"))
    return ModelOut(
        **_version(row).model_dump(), source=row.source, model=parsed(row.source).model_dump(mode="json")
    )
