"""A deterministic demo school for snapshots: fixed seed, fixed clock, SQLite.

Built once per session from the migrated template; each test gets its own copy, and the
app is built with ``create_app`` as in production.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.domain import demo
from educonnect_tui.domain.audit import Actor
from educonnect_tui.domain.services import Services
from educonnect_tui.domain.settings import Settings
from tests import factories
from tests.conftest import FAST_HASH, FakeClock

SNAPSHOT_NOW = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    services = Services.from_settings(
        Settings(database_url=f"sqlite:///{path}"),
        clock=FakeClock(SNAPSHOT_NOW),
        hash_params=FAST_HASH,
    )
    demo.create_demo(services, Actor(label="démo", source_address="test"))
    with services.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    services.engine.dispose()
    return path


@pytest.fixture
def demo_services(demo_template: Path, tmp_path: Path) -> Iterator[Services]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    services = Services.from_settings(
        Settings(database_url=f"sqlite:///{path}", output_dir=tmp_path / "sorties", hash_workers=1),
        clock=FakeClock(SNAPSHOT_NOW),
        hash_params=FAST_HASH,
    )
    yield services
    services.engine.dispose()


@pytest.fixture
def principal_app(demo_services: Services) -> Callable[[], EduConnectApp]:
    """The collège's principal, signed in from the administrative network."""

    def build() -> EduConnectApp:
        session = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
        return create_app(demo_services, signed_in=session)

    return build


async def settle(pilot: Pilot[None]) -> None:
    """Let workers (counts, pages) finish and the screen repaint."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
