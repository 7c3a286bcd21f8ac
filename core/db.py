"""Database engine, sessions and migrations (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, TextClause, bindparam, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # SQLite connections are cheap files handles; a bounded pool only adds a way to wait for nothing.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", -1)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while the worker writes; busy_timeout queues writers instead of failing.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the database to the newest schema (idempotent)."""
    command.upgrade(alembic_config(url), "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: never half-written."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# One lock per SQLite engine: see write_scope.
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _write_lock(engine: Engine) -> threading.Lock | None:
    if engine.dialect.name != "sqlite":
        return None
    with _LOCKS_GUARD:
        lock = _SQLITE_WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITE_LOCKS[engine] = threading.Lock()
        return lock


@contextmanager
def write_scope(engine: Engine) -> Iterator[Session]:
    """`session_scope` for a write transaction run in a worker thread (activities).

    SQLite has one writer at a time, and a writer that finds the database locked waits in SQLite's
    busy handler, which polls with sleeps growing to 100 ms and lets the unlucky starve: under 20
    concurrent writes that was most of the worker's tail latency. Writers in this process therefore
    queue on a lock and each starts the moment the previous one commits. PostgreSQL has row locks and
    needs none. Never hold it across an await: it is a thread lock (the event loop must not take it).
    """
    with write_lock(engine), session_scope(engine) as session:
        yield session


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """The lock `write_scope` takes, for writers that use a Connection rather than a Session."""
    lock = _write_lock(engine)
    return lock if lock is not None else nullcontext()


def upsert_insert(dialect: str) -> Any:
    """The INSERT with ON CONFLICT of this dialect (the only two databases itilflow supports)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


# PostgreSQL renders a JSON parameter as `:name::JSON`; text() only reads `:name` not followed by `:`.
_BIND_CAST = re.compile(r"(?<![:\w]):(\w+)::(\w+)")


def cacheable(stmt: Any, dialect: str, keys: Sequence[str]) -> TextClause:
    """A dialect INSERT … ON CONFLICT as a statement whose compiled form SQLAlchemy caches.

    SQLAlchemy never caches the SQLite and PostgreSQL INSERT constructs (they set inherit_cache =
    False), so each execution compiled the statement again: 9 % of the worker's CPU went to compiling
    persist_record's two statements. This compiles `stmt` once, for parameters named `keys`, and
    keeps each parameter's column type, so values are converted exactly as before (JSON, datetimes).
    """
    named = (postgresql if dialect == "postgresql" else sqlite).dialect(paramstyle="named")
    # for_executemany: no RETURNING of the new primary key, which nobody reads.
    compiled = stmt.compile(dialect=named, column_keys=list(keys), for_executemany=True)
    sql = _BIND_CAST.sub(r"CAST(:\1 AS \2)", str(compiled))
    params = []
    for name, bind in compiled.binds.items():
        if name in keys:
            params.append(bindparam(name, type_=bind.type))
            continue
        # A column left out of `keys` that has a default: compiled SQL gets it from the execution,
        # text() from here; only constant defaults can be taken over.
        default = stmt.table.c[name].default
        if default is None or not default.is_scalar:
            raise ValueError(f"{stmt.table.name}.{name} needs a value: it has no constant default")
        params.append(bindparam(name, value=default.arg, type_=bind.type))
    return text(sql).bindparams(*params)


def as_text(stmt: Any, dialect: str) -> TextClause:
    """A Core statement whose parameters are all explicit `bindparam`s, compiled once to a text
    statement with the same parameter types: executing it builds no cache key (for a Core UPDATE or
    SELECT that alone costs more than the query on SQLite; see `cacheable`)."""
    named = (postgresql if dialect == "postgresql" else sqlite).dialect(paramstyle="named")
    compiled = stmt.compile(dialect=named)
    sql = _BIND_CAST.sub(r"CAST(:\1 AS \2)", str(compiled))
    return text(sql).bindparams(*(bindparam(name, type_=b.type) for name, b in compiled.binds.items()))


@cache
def _insert_ignore(
    dialect: str, table: Table, keys: tuple[str, ...], conflict: tuple[str, ...]
) -> TextClause:
    stmt = upsert_insert(dialect)(table).on_conflict_do_nothing(index_elements=list(conflict))
    return cacheable(stmt, dialect, keys)


def insert_ignore(
    session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], conflict: Iterable[str]
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING: the tool that makes retried activities write once.

    Every row must have the same keys (one statement, executed for each row); returns the rows inserted."""
    if not rows:
        return 0
    keys = tuple(rows[0])
    if any(tuple(row) != keys for row in rows):
        raise ValueError("insert_ignore: every row needs the same columns, in the same order")
    table = model.__table__  # type: ignore[attr-defined]
    stmt = _insert_ignore(session.get_bind().dialect.name, table, keys, tuple(conflict))
    result = session.execute(stmt, list(rows))
    return int(getattr(result, "rowcount", 0) or 0)
