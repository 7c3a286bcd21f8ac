"""persist_record against a real database: what a retried, discarded or stale workflow task may write.

The workflow sends every audit event it has not seen sealed and the sequence number Temporal has
committed; these tests drive the activity directly with the inputs such tasks would send.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from activities.records import RecordActivities, SealedRowDiffers
from core.store import seal_committed
from core.tables import AuditRow, RecordRow
from tests.engine_helpers import created_in_memory
from workflows.contracts import AuditEvent, PersistRecordInput


def _rows(db_engine: Engine, record_id: str) -> list[tuple[int, str, str | None]]:
    with Session(db_engine) as session:
        rows = session.exec(
            select(AuditRow).where(AuditRow.record_id == record_id).order_by(col(AuditRow.seq))
        )
        return [(r.seq, r.action, r.comment) for r in rows]


def _committed(db_engine: Engine, record_id: str) -> int:
    with Session(db_engine) as session:
        row = session.get(RecordRow, record_id)
        assert row is not None
        return row.committed_seq


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
    assert [(seq, action) for seq, action, _ in rows] == [(e.seq, e.action) for e in created.events]
    assert _committed(db_engine, created.snapshot.id) == 0  # nothing committed yet: nothing sealed


def test_a_discarded_tasks_rows_are_replaced_by_its_retry(db_engine: Engine) -> None:
    """Attempt 1 gave seq 3 and 4 to comments A and B; Temporal discarded it, and the retry applied
    B alone first, then C: the stored tail becomes the retry's, and A's row is gone."""
    activities, created, now = _setup(db_engine)
    activities.persist_record(created)
    base = created.snapshot.seq
    later = now + timedelta(seconds=1)
    first = [_comment(base + 1, "A", later), _comment(base + 2, "B", later)]
    snap = created.snapshot.model_copy(update={"seq": base + 2})
    activities.persist_record(
        PersistRecordInput(snapshot=snap, events=created.events + first, committed_seq=base)
    )
    retry = [_comment(base + 1, "B", later), _comment(base + 2, "C", later)]
    activities.persist_record(
        PersistRecordInput(snapshot=snap, events=created.events + retry, committed_seq=base)
    )
    rows = _rows(db_engine, created.snapshot.id)
    assert [(seq, c) for seq, _, c in rows if seq > base] == [(base + 1, "B"), (base + 2, "C")]
    assert _committed(db_engine, created.snapshot.id) == base  # the created rows are sealed


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
    activities.persist_record(PersistRecordInput(snapshot=snap, events=events, committed_seq=base + 1))
    assert _committed(db_engine, snap.id) == base + 1
    # A writer claiming another content for a sealed row is refused, and writes nothing.
    tampered = PersistRecordInput(
        snapshot=snap, events=[_comment(base + 1, "tampered", now)], committed_seq=base + 1
    )
    with pytest.raises(SealedRowDiffers):
        activities.persist_record(tampered)
    # A writer from an older task (a zombie whose task Temporal gave up on) changes nothing at all.
    old = created.snapshot.model_copy(update={"title": "older", "seq": base + 2})
    zombie = [_comment(base + 2, "zombie", now)]
    activities.persist_record(PersistRecordInput(snapshot=old, events=zombie, committed_seq=base))
    assert [c for _, _, c in _rows(db_engine, snap.id)][-1] == "A"
    with Session(db_engine) as session:
        row = session.get(RecordRow, snap.id)
        assert row is not None and row.title == "newer" and row.committed_seq == base + 1


def test_the_database_refuses_changes_to_sealed_rows_but_lets_open_ones_go(db_engine: Engine) -> None:
    activities, created, _ = _setup(db_engine)
    activities.persist_record(created)
    rid = created.snapshot.id
    with Session(db_engine) as session:
        seal_committed(session, rid, 1)
        session.commit()
    with db_engine.connect() as conn:
        for sql in (
            "UPDATE audit_events SET comment = 'x' WHERE record_id = :r AND seq = 2",  # no UPDATE at all
            "UPDATE audit_events SET actor = 'mallory' WHERE record_id = :r AND seq = 1",
            "DELETE FROM audit_events WHERE record_id = :r AND seq = 1",
        ):
            with pytest.raises(DBAPIError):
                conn.execute(text(sql), {"r": rid})
            conn.rollback()
        if conn.dialect.name == "postgresql":
            with pytest.raises(DBAPIError):
                conn.execute(text("TRUNCATE audit_events"))
            conn.rollback()
        # A row above what Temporal committed (a discarded task's, maybe) may be deleted.
        conn.execute(text("DELETE FROM audit_events WHERE record_id = :r AND seq = 2"), {"r": rid})
        conn.commit()
    seqs = [seq for seq, *_ in _rows(db_engine, rid)]
    assert 1 in seqs and 2 not in seqs


@contextmanager
def _statements(db_engine: Engine) -> Iterator[list[str]]:
    """Every statement the engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(db_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db_engine, "before_cursor_execute", record)


def test_the_usual_write_appends_without_reading_the_tail_back(db_engine: Engine) -> None:
    """A workflow that says what it last wrote (written_seq) and finds the record exactly so appends:
    no SELECT of the audit rows, and the rows, the record and the seal as the careful path leaves them.
    The inputs are the ones the workflow sends: all its unsealed events, trimmed after each write to
    those above that write's committed seq."""
    activities, created, now = _setup(db_engine)
    activities.persist_record(created)  # a first write: the careful path
    base = created.snapshot.seq
    a, b, c = (_comment(base + i, body, now) for i, body in ((1, "A"), (2, "B"), (3, "C")))
    snaps = [created.snapshot.model_copy(update={"seq": base + i, "title": f"t{i}"}) for i in (1, 2, 3)]
    with _statements(db_engine) as statements:
        # The same task's second write: nothing committed yet.
        activities.persist_record(
            PersistRecordInput(
                snapshot=snaps[0], events=[*created.events, a], committed_seq=0, written_seq=base
            )
        )
        # The next task: everything up to A is committed.
        activities.persist_record(
            PersistRecordInput(
                snapshot=snaps[1],
                events=[*created.events, a, b],
                committed_seq=base + 1,
                written_seq=base + 1,
            )
        )
        # And the next: B is sealed by it.
        activities.persist_record(
            PersistRecordInput(snapshot=snaps[2], events=[b, c], committed_seq=base + 2, written_seq=base + 2)
        )
    assert not [s for s in statements if s.startswith("SELECT")]
    assert sum(s.startswith("UPDATE RECORDS") for s in statements) == 3
    rows = _rows(db_engine, created.snapshot.id)
    assert [(seq, c) for seq, _, c in rows][-3:] == [(base + 1, "A"), (base + 2, "B"), (base + 3, "C")]
    assert len(rows) == base + 3
    with Session(db_engine) as session:
        row = session.get(RecordRow, created.snapshot.id)
        assert row is not None and (row.title, row.seq, row.committed_seq) == ("t3", base + 3, base + 2)


def test_a_retry_that_finds_a_discarded_tasks_rows_takes_the_careful_path(db_engine: Engine) -> None:
    """The retry of a discarded task sends the written_seq of the last committed task; the record
    holds the discarded task's write, so the append does not match and the tail is read and replaced."""
    activities, created, now = _setup(db_engine)
    activities.persist_record(created)
    base = created.snapshot.seq
    later = now + timedelta(seconds=1)
    snap = created.snapshot.model_copy(update={"seq": base + 2})
    discarded = [_comment(base + 1, "A", later), _comment(base + 2, "B", later)]
    activities.persist_record(
        PersistRecordInput(
            snapshot=snap, events=[*created.events, *discarded], committed_seq=base, written_seq=base
        )
    )
    retry = [_comment(base + 1, "B", later), _comment(base + 2, "C", later)]
    with _statements(db_engine) as statements:
        activities.persist_record(
            PersistRecordInput(
                snapshot=snap, events=[*created.events, *retry], committed_seq=base, written_seq=base
            )
        )
    assert [s for s in statements if s.startswith("SELECT") and "AUDIT_EVENTS" in s]
    rows = _rows(db_engine, created.snapshot.id)
    assert [(seq, c) for seq, _, c in rows if seq > base] == [(base + 1, "B"), (base + 2, "C")]
