"""The TUI's terminal may vanish under it: an SSH link that drops, a closed window.

Textual writes the screen from a thread through a queue of 30 writes; when the terminal
is gone the write fails (EIO on a hung-up pseudo-terminal), that thread dies, the queue
fills and the interface's own thread blocks forever on the next write. Its event loop
then never runs the hang-up handler (``EduConnectApp.stop_for_signal``): the process and
its hashing workers stay, a notification never cancelled, the SQLite file or the
PostgreSQL connection held.

So the driver writes to ``TerminalFile``: the first failed write marks the terminal
lost, every later one is dropped at once, and the process sends itself SIGHUP, the
signal a hang-up would have sent (it may also have come, which changes nothing).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver


def hang_up() -> None:
    with contextlib.suppress(OSError, AttributeError):  # no SIGHUP outside POSIX
        os.kill(os.getpid(), signal.SIGHUP)


class TerminalFile:
    """The driver's output file, which stops writing once the terminal is gone."""

    def __init__(self, file: IO[str], on_lost: Callable[[], None] = hang_up) -> None:
        self._file = file
        self._on_lost = on_lost
        self.lost = False

    def _lose(self) -> None:
        if not self.lost:
            self.lost = True
            self._on_lost()

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return self._file.write(text)
            except (OSError, ValueError):  # EIO, EPIPE; ValueError: the file was closed
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._lose()

    def __getattr__(self, name: str) -> Any:
        """``fileno``, ``isatty``, ``encoding``: the real file's."""
        return getattr(self._file, name)


class SurvivingLinuxDriver(LinuxDriver):
    """Textual's terminal driver, writing through ``TerminalFile``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = TerminalFile(self._file)  # type: ignore[assignment, arg-type]
