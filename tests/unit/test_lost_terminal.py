"""A terminal that vanishes (EIO) must not block the interface's thread forever."""

from __future__ import annotations

import io
import threading

import pytest
from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

from educonnect_tui.lost_terminal import TerminalFile


class HungUp(io.StringIO):
    """A hung-up pseudo-terminal: every write and flush fails with EIO."""

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")

    def flush(self) -> None:
        raise OSError(5, "Input/output error")


def _writes_finish(file: object) -> bool:
    """Whether 3 × the queue's worth of writes through Textual's writer thread end."""
    writer = WriterThread(file)  # type: ignore[arg-type]
    writer.start()
    done = threading.Event()

    def draw() -> None:
        for _ in range(3 * MAX_QUEUED_WRITES):
            writer.write("\x1b[1;1Hécran")
        done.set()

    threading.Thread(target=draw, daemon=True).start()
    return done.wait(3)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_textuals_writer_blocks_for_ever_on_a_hung_up_terminal() -> None:
    """Why TerminalFile exists: the thread dies on EIO and its queue fills."""
    assert not _writes_finish(HungUp())


def test_through_terminal_file_writes_are_dropped_and_a_hang_up_is_sent_once() -> None:
    lost: list[bool] = []
    terminal = TerminalFile(HungUp(), on_lost=lambda: lost.append(True))
    assert _writes_finish(terminal)
    assert terminal.lost
    assert lost == [True]


def test_a_working_terminal_is_written_to() -> None:
    out = io.StringIO()
    terminal = TerminalFile(out, on_lost=lambda: None)
    terminal.write("abc")
    terminal.flush()
    assert out.getvalue() == "abc" and not terminal.lost
    assert terminal.getvalue() == "abc"  # anything else is the real file's
