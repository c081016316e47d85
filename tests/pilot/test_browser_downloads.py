"""In a browser, documents go to the browser as downloads: at once, or after the lock.

Pilot runs the headless driver, not the web one, so the delivery itself (Textual's
``deliver_binary``) is recorded here; the real download in Chromium is
tests/browser/test_serve_browser.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from educonnect_tui.app import EduConnectApp
from tests.helpers import settle, sync

AppFactory = Callable[[], EduConnectApp]


def _recording(app: EduConnectApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    delivered: list[str] = []

    def deliver_binary(path: Path, **options: object) -> str:
        assert options["save_filename"] == path.name and options["open_method"] == "download"
        delivered.append(path.name)
        return path.name

    monkeypatch.setattr(app, "deliver_binary", deliver_binary)
    return delivered


@sync
async def test_documents_of_a_job_are_delivered_from_its_thread(
    small_app: AppFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = small_app()
    delivered = _recording(app, monkeypatch)
    async with app.run_test() as pilot:
        await settle(pilot)
        job = threading.Thread(
            target=app.deliver_documents, args=((tmp_path / "a.pdf", tmp_path / "a.csv"),)
        )
        job.start()
        while job.is_alive():
            await pilot.pause(0.01)
        assert delivered == ["a.pdf", "a.csv"]


@sync
async def test_under_the_lock_the_browser_gets_nothing_until_the_unlock(
    small_app: AppFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = small_app()
    delivered = _recording(app, monkeypatch)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.lock_now()
        await pilot.pause()
        app.deliver_documents((tmp_path / "b.pdf",))
        assert delivered == []
        app.unlock()
        await pilot.pause()
        assert delivered == ["b.pdf"]


@sync
async def test_another_user_at_the_lock_never_gets_them(
    small_app: AppFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = small_app()
    delivered = _recording(app, monkeypatch)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.lock_now()
        await pilot.pause()
        app.deliver_documents((tmp_path / "c.pdf",))
        app.sign_out_from_lock()  # « Changer d'utilisateur »
        await settle(pilot)
        app.unlock()
        await pilot.pause()
        assert delivered == []
