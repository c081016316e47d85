"""The whole (re)Notifier flow from the keyboard, checked in the database and the PDF."""

from __future__ import annotations

import math
import stat
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from textual.widgets import Static

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain import notification
from educonnect_tui.domain.enums import AccountKind, AccountState
from educonnect_tui.domain.models import Account, Division, GuardianLink, Pupil
from educonnect_tui.domain.services import Services
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.notify import NotifyConfirmScreen, NotifyProgressScreen
from tests.helpers import settle, sync

AppFactory = Callable[[], EduConnectApp]


def _states(services: Services, ids: set[int]) -> Counter[AccountState]:
    with services.sessions() as session:
        return Counter(session.scalars(select(Account.state).where(Account.id.in_(ids))))


def _documents(services: Services) -> list[Path]:
    folder = services.settings.output_dir / "notifications"
    return sorted(folder.glob("*")) if folder.exists() else []


async def _filter_3e_red_and_yellow(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("c", *["down"] * 18, "space", "e", "space", "down", "space", "escape")
    await settle(pilot)


@sync
async def test_notify_3e_red_and_yellow_pupils(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _filter_3e_red_and_yellow(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        await pilot.press("a")
        await settle(pilot)
        chosen = set(home.selected[AccountKind.PUPIL])
        assert len(chosen) == home.table.total and chosen
        before = _states(demo_services, chosen)
        assert set(before) <= {AccountState.NOT_NOTIFIED, AccountState.NOTIFIED}

        await pilot.press("n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        text = str(confirm.query_one("#notify-summary", Static).render())
        assert f"{len(chosen)} compte(s)" in text and "fiches à découper" in text
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

        after = _states(demo_services, chosen)
        assert after == Counter({AccountState.NOTIFIED: len(chosen)})
        assert not home.selected[AccountKind.PUPIL]
        pdf, csv_path = (
            [p for p in _documents(demo_services) if p.suffix == ".pdf"],
            [p for p in _documents(demo_services) if p.suffix == ".csv"],
        )
        assert len(pdf) == 1 and len(csv_path) == 1
        assert stat.S_IMODE(pdf[0].stat().st_mode) == 0o600

        with demo_services.sessions() as session:
            per_class = Counter(
                session.scalars(
                    select(Division.name)
                    .join(Pupil, Pupil.division_id == Division.id)
                    .join(Account, Account.pupil_id == Pupil.id)
                    .where(Account.id.in_(chosen))
                )
            )
            logins = set(session.scalars(select(Account.login).where(Account.id.in_(chosen))))
        reader = PdfReader(pdf[0])
        expected_pages = sum(1 + math.ceil(n / 8) for n in per_class.values())
        assert len(reader.pages) == expected_pages
        text = "\n".join(page.extract_text() for page in reader.pages)
        assert all(login in text for login in logins)
        # Every slip carries its identifier once; the class lists name them again.
        assert all(text.count(login) >= 2 for login in logins)


@sync
async def test_cancel_during_the_job_changes_nothing(
    principal_app: AppFactory, demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hold the job after its first account until the user has pressed escape, so the
    # test does not depend on how fast the machine hashes.
    gate = threading.Event()
    real_notify = notification.notify

    def held_notify(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def gated(phase: str, done: int, total: int) -> None:
            progress(phase, done, total)
            gate.wait(10)

        kwargs["progress"] = gated
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(notification, "notify", held_notify)
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _filter_3e_red_and_yellow(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        shown = set(home.listing.ids(home.queries[AccountKind.PUPIL]))
        before = _states(demo_services, shown)
        with demo_services.sessions() as session:
            versions = session.execute(
                select(Account.id, Account.version).where(Account.id.in_(shown))
            ).all()
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause(0.2)
        progress = app.screen
        assert isinstance(progress, NotifyProgressScreen)
        await pilot.press("escape")
        assert progress.cancel_event.is_set()
        assert "Annulation" in str(progress.query_one("#progress-phase", Static).render())
        gate.set()
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert _states(demo_services, shown) == before
        with demo_services.sessions() as session:
            assert (
                versions
                == session.execute(
                    select(Account.id, Account.version).where(Account.id.in_(shown))
                ).all()
            )
        assert _documents(demo_services) == []
        assert any("annulée" in n.message for n in app._notifications)


@sync
async def test_r_notifies_exactly_that_pupils_guardians_and_detail_shows_history(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        row = home.table.current_row
        assert row is not None
        with demo_services.sessions() as session:
            pupil_id = session.scalar(select(Account.pupil_id).where(Account.id == row.account_id))
            guardians = set(
                session.scalars(
                    select(Account.id)
                    .join(GuardianLink, GuardianLink.guardian_id == Account.guardian_id)
                    .where(GuardianLink.pupil_id == pupil_id)
                )
            )
        assert guardians
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert _states(demo_services, guardians) == Counter({AccountState.NOTIFIED: len(guardians)})
        [pdf] = [p for p in _documents(demo_services) if p.suffix == ".pdf"]
        assert len(PdfReader(pdf).pages) == len(guardians)

        # The guardian's detail shows the notification in its history.
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *row.last_name.split()[0].lower(), "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        table = home.table
        for index in range(table.total or 0):
            candidate = table.row_at(index)
            if candidate is not None and candidate.account_id in guardians:
                table.cursor = index
                break
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.account_id in guardians
        history = str(detail.query_one("#detail-history", Static).render())
        assert "(re)notification" in history and "Philippe Marchand" in history
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
