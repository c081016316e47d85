"""The app's last line of defence: no character the terminal would obey leaves a widget.

Screens draw what the domain gives them through ``printable.escaped``, so an odd name is
shown with visible marks (``␛``, ``\\u202e``). Textual does not strip control characters
from text it draws: an ``ESC ] 52`` in a name reached the terminal and set the
operator's clipboard. This filter runs on every line every widget renders, so a label
forgotten by a screen, a widget of Textual's own or an error message cannot let one
through; it removes them (they take no cell, so nothing moves).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from ..domain.model.printable import is_unprintable, unprintable


def _visible(text: str) -> str:
    kept = "".join(c for c in text if not is_unprintable(c))
    return kept + " " * (cell_len(text) - cell_len(kept))  # the width the line was laid out with


class NoTerminalControl(LineFilter):
    """Drops control and invisible characters from the text of every segment."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(s.control is None and unprintable(s.text) for s in segments):
            return segments
        return [
            Segment(_visible(s.text), s.style, s.control)
            if s.control is None and unprintable(s.text)
            else s
            for s in segments
        ]
