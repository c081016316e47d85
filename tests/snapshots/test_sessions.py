"""Snapshots of the idle lock (after a wrong password), the forced password change and
the password asked again before a revocation, at 80×24 and 120×40, on the demo."""

from __future__ import annotations

from dataclasses import replace

import pytest

from educonnect_tui.app import create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.helpers import settle
from tests.snapshots.conftest import SIZES


class IdleClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("size", SIZES)
def test_idle_lock(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    clock = IdleClock()
    caller = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=caller, idle_clock=clock)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        clock.now += demo_services.settings.idle_lock_minutes * 60
        app.check_idle_lock()
        await settle(pilot)
        await pilot.press(*"mauvais", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_forced_password_change(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    caller = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=replace(caller, password_change_required=True))

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*"Nouveau-2027", "enter", *"Autre-2027", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_password_asked_before_a_revocation(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    caller = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=caller)
    clock = demo_services.clock
    assert isinstance(clock, FakeClock)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        clock.advance(minutes=demo_services.settings.reauth_minutes + 1)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
