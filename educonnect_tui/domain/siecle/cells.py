"""Checks of one cell each, so a row's message lists every problem and not just the first.

A check returns the cleaned value or raises ``CellError`` with the French reason that
ends up in the report next to the line number. No cell keeps a control or invisible
character (``model/printable.py``): whitespace of any kind becomes one space, anything
else is refused, and a value quoted back in a reason is shown escaped and shortened.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TypeVar

from ..model.calendar import parse_date
from ..model.errors import InvalidInput
from ..model.identifiers import fold, normalize_ine
from ..model.names import name_problem, normal_name
from ..model.printable import excerpt, mark, unprintable

_T = TypeVar("_T")

# Only tells a malformed date from a day that does not exist: parse_date reads it.
_DATE_SHAPE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
_EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_SPACES = re.compile(r"\s+")


def clean(value: str) -> str:
    """One space for any run of whitespace (tabs, line breaks, no-break spaces)."""
    return _SPACES.sub(" ", value).strip()


def printable(value: str, what: str) -> str:
    """``value`` cleaned, refused if a control or invisible character is left in it."""
    value = clean(value)
    char = unprintable(value)
    if char is not None:
        raise CellError(
            f"{what} : caractère de contrôle ou invisible U+{ord(char):04X} ({mark(char)}) interdit"
        )
    return value


class CellError(Exception):
    """Why one cell is rejected."""


class Checks:
    """Runs every cell check of a row and keeps all the reasons, not just the first."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def run(self, check: Callable[..., _T], *args: object) -> _T | None:
        try:
            return check(*args)
        except CellError as error:
            self.reasons.append(str(error))
            return None

    def summary(self) -> str:
        """Every reason in one line: « INE invalide… ; nom de famille manquant ».

        A reason may be a whole sentence of its own (the INE rule's ends with a full
        stop): followed by another, it is a clause, so its stop goes.
        """
        *first, last = [reason.strip() for reason in self.reasons]
        return " ; ".join([*(reason.rstrip(".") for reason in first), last])

    def optional(self, value: str | None, parse: Callable[..., str], *args: object) -> str | None:
        """None when the column is absent: the stored value is then left alone."""
        return None if value is None else self.run(parse, value, *args)


def text(value: str, what: str, limit: int, required: bool = False) -> str:
    value = clean(value)
    if required and not value:
        raise CellError(f"{what} manquant")
    if len(value) > limit:
        raise CellError(f"{what} trop long ({len(value)} caractères, {limit} au plus)")
    return printable(value, what)


def name(value: str, what: str, limit: int, required: bool = False) -> str:
    """A person's name: the rule of ``model/names.py``, stored in its normal form."""
    value = normal_name(text(value, what, limit, required))
    problem = name_problem(value)
    if problem is not None:
        raise CellError(f"{what} « {excerpt(value)} » refusé\u00a0: {problem}")
    return value


def ine(value: str, what: str = "INE") -> str:
    if not value.strip():
        raise CellError(f"{what} manquant")
    try:
        return normalize_ine(value)
    except InvalidInput as error:
        raise CellError(str(error)) from None


def birth_date(value: str, today: dt.date) -> dt.date:
    """``today`` is the school's: a pupil born there this morning is not yet in a file."""
    value = value.strip()
    if not value:
        raise CellError("date de naissance manquante")
    try:
        date = parse_date(value)
    except InvalidInput:
        if _DATE_SHAPE.fullmatch(value):
            raise CellError(
                f"date de naissance « {excerpt(value)} » invalide\u00a0: ce jour n'existe pas"
            ) from None
        raise CellError(
            f"date de naissance « {excerpt(value)} » invalide\u00a0: format attendu JJ/MM/AAAA"
        ) from None
    if date.year < 1900 or date >= today:
        raise CellError(f"date de naissance « {excerpt(value)} » invalide\u00a0: date impossible")
    return date


def division(value: str) -> str:
    value = clean(value)
    if not value:
        raise CellError("classe inconnue\u00a0: la colonne « Division » est vide")
    if len(value) > 40:
        raise CellError(f"classe « {excerpt(value)} » invalide\u00a0: 40 caractères au plus")
    return printable(value, "classe")


_YES = {"oui", "o", "1", "vrai", "x"}
_NO = {"non", "n", "0", "faux"}


def legal(value: str) -> bool:
    folded = fold(value.strip())
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    if not folded:
        raise CellError("représentant légal manquant\u00a0: Oui ou Non")
    raise CellError(f"représentant légal « {excerpt(value.strip())} » invalide\u00a0: Oui ou Non")


def email(value: str) -> str:
    value = printable(value, "courriel")
    if not value:
        return ""
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise CellError(f"courriel « {excerpt(value)} » invalide")
    return value


def mobile(value: str) -> str:
    """Compact form, so the same number written "06 12 34 56 78" or "06.12.34.56.78" is equal."""
    value = printable(value, "téléphone portable")
    if not value:
        return ""
    compact = re.sub(r"[\s.\-/()]", "", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+33") and len(compact) == 12:
        compact = "0" + compact[3:]
    if re.fullmatch(r"0\d{9}", compact) or re.fullmatch(r"\+\d{8,15}", compact):
        return compact
    raise CellError(f"téléphone portable « {excerpt(value)} » invalide")


_CIVILITIES = {"m": "M.", "mr": "M.", "monsieur": "M.", "mme": "Mme", "madame": "Mme"}


def civility(value: str) -> str:
    value = printable(value, "civilité")
    known = _CIVILITIES.get(fold(value).rstrip("."))
    if known:
        return known
    if len(value) > 10:
        raise CellError(f"civilité « {excerpt(value)} » invalide")
    return value
