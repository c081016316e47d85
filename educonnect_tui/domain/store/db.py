"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (multi-user)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, String, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

from . import (
    private,
    # Registers the mapper events that keep ``search_token`` in step with ``search_text``
    # on every session this module makes.
    search_index,  # noqa: F401
)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How every PostgreSQL session plans (``make_engine`` says why each).
PG_SESSION_OPTIONS = "-c random_page_cost=1.1 -c max_parallel_workers_per_gather=0"


# The database holds the staff's password hashes and sealed OTP secrets: only the
# service's user reads it, and its folders when we create them (``private``).
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def _private_sqlite_file(database: Path) -> None:
    """Create the database file 0600 (and its missing folders 0700) before SQLite does.

    SQLite creates its -wal and -shm files with the mode of the database file, so this
    covers them too.
    """
    private.make_folders(database.parent)
    fd = os.open(database, os.O_RDWR | os.O_CREAT, private.FILE_MODE)
    os.close(fd)


def _narrow_modes(database: Path) -> None:
    """A database made by an earlier version (0644): its files become private again."""
    for suffix in _SQLITE_SIDE_FILES:
        private.narrow(database.with_name(database.name + suffix))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # REPLACE deletes the row it conflicts with: the audit tables' DELETE triggers must
    # see that delete (they do only with this on).
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # FULL, not WAL's usual NORMAL: a notification publishes its documents just before
    # it commits, so a commit lost to a power cut would leave documents whose passwords
    # never became valid.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


# Pragmas a caller changed for one transaction (``sqlite_pragmas_for_transaction``),
# with the values put back when the connection returns to the pool.
_RESTORE_PRAGMAS = "educonnect_restore_pragmas"


def _sqlite_checkin(dbapi_connection: Any, record: Any) -> None:
    restore = record.info.pop(_RESTORE_PRAGMAS, None)
    if restore and dbapi_connection is not None:
        cursor = dbapi_connection.cursor()
        for name, value in restore:
            cursor.execute(f"PRAGMA {name}={value}")
        cursor.close()


def sqlite_pragmas_for_transaction(
    connection: Connection, changes: Sequence[tuple[str, str, str]]
) -> bool:
    """Set SQLite pragmas ``(name, value, restored value)`` until the connection is returned.

    For bulk work only: ``foreign_keys=OFF`` lets SQLite empty a table without visiting
    its rows, but has no effect inside a transaction, so this must run before the
    transaction begins; it returns False (and changes nothing) when one is already open.
    The pool puts the values back after the commit or rollback (``_sqlite_checkin``).
    """
    raw = connection.connection.dbapi_connection
    if raw is None or getattr(raw, "in_transaction", True):
        return False
    restore = connection.connection.info.setdefault(_RESTORE_PRAGMAS, [])
    for name, value, restored in changes:
        connection.exec_driver_sql(f"PRAGMA {name}={value}")
        restore.append((name, restored))
    return True


# How long a writer that must run alone waits for the one before it (``serialise_writes``),
# the same on both backends; past it the database is « occupée » (db_errors).
WRITE_LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
# The PostgreSQL advisory lock those writers take: any constant unique to this application.
_SERIAL_WRITES_LOCK = 0x4544_5543


def serialise_writes(session: Session) -> None:
    """From now to the end of its transaction, ``session`` is the only such writer.

    Imports create accounts whose logins must be unique across every school: two
    imports reading the logins taken, then both inserting ``m.dupont``, would collide.
    Taking this lock before reading anything makes them run one after the other, each
    reading what the previous one committed. SQLite has one writer anyway: BEGIN
    IMMEDIATE takes its write lock now, rather than at the first INSERT with a snapshot
    that may already be stale (which fails at once, « database is locked »).
    PostgreSQL takes a transaction-scoped advisory lock, and the transaction waits for
    no lock longer than ``WRITE_LOCK_TIMEOUT_MS``.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is None or getattr(raw, "in_transaction", True):
            return  # pysqlite opens a transaction at the first write: the lock is ours
        restore = connection.connection.info.setdefault(_RESTORE_PRAGMAS, [])
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(WRITE_LOCK_TIMEOUT_MS)}")
        restore.append(("busy_timeout", str(SQLITE_BUSY_TIMEOUT_MS)))
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(WRITE_LOCK_TIMEOUT_MS)}")
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SERIAL_WRITES_LOCK})


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (none for a server, in-memory or URI database)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database:
        return None
    if database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    Errors never carry the statement's parameters (hashes, TOTP secrets): their text
    may reach the technical log (``db_errors``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,
        )
        path = sqlite_file(url)
        if path is not None:
            _private_sqlite_file(path)

            def private_files(_dbapi_connection: Any, _record: Any) -> None:
                _narrow_modes(path)

            event.listen(engine, "connect", private_files)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _sqlite_checkin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        # The server's default prices a random read four times a sequential one (spinning
        # disks): it then reads all 770,000 guardian links to find one school's 5,000
        # rather than follow the index. Our working set is cached or on SSD: 1.1, the
        # usual setting there (a school's guardians 110 -> 45 ms).
        # No parallel workers: a school's lists read a few thousand rows, where starting
        # a worker costs more than it saves (a school's count 19 -> 8 ms), and on a
        # shared server the other cores serve the other staff's sessions, not one query.
        # Options the URL carries (a search_path, say) are kept: connect_args would
        # replace them.
        own = parsed.query.get("options", ())
        options = " ".join([*((own,) if isinstance(own, str) else own), PG_SESSION_OPTIONS])
        return create_engine(
            parsed.difference_update_query(["options"]),
            pool_pre_ping=True,
            connect_args={"options": options},
            hide_parameters=True,
        )
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def make_sessionmaker(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    location = resources.files("educonnect_tui.migrations")
    config.set_main_option("script_location", str(location))
    config.attributes["connection_engine"] = engine
    return config


# The newest migration (tests/unit/test_schema.py checks it against Alembic's head): a
# database already there starts without importing Alembic, a tenth of a second saved at
# every launch.
def sorted_after_filtering(key: ColumnElement[Any], engine: Engine) -> ColumnElement[Any]:
    """A filtered, paged list's sort key, as PostgreSQL must be given it.

    With ORDER BY an indexed column (names, logins) and a LIMIT, PostgreSQL walks that
    index over the whole table hoping the filtered rows come early: most of a second when
    they are one school's 0.3 % of a million accounts, seconds when a filter narrows them
    further. The same text with '' appended is no index's order: it finds the rows first
    (from the school's indexes, milliseconds) and sorts them. SQLite plans these lists
    well as they are, and worse with the expression.
    """
    if engine.dialect.name == "postgresql" and isinstance(key.type, String):
        return key.concat("")
    return key


def tested_not_looked_up(column: QueryableAttribute[Any]) -> ColumnElement[Any]:
    """The same integer as no index's column (``column + 0``): a test on rows found otherwise.

    SQLite takes ``id IN (2,000 ids)`` as an index lookup even when another index found
    the rows, and then probes the whole list again for each of them (a school's 3,000
    pupils x 2,000 ids: 300 ms instead of 8).
    """
    return column + 0


HEAD_REVISION = "0012"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (the same migrations on both backends)."""
    if revision == "head" and _stored_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    with engine.begin() as connection:
        config = _alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _stored_revision(engine: Engine) -> str | None:
    """The revision recorded in ``alembic_version``, or None (no table yet, or unreadable)."""
    try:
        with engine.connect() as connection:
            value = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except SQLAlchemyError:
        return None
    return None if value is None else str(value)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def database_files(engine: Engine) -> tuple[Path, ...]:
    """The files that are the database (SQLite and its journals): no document may replace
    them. A server database (PostgreSQL) has none on this side."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return ()
    main = Path(url.database)
    return (main, *(main.with_name(main.name + s) for s in ("-wal", "-shm", "-journal")))
