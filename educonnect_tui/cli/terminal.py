"""What the command line writes is shown by a terminal, never obeyed by it.

Names, classes and headers come from imports, and a database filled before the import
refused control characters still holds some: printed raw, ``ESC ] 52`` would set the
operator's clipboard, ``ESC ] 0`` the window title, ``ESC [ 2J`` wipe the screen. Every
command's standard output goes through ``EscapedOutput``, so no command can forget it;
JSON escapes the same characters its own way (``\\u202e``), so programs still read the
exact data.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from ..domain.model.printable import for_terminal, is_unprintable

# The line breaks of a listing: a tab is shown as a mark like any other control.
_KEPT = "\n"


class EscapedOutput:
    """A text stream that writes ``for_terminal`` of what it is given to another one."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(for_terminal(text, keep=_KEPT))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextlib.contextmanager
def escaped_stdout() -> Iterator[None]:
    with contextlib.redirect_stdout(EscapedOutput(sys.stdout)):  # type: ignore[type-var]
        yield


def _json_escape(char: str) -> str:
    """``\\uXXXX``, as a pair of surrogates for a character outside the BMP."""
    encoded = char.encode("utf-16-be", "surrogatepass")
    return "".join(
        f"\\u{int.from_bytes(encoded[i : i + 2], 'big'):04x}" for i in range(0, len(encoded), 2)
    )


def json_text(data: object) -> str:
    """``data`` as readable JSON (accents as they are) with nothing a terminal obeys.

    ``json`` escapes the C0 controls itself; the other unprintable characters can only
    be inside strings, where ``\\uXXXX`` means exactly the same character.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return "".join(_json_escape(c) if is_unprintable(c) and c != "\n" else c for c in text)


# A drawing (a QR code) is dark marks on a light ground: black on bright white.
_DARK_ON_LIGHT = "\x1b[30;107m"
_RESET = "\x1b[0m"


def print_drawing(rows: list[str]) -> None:
    """Rows whose characters mark the dark parts, drawn dark on light on a terminal.

    The colours are the only control sequences a command writes on purpose, so they go
    to the stream beneath ``EscapedOutput``, around rows that are escaped as usual. A
    terminal with a dark theme would otherwise show the code inverted, which some
    phones refuse. Not a terminal (a pipe, a file), or ``NO_COLOR`` set: the rows alone.
    """
    stream = sys.stdout
    raw = stream._stream if isinstance(stream, EscapedOutput) else stream
    colours = "NO_COLOR" not in os.environ and raw.isatty()
    for row in rows:
        if colours:
            raw.write(f"{_DARK_ON_LIGHT}{for_terminal(row)}{_RESET}\n")
        else:
            print(row)
