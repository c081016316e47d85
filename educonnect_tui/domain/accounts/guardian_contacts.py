"""The guardians' contact list for the secretariat: « ne peuvent pas s'auto-inscrire ».

Auto-inscription needs a French mobile the school holds (``phones.sms_mobile``); the
guardians without one can only activate with the school's letter, so the secretariat
calls or writes to them. Those already activated need nothing: the list keeps only the
accounts non notifié or notifié. It is the home page's ``Selection`` with ``sms_mobile``
set to False and those states (classes and the other filters kept), written as a CSV
with each guardian's children and classes and the e-mail and telephone as on file: a
private file (0600), never over an existing one unless asked, published with its audit
record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..access.permissions import Action
from ..documents.files import app_folder, free_name
from ..documents.spreadsheet import csv_bytes
from ..model import french
from ..model.enums import AccountKind, AccountState
from ..model.errors import InvalidInput
from ..model.tables import Account, Guardian
from ..store import audit
from ..store.services import Services
from . import publishing
from .listing import children_of
from .selection import Selection, accounts_of, require_selection

FOLDER = "exports"
WHAT = "représentants légaux sans mobile pour l'auto-inscription"
HEADER = (
    "Civilité",
    "Nom",
    "Prénom",
    "Identifiant",
    "État",
    "Enfants (classe)",
    "Courriel",
    "Téléphone portable",
)
_PAGE = 1000


@dataclass(frozen=True)
class ContactsExport:
    path: Path
    count: int
    swept: tuple[Path, ...] = ()

    def lines(self) -> list[str]:
        return [
            *publishing.swept_lines(self.swept),
            f"{french.count(self.count, 'représentant légal', 'représentants légaux')} "
            f"sans mobile pour l'auto-inscription\u00a0: {self.path}",
        ]


# An activated guardian has their own password: nothing left to register.
NOT_YET_ACTIVATED = (AccountState.NOT_NOTIFIED, AccountState.NOTIFIED)


def without_sms(selection: Selection) -> Selection:
    """The home page's selection narrowed to those who cannot auto-register: no mobile
    for the SMS, and not yet activated (non notifié or notifié, among the states asked)."""
    states = tuple(s for s in NOT_YET_ACTIVATED if not selection.states or s in selection.states)
    if not states:
        raise InvalidInput(
            "Aucun représentant légal à lister : un compte activé ou désactivé n'a pas "
            "à s'auto-inscrire (rien n'a été écrit)."
        )
    return replace(selection, sms_mobile=False, states=states, account_ids=None)


def default_path(services: Services, caller: Caller) -> Path:
    """``exports/`` in the output folder; a name already taken gets a number."""
    stamp = services.time.stamp(services.clock())
    folder = app_folder(services.settings.output_dir / FOLDER)
    stem = f"sans_mobile_sms_{caller.school.uai}_{stamp}"

    (path,) = free_name(lambda n: folder / (f"{stem}.csv" if n == 1 else f"{stem}_{n}.csv"))
    return path


def export_without_sms(
    services: Services,
    caller: Caller,
    selection: Selection,
    path: Path | None = None,
    *,
    overwrite: bool = False,
) -> ContactsExport:
    """Write the CSV of the selected guardians who have no mobile for the SMS.

    The file is staged, then the audit record and the publication happen in one
    transaction (``files.Publication``): either the file exists and the export is in the
    trail, or neither.
    """
    wanted = require_selection(
        services, caller, Action.EXPORT, AccountKind.GUARDIAN, without_sms(selection)
    )
    target = path if path is not None else default_path(services, caller)
    publishing.check(services, (target,), overwrite=overwrite)
    swept = publishing.sweep(services, (target,))
    now = services.clock()
    with services.sessions() as session:
        rows = list(_rows(session, caller.school.id, wanted))
    publication = publishing.publication(services, now)
    publication.stage(target, csv_bytes([HEADER, *rows]), overwrite=overwrite)
    with publishing.recorded(services, publication, overwrite=overwrite) as session:
        audit.record(
            session,
            caller.actor(),
            "export",
            now=now,
            establishment_id=caller.school.id,
            details={
                "what": WHAT,
                "format": "csv",
                "path": audit.file_named(target),
                "count": len(rows),
                "lot": publication.lot,
            },
        )
    return ContactsExport(target, len(rows), tuple(swept))


def _rows(session: Session, school_id: int, selection: Selection) -> Iterator[Sequence[str]]:
    """One row per guardian, in the lists' order, read a page at a time."""
    ids = accounts_of(AccountKind.GUARDIAN, school_id, selection)
    last: tuple[str, int] | None = None
    while True:
        statement = (
            select(
                Account.sort_name,
                Account.id,
                Guardian.id,
                Guardian.civility,
                Guardian.last_name,
                Guardian.first_name,
                Account.login,
                Account.state,
                Guardian.email,
                Guardian.mobile,
            )
            .join(Guardian, Guardian.id == Account.guardian_id)
            .where(Account.id.in_(ids))
            .order_by(Account.sort_name, Account.id)
            .limit(_PAGE)
        )
        if last is not None:
            statement = statement.where(
                (Account.sort_name > last[0])
                | ((Account.sort_name == last[0]) & (Account.id > last[1]))
            )
        page = session.execute(statement).all()
        if not page:
            return
        children = children_of(session, school_id, [r[2] for r in page])
        for _key, _id, guardian_id, civility, ln, fn, login, state, email, mobile in page:
            yield (
                civility,
                ln,
                fn,
                login,
                AccountState(state).label,
                " ; ".join(children.get(guardian_id, ())),
                email or "",
                mobile or "",
            )
        last = (page[-1][0], page[-1][1])


__all__ = [
    "HEADER",
    "WHAT",
    "ContactsExport",
    "default_path",
    "export_without_sms",
    "without_sms",
]
