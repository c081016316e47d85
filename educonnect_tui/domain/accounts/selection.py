"""Which accounts of a school a staff action applies to, as SQL (never loaded whole)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, Select, and_, case, false, func, not_, or_, select
from sqlalchemy.orm import aliased

from ..access.caller import Caller
from ..access.permissions import Action, Scope, require
from ..model.enums import AccountKind, AccountState, PupilStatus
from ..model.errors import InvalidInput
from ..model.identifiers import search_key, search_terms
from ..model.tables import Account, Division, Establishment, Guardian, GuardianLink, Pupil
from ..store.db import tested_not_looked_up
from ..store.establishments import divisions_named, guardians_of
from ..store.search_index import has_word_starting
from ..store.services import Services


def parse_state(text: str) -> AccountState:
    """A state from its code, its French label or its colour ("non_notifie", "activé",
    "rouge"; "jaune" and "orange" both name « notifié, non activé »)."""
    wanted = search_key(text)
    for state in AccountState:
        colours = {search_key(state.colour(kind).label) for kind in AccountKind}
        if wanted in {search_key(state.value), search_key(state.label), *colours}:
            return state
    choices = ", ".join(s.value for s in AccountState)
    raise InvalidInput(f"État « {text} » inconnu ; valeurs possibles\u00a0: {choices}.")


@dataclass(frozen=True)
class Selection:
    """Classes and states chosen on the home page, or explicit accounts.

    Empty ``divisions`` means every class; empty ``states`` means every state.
    ``account_ids`` restricts further to rows the user ticked. The home page shows
    exactly what a notification with the same selection would touch.
    """

    divisions: tuple[str, ...] = ()
    states: tuple[AccountState, ...] = ()
    account_ids: tuple[int, ...] | None = None
    # Free text: every folded word must start a word of the name or login (search_index).
    search: str = ""
    # Guardians only: those of the pupil owning this account.
    guardians_of_pupil: int | None = None
    # Guardians only, on the contact details the school holds (None: either way): an
    # e-mail address; a mobile that can receive the auto-inscription SMS (``sms_mobile``).
    has_email: bool | None = None
    sms_mobile: bool | None = None
    # Notified accounts whose temporary credentials expire by this instant (those already
    # expired included): an instant, not a number of days, so that what was shown is
    # what a notification touches even a minute later (``expiring_within``).
    expiring_by: dt.datetime | None = None
    # Set by ``permissions.restrict`` only: the classes a delegation covers (None: every
    # class), and no guardians at all for a session that may not reach them.
    division_ids: frozenset[int] | None = None
    pupils_only: bool = False


def class_names(services: Services, caller: Caller, names: Iterable[str]) -> tuple[str, ...]:
    """The ``divisions`` of a ``Selection`` from class names as typed (« 3e1 »): the
    school's own names, an unknown one refused (``InvalidInput``) before anything is
    done, rather than a filter that selects nobody (``store.establishments.divisions_named``).
    """
    with services.sessions() as session:
        school = session.get_one(Establishment, caller.school.id)
        return tuple(d.name for d in divisions_named(session, school, names))


def expiring_within(days: int, now: dt.datetime) -> dt.datetime:
    """The ``expiring_by`` of « expire dans N jours »: N whole days from ``now``."""
    if not 0 <= days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(
            f"Nombre de jours « {days} » invalide\u00a0: de 0 à {MAX_EXPIRY_DAYS} attendu."
        )
    return now + dt.timedelta(days=days)


MAX_EXPIRY_DAYS = 365


def _listed(pupil: type[Pupil], account: type[Account]) -> ColumnElement[bool]:
    """Who a school's lists hold through ``pupil``: the enrolled, and those gone désactivé.

    A pupil who left stays on the lists in grey, and so does a guardian left with no
    child anywhere, so that « tous » is every state and « désactivé » shows them; a
    guardian whose child left but who is still active through another school is not
    this school's any more. Nothing acts on a désactivé account (the state machine
    refuses it a notification or a reset), so listing them changes no action.
    """
    return or_(pupil.status == PupilStatus.ENROLLED, account.state == AccountState.DEACTIVATED)


def pupil_accounts(establishment_id: int, selection: Selection) -> Select[int]:
    """Ids of the selected pupils' accounts: the school's pupils (``_listed``)."""
    query = (
        select(Account.id)
        .join(Pupil, Pupil.id == Account.pupil_id)
        .join(Division, Division.id == Pupil.division_id)
        .where(Pupil.establishment_id == establishment_id, _listed(Pupil, Account))
    )
    if selection.divisions:
        query = query.where(Division.name.in_(selection.divisions))
    if selection.division_ids is not None:
        query = query.where(Division.id.in_(selection.division_ids))
    return _common(query, selection)


def guardian_accounts(
    establishment_id: int, selection: Selection, *, with_guardian: bool = False
) -> Select[int]:
    """Ids of the guardians' accounts with a child in the selected classes (``_listed``).

    ``with_guardian`` joins ``Guardian`` (as the contact filters do), so that a list can
    read its columns from the same query.

    Only a child they are the legal representative of counts: another contact of the
    pupil is never listed for a notification (and has no account to be notified). The
    guardians of the school are computed once (not correlated per account), from the
    pupils' index then the links' pupil index: thousands of guardians stay milliseconds.
    """
    child = aliased(Pupil)
    guardians = guardians_of(
        establishment_id,
        division_ids=selection.division_ids,
        enrolled_only=False,
        child=child,
    ).where(GuardianLink.legal_guardian.is_(True))
    if selection.guardians_of_pupil is not None:
        pupil_account = aliased(Account)
        guardians = guardians.where(
            child.id
            == select(pupil_account.pupil_id)
            .where(pupil_account.id == selection.guardians_of_pupil)
            .scalar_subquery()
        )
    if selection.divisions:
        division = aliased(Division)
        guardians = guardians.join(division, division.id == child.division_id).where(
            division.name.in_(selection.divisions)
        )
    # ``_listed`` for a guardian: a child here enrolled, or their own account désactivé.
    # Their children are grouped first, so that each guardian's account is read once,
    # not once per child to test its state.
    links = (
        guardians.add_columns(
            func.max(case((child.status == PupilStatus.ENROLLED, 1), else_=0)).label("enrolled")
        )
        .group_by(GuardianLink.guardian_id)
        .subquery()
    )
    query = (
        select(Account.id)
        .join(links, links.c.guardian_id == Account.guardian_id)
        .where(
            Account.kind == AccountKind.GUARDIAN,
            or_(links.c.enrolled == 1, Account.state == AccountState.DEACTIVATED),
        )
    )
    contact = _contact(selection)
    if contact or with_guardian:
        query = query.join(Guardian, Guardian.id == Account.guardian_id).where(*contact)
    return _common(query, selection)


def _contact(selection: Selection) -> list[ColumnElement[bool]]:
    """The contact filters, on the details the school holds (``Guardian``)."""
    tests: list[ColumnElement[bool]] = []
    if selection.has_email is not None:
        with_email = and_(Guardian.email.is_not(None), Guardian.email != "")
        tests.append(with_email if selection.has_email else not_(with_email))
    if selection.sms_mobile is not None:
        can = Guardian.sms_mobile.is_not(None)
        tests.append(can if selection.sms_mobile else Guardian.sms_mobile.is_(None))
    return tests


def _common(query: Select[int], selection: Selection) -> Select[int]:
    if selection.states:
        query = query.where(Account.state.in_(selection.states))
    if selection.expiring_by is not None:
        query = query.where(
            Account.state == AccountState.NOTIFIED,
            Account.temp_expires_at.is_not(None),
            Account.temp_expires_at <= selection.expiring_by,
        )
    if selection.account_ids is not None:
        # Tested on the school's rows (found by its indexes), not looked up.
        query = query.where(tested_not_looked_up(Account.id).in_(selection.account_ids))
    for term in search_terms(selection.search):
        query = query.where(has_word_starting(term))
    return query


def accounts_of(
    kind: AccountKind, establishment_id: int, selection: Selection, *, with_owner: bool = False
) -> Select[int]:
    """The selected accounts' ids; ``with_owner`` joins the pupil (and class) or guardian
    they belong to, for a query that reads their columns too (``listing``)."""
    if kind is AccountKind.PUPIL:
        return pupil_accounts(establishment_id, selection)
    if selection.pupils_only:
        if with_owner:
            return guardian_accounts(establishment_id, selection, with_guardian=True).where(false())
        return select(Account.id).where(false())
    return guardian_accounts(establishment_id, selection, with_guardian=with_owner)


def require_selection(
    services: Services, caller: Caller, action: Action, kind: AccountKind, selection: Selection
) -> Selection:
    """Check ``action`` on a selection and return it narrowed to the caller's scope."""
    scope = require(
        services,
        caller,
        action,
        kind=kind,
        account_ids=selection.account_ids or (),
        division_names=selection.divisions,
    )
    return restrict(selection, scope)


def restrict(selection: Selection, scope: Scope) -> Selection:
    """The same selection narrowed to the scope: its classes, pupils only without guardians.

    ``selection.accounts_of`` honours both fields, so listing, counting and notifying
    narrow the same way.
    """
    division_ids = selection.division_ids
    if scope.division_ids is not None:
        division_ids = (
            scope.division_ids if division_ids is None else division_ids & scope.division_ids
        )
    return replace(
        selection,
        division_ids=division_ids,
        pupils_only=selection.pupils_only or not scope.guardians,
    )
