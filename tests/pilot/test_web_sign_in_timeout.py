"""A browser session nobody signs in to ends: serve's sessions are few (``--max-sessions``)
and a tab left at the sign-in, or many opened on purpose, must not keep staff out."""

from __future__ import annotations

import pytest

from educonnect_tui.app import WEB_SIGN_IN_SECONDS, EduConnectApp, create_app
from educonnect_tui.domain.store.services import Services
from tests.helpers import sync


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("web", [True, False])
@sync
async def test_the_sign_in_of_a_browser_session_ends_after_five_idle_minutes(
    demo_services: Services, monkeypatch: pytest.MonkeyPatch, web: bool
) -> None:
    monkeypatch.setattr(EduConnectApp, "is_web", property(lambda self: web))
    clock = Clock()
    app = create_app(demo_services, idle_clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        clock.now += WEB_SIGN_IN_SECONDS - 5
        await pilot.press("a")  # a key starts the five minutes again
        clock.now += WEB_SIGN_IN_SECONDS - 1
        app.check_idle_lock()
        await pilot.pause()
        assert app.is_running
        clock.now += 1
        app.check_idle_lock()
        await pilot.pause()
        # A terminal's sign-in waits as long as it likes (sshd's own timeouts apply).
        assert app.is_running is not web
