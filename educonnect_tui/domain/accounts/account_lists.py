"""« Éditer les listes »: the accounts of a selection, per class, with no password touched.

The same ``Selection`` as the home page and a notification, so the list printed is the
list on screen. Ids are read first (integers only), then what the list prints in
chunks of ids, as a notification reads its rows: a school of thousands is never one
query of whole rows. Written like every document (``publishing``: 0600, never over an
existing file unless asked, a missing folder refused) and audited as an export with its
file names, since it carries minors' names and identifiers out of the application.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..access.permissions import Action
from ..documents.account_list_pdf import (
    ListedAccount,
    ListedClass,
    account_list_csv,
    account_list_pdf,
)
from ..documents.credentials import DocumentContext, SchoolHeader
from ..documents.files import app_folder, free_name
from ..documents.text import class_order, clean, home_child, pupil_name
from ..model.enums import AccountKind, AccountState
from ..model.errors import Cancelled, InvalidInput
from ..model.identifiers import sort_key
from ..model.tables import Account, Division, Establishment, Guardian, Pupil
from ..store import audit
from ..store.services import Services
from . import publishing
from .guardian_children import legal_children
from .selection import Selection, accounts_of, require_selection

FOLDER = "listes"
_CHUNK = 500
# (done, total) accounts read.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AccountLists:
    kind: AccountKind
    classes: tuple[ListedClass, ...]

    @property
    def count(self) -> int:
        return sum(len(c.rows) for c in self.classes)


def read_lists(
    services: Services,
    caller: Caller,
    kind: AccountKind,
    selection: Selection,
    *,
    action: Action = Action.VIEW_ACCOUNTS,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AccountLists:
    """The selected accounts by class (classes in school order, names in French order)."""
    selection = require_selection(services, caller, action, kind, selection)
    school_id = caller.school.id
    with services.sessions() as session:
        uai = session.get_one(Establishment, school_id).uai
        ids = list(session.scalars(accounts_of(kind, school_id, selection)))
        groups: dict[str, _Group] = {}
        for start in range(0, len(ids), _CHUNK):
            _check_cancel(cancel)
            chunk = ids[start : start + _CHUNK]
            read = _pupils if kind is AccountKind.PUPIL else _guardians
            for division, level, order, row in read(services, session, chunk, school_id, uai):
                groups.setdefault(division, _Group(division, level)).lines.append((order, row))
            if progress is not None:
                progress(min(start + _CHUNK, len(ids)), len(ids))
    ordered = sorted(groups.values(), key=lambda g: g.place())
    classes = tuple(
        ListedClass(g.division, g.level, tuple(r for _, r in sorted(g.lines, key=_first)))
        for g in ordered
    )
    return AccountLists(kind, classes)


# Sorted on the name's key then the login (unique), never on the row itself.
_Order = tuple[str, str]
_Line = tuple[str, str, _Order, ListedAccount]


@dataclass
class _Group:
    division: str
    level: str
    lines: list[tuple[_Order, ListedAccount]] = field(default_factory=list)

    def place(self) -> tuple[object, ...]:
        """Classes in school order; guardians with no child here last."""
        return (1,) if not self.division else (0, *class_order(self.level, self.division))


def _first(line: tuple[_Order, ListedAccount]) -> _Order:
    return line[0]


def _day(services: Services, moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else services.time.today(moment)


def _pupils(
    services: Services, session: Session, ids: list[int], school_id: int, uai: str
) -> list[_Line]:
    query = (
        select(
            Account.login,
            Account.state,
            Account.notified_at,
            Account.activated_at,
            Pupil.last_name,
            Pupil.first_name,
            Division.name,
            Division.level,
        )
        .join(Pupil, Pupil.id == Account.pupil_id)
        .join(Division, Division.id == Pupil.division_id)
        .where(Account.id.in_(ids))
    )
    return [
        (
            division,
            level,
            (sort_key(clean(last), clean(first)), login),
            ListedAccount(
                login=login,
                state=AccountState(state),
                last_name=last,
                first_name=first,
                notified_on=_day(services, notified),
                activated_on=_day(services, activated),
            ),
        )
        for login, state, notified, activated, last, first, division, level in session.execute(
            query
        )
    ]


def _guardians(
    services: Services, session: Session, ids: list[int], school_id: int, uai: str
) -> list[_Line]:
    """Guardians under the class of their youngest child here (``text.home_child``)."""
    children = legal_children(session, ids, school_id=school_id)
    query = (
        select(
            Account.id,
            Account.login,
            Account.state,
            Account.notified_at,
            Account.activated_at,
            Guardian.civility,
            Guardian.last_name,
            Guardian.first_name,
        )
        .join(Guardian, Guardian.id == Account.guardian_id)
        .where(Account.id.in_(ids))
    )
    lines: list[_Line] = []
    for account_id, login, state, notified, activated, civility, last, first in session.execute(
        query
    ):
        kids = children.get(account_id, [])
        home = home_child(kids, uai)
        youngest_first = sorted(kids, key=lambda c: c.birth_date or dt.date.min, reverse=True)
        lines.append(
            (
                "" if home is None else home.division,
                "" if home is None else home.level,
                (sort_key(clean(last), clean(first)), login),
                ListedAccount(
                    login=login,
                    state=AccountState(state),
                    last_name=last,
                    first_name=first,
                    civility=civility,
                    notified_on=_day(services, notified),
                    activated_on=_day(services, activated),
                    children=tuple(
                        f"{pupil_name(c.last_name, c.first_name)} ({clean(c.division)})"
                        for c in youngest_first
                    ),
                ),
            )
        )
    return lines


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ListRequest:
    """What to list and where; ``csv_path`` may be None (the command line's ``--pdf``)."""

    kind: AccountKind
    selection: Selection
    pdf_path: Path | None
    csv_path: Path | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class ListsWritten:
    lists: AccountLists
    paths: tuple[Path, ...]
    swept: tuple[Path, ...] = ()

    @property
    def count(self) -> int:
        return self.lists.count


def default_paths(services: Services, caller: Caller, kind: AccountKind) -> tuple[Path, Path]:
    """``listes/`` in the output folder; a name already taken gets a number, never replaced."""
    stamp = services.time.stamp(services.clock())
    who = "eleves" if kind is AccountKind.PUPIL else "responsables"
    stem = f"liste_{who}_{caller.school.uai}_{stamp}"
    folder = app_folder(services.settings.output_dir / FOLDER)

    def named(ext: str) -> Callable[[int], Path]:
        return lambda n: folder / (f"{stem}.{ext}" if n == 1 else f"{stem}_{n}.{ext}")

    pdf, csv = free_name(named("pdf"), named("csv"))
    return pdf, csv


def write_lists(
    services: Services,
    caller: Caller,
    request: ListRequest,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ListsWritten:
    """Write the lists of the selection; no account is changed, the export is audited.

    The files are staged, then published inside the transaction of their audit record
    (``files.Publication``): either they exist and the trail says who took them, or
    neither.
    """
    if request.pdf_path is None and request.csv_path is None:
        raise InvalidInput("Indiquez le fichier où écrire les listes.")
    targets = (request.pdf_path, request.csv_path)
    publishing.check(services, targets, overwrite=request.overwrite)
    lists = read_lists(
        services,
        caller,
        request.kind,
        request.selection,
        action=Action.EXPORT,
        progress=progress,
        cancel=cancel,
    )
    _check_cancel(cancel)
    swept = publishing.sweep(services, targets)
    now = services.clock()
    with services.sessions() as session:
        header = SchoolHeader.of(session.get_one(Establishment, caller.school.id))
    context = DocumentContext(
        school=header, portal_url=services.settings.portal_url, generated_at=now, time=services.time
    )
    publication = publishing.publication(services, now)
    if request.pdf_path is not None:
        data = account_list_pdf(context, request.kind, lists.classes)
        publication.stage(request.pdf_path, data, overwrite=request.overwrite)
    if request.csv_path is not None:
        publication.stage(
            request.csv_path, account_list_csv(lists.classes), overwrite=request.overwrite
        )
    selection = request.selection
    with publishing.recorded(services, publication, overwrite=request.overwrite) as session:
        audit.record(
            session,
            caller.actor(),
            "export",
            now=now,
            establishment_id=caller.school.id,
            details={
                "what": "listes des comptes",
                "kind": request.kind.value,
                "count": lists.count,
                "classes": list(selection.divisions),
                "filters": trail_filters(selection),
                "paths": [audit.file_named(p) for p in publication.paths],
                "lot": publication.lot,
            },
        )
    return ListsWritten(lists, publication.paths, tuple(swept))


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Édition des listes annulée\u00a0: rien n'a été écrit.")


def trail_filters(selection: Selection) -> dict[str, str]:
    """What narrowed the list, in French, for the trail (never a whole list of ids)."""
    out: dict[str, str] = {}
    if selection.states:
        out["états"] = ", ".join(s.label for s in selection.states)
    if selection.search:
        out["recherche"] = selection.search
    if selection.account_ids is not None:
        out["comptes cochés"] = str(len(selection.account_ids))
    if selection.has_email is not None:
        out["courriel"] = "avec" if selection.has_email else "sans"
    if selection.sms_mobile is not None:
        out["mobile SMS"] = "avec" if selection.sms_mobile else "sans"
    if selection.expiring_by is not None:
        out["provisoires expirant au plus tard"] = selection.expiring_by.isoformat(
            timespec="minutes"
        )
    return out
