"""Rows that belong to another school: a file of another UAI, a class the school cannot have.

Checked on the rows as read (``Rows``), before and beside the cell checks, so that every
importer that goes through the shared apply code gets them, and a row with a bad date
and a class of the wrong level is told both in one line.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model.enums import Level
from ..model.printable import excerpt
from ..model.tables import Establishment
from . import cells
from .reading import Column, Rows
from .report import RowError

# Optional in both files: when present, every row must name the school imported into.
UAI_COLUMN = Column("uai", "UAI", ("UAJ", "Code UAI", "RNE", "Code RNE"), required=False)


def foreign_rows(
    school: Establishment, columns: dict[str, str], rows: Rows, *, divisions: bool
) -> list[RowError]:
    """Rows of another school's file, and (``divisions``) classes of a level it has not."""
    errors: list[RowError] = []
    uai_header = columns.get("uai")
    division_header = columns.get("division") if divisions else None
    for line, values in rows:
        reasons: list[str] = []
        if uai_header is not None:
            reason = other_uai(school, values[uai_header])
            if reason is not None:
                reasons.append(reason)
        if division_header is not None:
            reason = misfit_class(school, values[division_header])
            if reason is not None:
                reasons.append(reason)
        if reasons:
            errors.append(RowError(line, " ; ".join(reasons)))
    return errors


def other_uai(school: Establishment, value: str) -> str | None:
    """An empty cell says nothing; any other UAI than the school's refuses the row."""
    given = cells.clean(value).upper()
    if not given or given == school.uai:
        return None
    return (
        f"établissement « {excerpt(given)} »\u00a0: cette ligne est celle d'un autre "
        f"établissement que {school.uai} ({excerpt(school.name)})"
    )


def misfit_class(school: Establishment, value: str, level_code: str | None = None) -> str | None:
    """A class of a level the school's type does not have (6E1 in an école): the level the
    file gives (SIECLE's MEF code), else the one the name tells."""
    name = cells.clean(value)
    level = Level(level_code) if level_code else Level.of_division(name)
    if not name or school.type.has_level(level):
        return None
    return (
        f"classe « {excerpt(name)} » refusée\u00a0: le niveau {level.value} n'existe pas "
        f"dans {school.type.with_article}"
    )


def merged(errors: Iterable[RowError], more: Iterable[RowError]) -> list[RowError]:
    """One error per line, the reasons of both lists joined as the cell checks join them."""
    by_line: dict[int, list[str]] = {}
    for error in (*errors, *more):
        by_line.setdefault(error.line, []).append(error.reason.strip())
    return [
        RowError(line, " ; ".join([*(r.rstrip(".") for r in reasons[:-1]), reasons[-1]]))
        for line, reasons in sorted(by_line.items())
    ]
