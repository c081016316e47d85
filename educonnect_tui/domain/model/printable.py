"""Text made harmless for a terminal: control and invisible characters shown, never obeyed.

Names and cells come from SIECLE files, and what an earlier version imported is still in
the database. Written raw to a terminal, ``ESC ] 52`` sets the operator's clipboard,
``ESC ] 0`` the window title, ``ESC [ 2J`` wipes the screen, and a bidi override or a
zero-width character makes a name read differently from what it is. Every interface
passes what it shows through ``for_terminal``: the character stays visible as a mark
(``␛``, ``\\u202e``), so the operator sees that the data is odd instead of being fooled by it.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = [
    "UNPRINTABLE_CATEGORIES",
    "escaped",
    "excerpt",
    "for_terminal",
    "is_unprintable",
    "mark",
    "unprintable",
]

# Controls (C0, DEL, C1), formats (bidi controls, zero-width characters, BOM), private
# use, surrogates, unassigned code points, and the line and paragraph separators.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_DEL = "\x7f"


def is_unprintable(char: str) -> bool:
    return unicodedata.category(char) in UNPRINTABLE_CATEGORIES


def unprintable(text: str) -> str | None:
    """The first character of ``text`` a terminal would obey or hide, if any."""
    if text.isprintable():  # in C: its non-printables are ours plus the odd spaces
        return None
    return next((c for c in text if is_unprintable(c)), None)


def mark(char: str) -> str:
    """How one unprintable character is shown: a control picture, or its code point."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟: ESC is ␛, BEL is ␇
    if char == _DEL:
        return "␡"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def for_terminal(text: str, *, keep: str = "") -> str:
    """``text`` with every unprintable character replaced by its visible mark.

    ``keep`` lists the controls the output means (the line feeds of a multi-line
    report); a one-line value keeps none.
    """
    if unprintable(text) is None:
        return text
    return "".join(c if c in keep or not is_unprintable(c) else mark(c) for c in text)


def excerpt(text: str, length: int = 40) -> str:
    """A value quoted back in a message: escaped, and cut so the message stays one line."""
    if len(text) > length:
        text = text[: length - 1] + "…"
    return for_terminal(text)


def escaped(value: _T) -> _T:
    """A read model as a screen draws it: every string in it through ``for_terminal``.

    The screens get frozen dataclasses (and tuples or lists of them) from the domain and
    pass them here once, as they arrive, so no label, cell or line drawn from them can
    forget the escaping. What is not a string (ids, dates, enums) is left as it is.
    """
    given: Any = value
    result: Any = given
    if type(given) is str:
        result = for_terminal(given)
    elif dataclasses.is_dataclass(given) and not isinstance(given, type):
        changes = {
            field.name: escaped(getattr(given, field.name))
            for field in dataclasses.fields(given)
            if field.init
        }
        if any(changes[name] is not getattr(given, name) for name in changes):
            result = dataclasses.replace(given, **changes)
    elif type(given) in (tuple, list):
        items = [escaped(item) for item in given]
        if any(new is not old for new, old in zip(items, given, strict=True)):
            result = type(given)(items)
    return result  # type: ignore[no-any-return]
