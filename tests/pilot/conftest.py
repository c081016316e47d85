"""A small school built with the factories, for Pilot tests that need exact numbers.

The demo (``principal_app`` in tests/conftest.py) is realistic; this one is tiny and
known to the account: class 6E1 with three pupils, each with one guardian, a pupil who
left (désactivé), and a principal signed in from the administrative network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.domain.model.enums import PupilStatus
from educonnect_tui.domain.model.states import Event, transition
from educonnect_tui.domain.model.tables import Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests import factories
from tests.conftest import FAST_HASH, FakeClock

SMALL_NOW = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SmallSchool:
    services: Services
    pupils: tuple[int, ...]  # enrolled, non notifié, in name order
    guardians: tuple[int, ...]  # one per pupil, same order
    left: int  # the désactivé pupil


@pytest.fixture
def small_school(sqlite_url: str, tmp_path: Path) -> Iterator[SmallSchool]:
    (tmp_path / "sorties").mkdir(exist_ok=True)
    services = Services.from_settings(
        Settings(
            database_url=sqlite_url,
            output_dir=tmp_path / "sorties",
            admin_networks=[],
            hash_workers=1,
        ),
        clock=FakeClock(SMALL_NOW),
        hash_params=FAST_HASH,
    )
    pupils, guardians = [], []
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for first, last in (("Anne", "Bernard"), ("Chloé", "Durand"), ("Éric", "Faure")):
            pupil = factories.pupil(session, school, first_name=first, last_name=last)
            guardian = factories.guardian(session, [pupil], first_name="Parent", last_name=last)
            pupils.append(pupil.id)
            guardians.append(guardian.id)
        gone = factories.pupil(
            session, school, first_name="Gilles", last_name="Henry", status=PupilStatus.LEFT
        )
        gone.state = transition(gone.kind, gone.state, Event.DEACTIVATE)
    factories.staff_member(services)
    yield SmallSchool(services, tuple(pupils), tuple(guardians), gone.id)
    services.engine.dispose()


@pytest.fixture
def small_app(small_school: SmallSchool) -> Callable[[], EduConnectApp]:
    def build() -> EduConnectApp:
        services = small_school.services
        with services.sessions() as session:
            login = session.scalars(select(Staff.login)).one()
        session_ = factories.signed_in(services, login, factories.DEFAULT_UAI)
        return create_app(services, signed_in=session_)

    return build
