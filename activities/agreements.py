"""The `select_agreement` activity: which service level agreement covers a new record (sla/agreements.py),
asked by the workflow itself as a local activity (workflows/agreements.py), so the answer is in the
history and a replay runs on the same targets."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from cmdb.tables import CiRow
from core.db import insert_ignore, session_scope
from core.store import user_groups
from sla.agreements import select_agreement
from sla.model import AgreementSpec
from sla.tables import RecordAgreementRow
from workflows.agreements import SelectAgreementInput, SelectAgreementResult


class AgreementActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="select_agreement")
    def select_agreement(self, inp: SelectAgreementInput) -> SelectAgreementResult:
        with session_scope(self.engine) as session:
            service = inp.service
            if isinstance(service, int) or (isinstance(service, str) and service.isdigit()):
                ci = session.get(CiRow, int(service))  # a `ci` field holds the CI's id: agreements name it
                service = ci.name if ci is not None else str(service)
            groups = user_groups(session, inp.requester) if inp.requester else []
            row = select_agreement(session, str(service) if service else None, groups, inp.on)
            if row is None:
                return SelectAgreementResult()
            spec = AgreementSpec.model_validate(row.spec)
            if inp.record_id:  # once, whatever retries the local activity takes
                note = {
                    "record_id": inp.record_id,
                    "agreement_key": row.key,
                    "agreement_version": row.version,
                }
                insert_ignore(session, RecordAgreementRow, [note], ["record_id"])
            return SelectAgreementResult(
                key=row.key,
                version=row.version,
                targets={p: t.model_dump() for p, t in spec.targets.items()},
                calendar=spec.calendar,
                olas={g: t.model_dump() for g, t in spec.olas.items()},
            )
