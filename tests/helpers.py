"""Helpers shared by test modules, which never import one another."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState

if TYPE_CHECKING:
    from educonnect_tui.domain.store.services import Services

P = ParamSpec("P")

_BUSY = (WorkerState.PENDING, WorkerState.RUNNING)

RunCli = Callable[[list[str]], tuple[int, str, str]]
"""The ``run_cli`` fixture (tests/conftest.py): arguments to (exit code, stdout, stderr)."""


def sync(test: Callable[P, Coroutine[object, object, None]]) -> Callable[P, None]:
    """Run an async Pilot test without an async pytest plugin."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers (counts, pages, classes) finish and the screen repaint.

    A worker is started by a handler (``on_mount``) that may not have run yet, and its
    result may start another: wait until two pauses in a row find none running. On a
    loaded machine a fixed number of rounds let a modal open over a list whose rows had
    not been painted yet.
    """
    quiet = 0
    for _ in range(50):
        await pilot.pause()
        if any(w.state in _BUSY for w in pilot.app.workers):
            quiet = 0
            # A worker that closes its own screen is cancelled with it: done too.
            with contextlib.suppress(WorkerCancelled):
                await pilot.app.workers.wait_for_complete()
        else:
            quiet += 1
            if quiet == 2:
                return


def killed_run(services: Services, folder: Path) -> Path:
    """A document published by a run killed before its commit, its marker left beside it."""
    import os

    from educonnect_tui.domain.accounts import publishing

    publication = publishing.publication(services, services.clock())
    publication.stage(folder / "tuee.pdf", b"%PDF passwords that never became valid")
    publication.publish()
    for _, fd in publication._markers:  # a dead process's locks are released
        os.close(fd)
    publication._markers = []
    publication.files.clear()
    return folder / "tuee.pdf"


def colours_on_screen(app: App[Any], text: str) -> set[str]:
    """The foreground colours (``#rrggbb``) ``text`` is drawn in, wherever it is on screen.

    Read from the composed screen, as the terminal receives it (before the NO_COLOR
    filter): what a person sees, not what a widget meant to draw.
    """
    found: set[str] = set()
    for strip in app.screen._compositor.render_strips():
        segments = list(strip)
        line = "".join(segment.text for segment in segments)
        start = line.find(text)
        while start != -1:
            offset = 0
            for segment in segments:
                if offset + len(segment.text) > start:
                    colour = segment.style.color if segment.style else None
                    if colour is not None:
                        found.add(colour.get_truecolor().hex)
                    break
                offset += len(segment.text)
            start = line.find(text, start + 1)
    return found


def missing(part: str, reason: str) -> NoReturn:
    """A system part a test needs is missing: skipped with the reason, or failed where
    ``EDUCONNECT_REQUIRE_<PART>=1`` says it must be there (``.ci/run``)."""
    flag = f"EDUCONNECT_REQUIRE_{part}"
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 mais {reason}")
    pytest.skip(reason)
