"""Writing millions of generated rows in one transaction, the fastest way each backend has.

The ORM (and its mapper events) costs tens of microseconds per row: a million accounts
would take many minutes. ``academie.py`` generates plain tuples and this module writes
them into the schema the migrations built:

- SQLite: ``executemany`` on the driver's cursor, with foreign-key checks off and
  ``synchronous=OFF`` and a large page cache for this one transaction (restored after);
- PostgreSQL: ``COPY ... FROM STDIN`` through psycopg 3, then the id sequences moved
  past the ids written here.

Secondary indexes (and on PostgreSQL the primary keys, unique and foreign-key
constraints) of the loaded tables are dropped first and rebuilt after: building an
index once from sorted data is several times faster than updating it a million times.
They are recreated from their own definitions as the database reports them
(``sqlite_master``, ``pg_get_indexdef``, ``pg_get_constraintdef``), same names, same
SQL, inside the same transaction: the schema ends exactly as the migrations made it,
or the whole load rolls back. Then ``ANALYZE``, so the planner knows the new sizes, and
on PostgreSQL ``VACUUM`` once committed, so index-only scans stay index-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from ..domain.store import db

Row = tuple[Any, ...]
_LOADED_TABLES = "educonnect_loaded_tables"
Progress = Callable[[str], None]

# For the load's transaction only (``db`` puts the second values back afterwards): no
# foreign-key check per row, no fsync, room for the indexes being built in memory.
_SQLITE_LOAD_PRAGMAS = (
    ("foreign_keys", "OFF", "ON"),
    ("synchronous", "OFF", "FULL"),
    ("cache_size", "-500000", "-2000"),
    ("temp_store", "MEMORY", "DEFAULT"),
)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One connection and transaction tuned for loading; commit on success, else roll back.

    An ORM ``Session(bind=connection)`` may be used inside it for the few rows that need
    the domain services (staff, audit): they commit or roll back with the load.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            _vacuum(engine, connection.info.pop(_LOADED_TABLES, ()))
            return
        db.sqlite_pragmas_for_transaction(connection, _SQLITE_LOAD_PRAGMAS)
        connection.commit()  # ends SQLAlchemy's autobegun transaction: nothing to commit
        with connection.begin():
            # The driver would only BEGIN at the first INSERT, after the DDL below.
            connection.exec_driver_sql("BEGIN")
            yield connection


def _vacuum(engine: Engine, tables: Sequence[str]) -> None:
    """PostgreSQL, after the commit (VACUUM cannot run in a transaction): mark the new
    rows visible to all in the visibility map. Until then every index-only scan visits the
    table too: a common word's token range read 15,000 heap rows (140 ms instead of 3)."""
    if not tables:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.exec_driver_sql(f"VACUUM {table}")


def next_ids(connection: Connection, tables: Iterable[str]) -> dict[str, int]:
    """The first free id of each table (ids are assigned here, contiguous)."""
    return {
        table: int(connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar()
                   or 0) + 1
        for table in tables
    }  # fmt: skip


def load(
    connection: Connection,
    tables: Mapping[str, tuple[Sequence[str], list[Row]]],
    progress: Progress,
) -> None:
    """Insert every table's rows (parents first, as given), indexes rebuilt once after."""
    if connection.dialect.name == "postgresql":
        _load_postgres(connection, tables, progress)
    else:
        _load_sqlite(connection, tables, progress)


def _load_sqlite(
    connection: Connection,
    tables: Mapping[str, tuple[Sequence[str], list[Row]]],
    progress: Progress,
) -> None:
    names = list(tables)
    marks = ", ".join("?" for _ in names)
    indexes = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks}) ORDER BY name",
        tuple(names),
    ).all()
    for name, _sql in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    raw: Any = connection.connection.driver_connection
    cursor = raw.cursor()
    for table, (columns, rows) in tables.items():
        progress(f"écriture\u00a0: {table} ({_count(len(rows))} lignes)")
        values = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})", rows)
    progress(f"index\u00a0: {len(indexes)} à reconstruire")
    for _name, sql in indexes:
        connection.exec_driver_sql(sql)
    progress("statistiques (ANALYZE)")
    connection.exec_driver_sql("ANALYZE")


def _load_postgres(
    connection: Connection,
    tables: Mapping[str, tuple[Sequence[str], list[Row]]],
    progress: Progress,
) -> None:
    names = list(tables)
    constraints = list(
        connection.exec_driver_sql(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
            "FROM pg_constraint c WHERE (c.conrelid = ANY(%(tables)s::regclass[]) "
            "AND c.contype IN ('p', 'u', 'f')) "
            "OR (c.confrelid = ANY(%(tables)s::regclass[]) AND c.contype = 'f')",
            {"tables": names},
        )
    )
    indexes = connection.exec_driver_sql(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%(tables)s::regclass[]) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        {"tables": names},
    ).all()
    # Foreign keys first (they depend on the keys), then keys; rebuilt in reverse order.
    constraints.sort(key=lambda row: row[3] != "f")
    for table, name, _definition, _kind in constraints:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        for table, (columns, rows) in tables.items():
            progress(f"écriture\u00a0: {table} ({_count(len(rows))} lignes)")
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    progress(f"index\u00a0: {len(indexes) + len(constraints)} à reconstruire")
    for table, name, definition, _kind in reversed(constraints):
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        connection.exec_driver_sql(definition)
    for table in (name for name in names if "id" in tables[name][0]):
        sequence = connection.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%(table)s, 'id')", {"table": table}
        ).scalar()
        if sequence:
            connection.exec_driver_sql(
                f"SELECT setval(%(seq)s, (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
                {"seq": sequence},
            )
    progress("statistiques (ANALYZE)")
    for table in names:
        connection.exec_driver_sql(f"ANALYZE {table}")
    connection.info[_LOADED_TABLES] = names  # vacuumed after the commit (``transaction``)


def _count(number: int) -> str:
    return f"{number:,}".replace(",", " ")
