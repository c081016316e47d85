"""What a person's name may contain: the one rule every import of a name goes through.

A name is letters of any script (with their combining accents), separated by spaces,
apostrophes, hyphens or dots: « N'Diaye », « Jean-Éric », « O’Brien », « St. John »,
« Ølstad », « Дмитро », « 李 ». Anything else in a name cell is a mistake or an attack:
a control character drives the terminal that shows it, a bidi override or a zero-width
character makes the name read as another one. Such a name is refused, with the reason,
rather than silently changed: the school corrects SIECLE, which keeps the truth.
"""

from __future__ import annotations

import unicodedata

from .printable import is_unprintable, mark

__all__ = ["NAME_PUNCTUATION", "name_problem", "normal_name"]

# Apostrophes (typewriter, typographic, modifier letter), hyphens (ASCII, Unicode,
# non-breaking), the dot of abbreviations, and the space between words.
NAME_PUNCTUATION = frozenset("'’ʼ-‐‑. ")


def normal_name(text: str) -> str:
    """The form a name is stored in: NFC, single spaces, no space at either end.

    NFC so that « é » typed as one character or as « e » and an accent is the same name
    (equal, searched, sorted alike). Only spaces are collapsed: any other character is
    left for ``name_problem`` to judge.
    """
    return " ".join(unicodedata.normalize("NFC", text).split(" ")).strip(" ")


def _allowed(char: str) -> bool:
    return char in NAME_PUNCTUATION or unicodedata.category(char)[0] in "LM"


def name_problem(name: str) -> str | None:
    """Why ``name`` (already ``normal_name``) is not a person's name, or None if it is.

    The reason is French, fit to follow « nom de famille » in an import report, and
    shows the offending character only as a visible mark or a code point.
    """
    for char in name:
        if _allowed(char):
            continue
        code = f"U+{ord(char):04X}"
        if is_unprintable(char):
            return f"caractère de contrôle ou invisible {code} ({mark(char)}) interdit"
        return f"caractère « {char} » ({code}) interdit dans un nom"
    if name and not any(unicodedata.category(c)[0] == "L" for c in name):
        return "aucune lettre"
    return None
