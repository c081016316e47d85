"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from educonnect_tui.domain.model.tables import Base
from educonnect_tui.domain.store import db


def test_migrations_match_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        # FULL: a commit whose documents are already published survives a power cut.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    engine.dispose()


def test_head_revision_constant_is_alembics_head(sqlite_url: str) -> None:
    from alembic.script import ScriptDirectory

    engine = db.make_engine(sqlite_url)
    script = ScriptDirectory.from_config(db._alembic_config(engine))
    assert script.get_current_head() == db.HEAD_REVISION
    assert db.current_revision(engine) == db.HEAD_REVISION
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_keeps_the_urls_own_options(postgres_schema: str) -> None:
    """A URL's ``options`` (here the tests' private schema) survive the session settings."""
    engine = db.make_engine(postgres_schema)
    with engine.connect() as connection:
        search_path = connection.exec_driver_sql("SHOW search_path").scalar()
        page_cost = connection.exec_driver_sql("SHOW random_page_cost").scalar()
    engine.dispose()
    schema = str(postgres_schema).split("search_path%3D")[-1].split("&")[0]
    assert search_path == schema and page_cost == "1.1"
