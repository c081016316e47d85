"""Process-wide settings of the TUI's process: the garbage collector and the GIL switch.

They are set by the entry point (``cli.main`` while it loads the commands, ``app.run_app``
when the interface opens), never by importing the package or building an ``App``: tests
and anything else that imports educonnect_tui keep Python's defaults.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# What the interface runs with once started: a repaint allocates thousands of short-lived
# objects, so the young generation is collected less often, the old ones much less.
_INTERFACE_THRESHOLDS = (10_000, 20, 100)


@contextmanager
def loading() -> Iterator[None]:
    """Import the heavy modules with the cyclic collector nearly idle, then put it back.

    Importing SQLAlchemy, pydantic and Textual creates a few hundred thousand objects that
    live as long as the process; with the default thresholds the collector walks them
    again and again while they load (~100 ms of a 1 s start).
    """
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def for_interface() -> None:
    """Before the TUI starts: the interface thread gets the GIL back every millisecond.

    Workers (queries, notification) share the GIL with the interface; sqlite3 gives it up
    around every row and waits a whole switch interval to get it back while the interface
    runs Python: 1 ms instead of 5 lets a first page arrive in tens of milliseconds during
    start-up, and a key press wait less.
    """
    sys.setswitchinterval(0.001)
    gc.set_threshold(100_000, 50, 100)  # until the first paint: start-up builds to keep


def freeze_start_up_objects() -> None:
    """After the first paint: move what start-up built out of the collector's sight.

    Full collections otherwise walk those hundreds of thousands of objects (modules,
    styles, mappers) every few screens, a 100 ms pause that shows as a filter change
    answering late.
    """
    if gc.get_freeze_count():
        return  # once per process
    gc.freeze()  # no collection first: it cost ~50 ms before the first rows, to free little
    gc.set_threshold(*_INTERFACE_THRESHOLDS)
