"""Emptying the whole database despite the audit trail's append-only triggers.

Only ``demo --reset`` does this: the demo owns the database and starts over, trail
included. Everything happens in the caller's transaction, so a failed reset leaves the
triggers and the data as they were:

- PostgreSQL: one ``TRUNCATE`` of every table. TRUNCATE is not DELETE: row-level
  DELETE triggers do not fire for it (the same reason the tests' TRUNCATE works);
- SQLite has no TRUNCATE: the audit tables' triggers are read back from
  ``sqlite_master``, dropped, the rows deleted, and the same triggers created again.
  SQLite's DDL is transactional, but Python's sqlite3 driver only opens a transaction
  before a data change, so it is opened explicitly first. When no transaction is open
  yet, foreign-key checks are turned off for this one (``db.sqlite_pragmas_for_transaction``):
  SQLite then empties each table without visiting its rows, about 3 s instead of 30 s
  for a database of a million accounts.

The key file's statement of the records older than the key (``keys.Legacy``) is reset to
none by the callers once the emptying commits (``restate_empty_trail``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from ..domain.store import db, keys

AUDIT_TABLES = ("audit_event", "audit_target", "audit_anchor")


def empty_tables(session: Session, tables: Sequence[Table]) -> None:
    """Delete every row of ``tables`` (children first), audit tables included."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        return
    if db.sqlite_pragmas_for_transaction(connection, (("foreign_keys", "OFF", "ON"),)):
        connection.exec_driver_sql("BEGIN")
    placeholders = ", ".join("?" for _ in AUDIT_TABLES)
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        f"AND tbl_name IN ({placeholders}) ORDER BY name",
        AUDIT_TABLES,
    ).all()
    for name, _sql in triggers:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table in tables:
        connection.execute(table.delete())
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


def restate_empty_trail(store: keys.KeyStore) -> None:
    """After an emptying has committed, make the key file state that no record is older
    than the key: the records it knew are gone on purpose, and ``audit verify`` would
    otherwise report them deleted. Nothing to write when it already says so (a database
    created with its key file). Called after the commit, so a failed or refused reset
    leaves the statement true."""
    if keys.read_keyring(store.path).legacy != keys.NO_LEGACY:
        store.state_legacy(keys.NO_LEGACY)
