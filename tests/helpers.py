"""Helpers shared by test modules, which never import one another."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec

from textual.pilot import Pilot

P = ParamSpec("P")

RunCli = Callable[[list[str]], tuple[int, str, str]]
"""The ``run_cli`` fixture (tests/conftest.py): arguments to (exit code, stdout, stderr)."""


def sync(test: Callable[P, Coroutine[object, object, None]]) -> Callable[P, None]:
    """Run an async Pilot test without an async pytest plugin."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers (counts, pages, classes) finish and the screen repaint."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
