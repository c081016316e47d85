"""« Éditer les listes »: the accounts of a selection, per class, as a PDF and a CSV.

Printed at any time (before a notification, to chase the accounts not activated yet),
so it holds no password and changes none: per class, who has which account, in which
state, since when, with a box to tick by hand. Guardians are filed under the class of
their youngest child, as their letters are (``text.home_child``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import french
from ..model.calendar import date_text
from ..model.enums import AccountKind, AccountState
from .credentials import DocumentContext
from .list_pages import Column, list_pages
from .pdf import MONO, SANS, new_pdf, render
from .spreadsheet import csv_bytes
from .text import clean, pupil_name

NO_CLASS = "Sans enfant scolarisé ici"


@dataclass(frozen=True)
class ListedAccount:
    login: str
    state: AccountState
    last_name: str
    first_name: str
    civility: str = ""
    notified_on: dt.date | None = None  # the school's day
    activated_on: dt.date | None = None
    children: tuple[str, ...] = ()  # guardians: "DUPONT Jeanne (3E2)", youngest first

    def name(self) -> str:
        named = pupil_name(self.last_name, self.first_name)
        civility = clean(self.civility)
        return f"{civility} {named}" if civility else named


@dataclass(frozen=True)
class ListedClass:
    """One class of the list; ``division`` empty for guardians with no child here."""

    division: str
    level: str
    rows: tuple[ListedAccount, ...]

    @property
    def title(self) -> str:
        return f"Classe {clean(self.division)}" if self.division else NO_CLASS


def state_text(state: AccountState) -> str:
    """« ✓ activé »: the symbol for the eye, the word for whoever prints in black."""
    return f"{state.symbol} {state.label}"


def _day(day: dt.date | None) -> str:
    return date_text(day) if day is not None else ""


_PUPIL_COLUMNS = (
    Column("N°", 9),
    Column("Élève", 50, style="B"),
    Column("Identifiant", 38, family=MONO, style="B"),
    Column("État", 36),
    Column("Notifié le", 19),
    Column("Activé le", 18),
    Column("Vu", 10, tick=True),
)
_GUARDIAN_COLUMNS = (
    Column("N°", 8),
    Column("Représentant légal", 40, style="B"),
    Column("Enfant", 31),
    Column("Identifiant", 28, family=MONO, style="B"),
    Column("État", 30),
    Column("Notifié", 17),
    Column("Activé", 17),
    Column("Vu", 9, tick=True),
)


def account_list_pdf(
    ctx: DocumentContext, kind: AccountKind, classes: Sequence[ListedClass]
) -> bytes:
    """Per class, a list on as many pages as it needs; one page saying so if empty."""
    who = "élèves" if kind is AccountKind.PUPIL else "représentants légaux"
    with new_pdf(ctx, f"Listes des comptes EduConnect des {who}") as doc:
        for group in classes:
            rows = [_cells(kind, i, row) for i, row in enumerate(group.rows, 1)]
            counts = {state: 0 for state in AccountState}
            for row in group.rows:
                counts[row.state] += 1
            summary = " · ".join(f"{state_text(s)}\u00a0: {n}" for s, n in counts.items() if n)
            list_pages(
                doc,
                ctx,
                title=f"{group.title} — comptes EduConnect des {who}",
                notes=[summary],
                columns=_PUPIL_COLUMNS if kind is AccountKind.PUPIL else _GUARDIAN_COLUMNS,
                rows=rows,
                footer=f"{french.count(len(group.rows), 'compte')} — liste sans mot de passe, "
                "aucun mot de passe n'a été modifié pour l'éditer.",
            )
        if doc.pdf.page == 0:
            doc.pdf.add_page()
            doc.text(20, 30, "Aucun compte dans la sélection.", SANS, "B", 14)
        return render(doc)


def _cells(kind: AccountKind, number: int, row: ListedAccount) -> list[str]:
    cells = [str(number), row.name()]
    if kind is AccountKind.GUARDIAN:
        # The youngest here first; the CSV has them all.
        more = f" (+{len(row.children) - 1})" if len(row.children) > 1 else ""
        cells.append((row.children[0] if row.children else "—") + more)
    return [
        *cells,
        row.login,
        state_text(row.state),
        _day(row.notified_on),
        _day(row.activated_on),
    ]


LIST_CSV_HEADER = (
    "Classe",
    "Nom",
    "Prénom",
    "Civilité",
    "Enfants",
    "Identifiant",
    "État",
    "Notifié le",
    "Activé le",
    "Vu",
)


def list_csv_rows(classes: Sequence[ListedClass]) -> list[list[str]]:
    """The header and the same lines as the PDF, in the same order; « Vu » left to fill in.

    Also what the command line's ``accounts --format csv`` prints.
    """
    return [
        list(LIST_CSV_HEADER),
        *(
            [
                clean(group.division),
                clean(row.last_name),
                clean(row.first_name),
                clean(row.civility),
                ", ".join(row.children),
                row.login,
                state_text(row.state),
                _day(row.notified_on),
                _day(row.activated_on),
                "",
            ]
            for group in classes
            for row in group.rows
        ),
    ]


def account_list_csv(classes: Sequence[ListedClass]) -> bytes:
    return csv_bytes(list_csv_rows(classes))
