"""persist_record against a real database: what a retried, discarded or stale workflow task may write.

The workflow sends every audit event it has not seen sealed and the sequence number Temporal has
committed; these tests drive the activity directly with the inputs such tasks would send.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from activities.records import RecordActivities, SealedRowDiffers
from core.tables import AuditRow, RecordRow
from tests.engine_helpers import created_in_memory
from workflows.contracts import AuditEvent, PersistRecordInput


def _rows(db_engine: Engine, record_id: str) -> list[tuple[int, str, str | None, bool]]:
    with Session(db_engine) as session:
        rows = session.exec(select(AuditRow).where(AuditRow.record_id == record_id).order_by(AuditRow.seq))
        return [(r.seq, r.action, r.comment, r.tentative) for r in rows]


def _comment(seq: int, body: str, at: datetime) -> AuditEvent:
    return AuditEvent(seq=seq, at=at, actor="alice", action="comment", comment=body)


def _setup(db_engine: Engine) -> tuple[RecordActivities, PersistRecordInput, datetime]:
    now = datetime.now(UTC)
    engine, out = created_in_memory("mini.yaml", now, fields={"impact": "1", "urgency": "1"})
    created = PersistRecordInput(snapshot=engine.snapshot(None, now), events=out.events, committed_seq=0)
    return RecordActivities(db_engine), created, now


def test_a_retried_write_writes_nothing_twice(db_engine: Engine) -> None:
    activities, created, _ = _setup(db_engine)
    activities.persist_record(created)
    activities.persist_record(created)
    rows = _rows(db_engine, created.snapshot.id)
    assert [(seq, action) for seq, action, *_ in rows] == [(e.seq, e.action) for e in created.events]
    assert all(tentative for *_, tentative in rows)  # nothing committed yet


def test_a_discarded_tasks_rows_are_replaced_by_its_retry(db_engine: Engine) -> None:
    """Attempt 1 gave seq 3 and 4 to comments A and B; Temporal discarded it, and the retry applied
    B alone first, then C: the stored tail becomes the retry's, and A's row is gone."""
    activities, created, now = _setup(db_engine)
    activities.persist_record(created)
    base = created.snapshot.seq
    sealed = created.events
    later = now + timedelta(seconds=1)
    first = [_comment(base + 1, "A", later), _comment(base + 2, "B", later)]
    snap = created.snapshot.model_copy(update={"seq": base + 2})
    activities.persist_record(PersistRecordInput(snapshot=snap, events=sealed + first, committed_seq=base))
    retry = [_comment(base + 1, "B", later), _comment(base + 2, "C", later)]
    activities.persist_record(PersistRecordInput(snapshot=snap, events=sealed + retry, committed_seq=base))
    rows = _rows(db_engine, created.snapshot.id)
    assert [(seq, c, t) for seq, _, c, t in rows if seq > base] == [
        (base + 1, "B", True),
        (base + 2, "C", True),
    ]
    assert all(not t for seq, *_, t in rows if seq <= base)  # the committed ones are sealed


def test_sealed_rows_never_change_and_an_older_task_never_lands(db_engine: Engine) -> None:
    activities, created, now = _setup(db_engine)
    activities.persist_record(created)
    base = created.snapshot.seq
    events = [_comment(base + 1, "A", now)]
    snap = created.snapshot.model_copy(update={"seq": base + 1, "title": "newer"})
    activities.persist_record(
        PersistRecordInput(snapshot=snap, events=created.events + events, committed_seq=base)
    )
    # The next task seals A.
    sealed = PersistRecordInput(snapshot=snap, events=events, committed_seq=base + 1)
    activities.persist_record(sealed)
    assert [t for *_, t in _rows(db_engine, snap.id)] == [False] * (base + 1)
    # A writer claiming another content for a sealed row is refused, and writes nothing.
    tampered = PersistRecordInput(
        snapshot=snap, events=[_comment(base + 1, "tampered", now)], committed_seq=base + 1
    )
    with pytest.raises(SealedRowDiffers):
        activities.persist_record(tampered)
    # A writer from an older task (a zombie whose task Temporal gave up on) changes nothing at all.
    old = created.snapshot.model_copy(update={"title": "older"})
    activities.persist_record(
        PersistRecordInput(snapshot=old, events=[_comment(base + 1, "zombie", now)], committed_seq=base)
    )
    assert [c for _, _, c, _ in _rows(db_engine, snap.id)][-1] == "A"
    with Session(db_engine) as session:
        row = session.get(RecordRow, snap.id)
        assert row is not None and row.title == "newer" and row.write_base == base + 1


def test_the_database_refuses_changes_to_sealed_rows_but_lets_tentative_ones_go(db_engine: Engine) -> None:
    activities, created, now = _setup(db_engine)
    activities.persist_record(created)
    rid = created.snapshot.id
    with db_engine.begin() as conn:
        # Tentative rows may be sealed (and nothing else changed) ...
        with pytest.raises(DBAPIError):
            with conn.begin_nested():
                conn.execute(text("UPDATE audit_events SET comment = 'x' WHERE record_id = :r"), {"r": rid})
        conn.execute(
            text("UPDATE audit_events SET tentative = false WHERE record_id = :r AND seq = 1"), {"r": rid}
        )
        # ... a sealed one is never changed or deleted, not even to unseal it.
        for sql in (
            "UPDATE audit_events SET tentative = true WHERE record_id = :r AND seq = 1",
            "UPDATE audit_events SET actor = 'mallory' WHERE record_id = :r AND seq = 1",
            "DELETE FROM audit_events WHERE record_id = :r AND seq = 1",
        ):
            with pytest.raises(DBAPIError), conn.begin_nested():
                conn.execute(text(sql), {"r": rid})
        # A tentative row (a discarded task's) may be deleted.
        conn.execute(text("DELETE FROM audit_events WHERE record_id = :r AND seq = 2"), {"r": rid})
    seqs = [seq for seq, *_ in _rows(db_engine, rid)]
    assert 1 in seqs and 2 not in seqs
