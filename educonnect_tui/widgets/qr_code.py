"""A QR code in the terminal: ``qr_rows``' half blocks, dark modules dark on light.

The colours are explicit (black on white), never the theme's: a phone reads a dark code
on a light ground, and the theme may be dark or light. Without colours (NO_COLOR, where
Textual drops every colour) the blocks take the terminal's own text colour, light on
most terminals: the code is then drawn the other way round, so that its dark modules
are the terminal's dark background; ``inverted`` swaps it back for a terminal with dark
text on a light ground (`i` in the credentials dialog).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

DARK_ON_LIGHT = Style(color="#000000", bgcolor="#ffffff")
# Each half block becomes the one that covers the other half.
_NEGATIVE = str.maketrans({" ": "█", "█": " ", "▀": "▄", "▄": "▀"})


def negative(rows: Sequence[str]) -> list[str]:
    """The same code with the blocks marking its light modules instead of its dark ones."""
    return [row.translate(_NEGATIVE) for row in rows]


class QrCode(Widget, can_focus=False):
    DEFAULT_CSS = """
    QrCode {
        width: auto;
        height: auto;
    }
    """

    inverted: reactive[bool] = reactive(False)

    def __init__(
        self, rows: Sequence[str], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.rows = list(rows)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((len(row) for row in self.rows), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.rows)

    def drawn_rows(self) -> list[str]:
        """The characters as the terminal shows them, with or without colours."""
        blocks_are_dark = not self.app.no_color
        return self.rows if blocks_are_dark != self.inverted else negative(self.rows)

    def render(self) -> Text:
        return Text("\n".join(self.drawn_rows()), style=DARK_ON_LIGHT, no_wrap=True, end="")

    def clear(self) -> None:
        """Forget the code (it holds a secret) and draw nothing."""
        self.rows = []
        self.refresh(layout=True)
