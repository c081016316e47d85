"""The command line's options that choose accounts, and the ``Selection`` they mean.

``notify``, ``accounts`` and ``guardians`` take the same options as the home page's
filter pane, read in one place, so that a script lists and notifies exactly what the
screen would with the same filters (``domain.accounts.selection``).
"""

from __future__ import annotations

import argparse

from ..domain.access.caller import Operator
from ..domain.accounts.selection import (
    MAX_EXPIRY_DAYS,
    Selection,
    class_names,
    expiring_within,
    parse_state,
)
from ..domain.model.enums import AccountKind
from ..domain.store.services import Services
from .arguments import fail, integer

# The contact filters, by destination: the option setting each value.
_CONTACT_OPTIONS = {
    "has_email": {True: "--with-email", False: "--without-email"},
    "sms_mobile": {True: "--sms-mobile", False: "--no-sms-mobile"},
}


def _days(text: str) -> int:
    if not 0 <= integer(text) <= MAX_EXPIRY_DAYS:
        raise argparse.ArgumentTypeError(
            f"« {text} » n'est pas un nombre de jours de 0 à {MAX_EXPIRY_DAYS}"
        )
    return int(text)


def add_selection_options(
    parser: argparse.ArgumentParser,
    *,
    classes_help: str = "classe (répétable ; aucune\u00a0: toutes les classes)",
    states_help: str,
    contacts: bool = True,
) -> None:
    """``--class``, ``--state``, ``--expiring-within`` and, with ``contacts``, the
    guardians' contact filters (two pairs, each refused together)."""
    parser.add_argument(
        "--class",
        dest="classes",
        action="append",
        default=[],
        metavar="CLASSE",
        help=classes_help,
    )
    parser.add_argument(
        "--state", dest="states", action="append", default=[], metavar="ÉTAT", help=states_help
    )
    parser.add_argument(
        "--expiring-within",
        type=_days,
        metavar="N",
        help="comptes notifiés, non activés, dont les identifiants provisoires expirent "
        f"dans N jours au plus, ou ont expiré (0 à {MAX_EXPIRY_DAYS})",
    )
    if not contacts:
        return
    email = parser.add_mutually_exclusive_group()
    email.add_argument(
        "--with-email",
        dest="has_email",
        action="store_const",
        const=True,
        help="responsables avec une adresse de courriel enregistrée",
    )
    email.add_argument(
        "--without-email",
        dest="has_email",
        action="store_const",
        const=False,
        help="responsables sans adresse de courriel enregistrée",
    )
    sms = parser.add_mutually_exclusive_group()
    sms.add_argument(
        "--sms-mobile",
        dest="sms_mobile",
        action="store_const",
        const=True,
        help="responsables avec un mobile français (06, 07) pour le SMS d'auto-inscription",
    )
    sms.add_argument(
        "--no-sms-mobile",
        dest="sms_mobile",
        action="store_const",
        const=False,
        help="responsables sans mobile français (06, 07) pour le SMS d'auto-inscription",
    )


def contact_options(args: argparse.Namespace) -> list[str]:
    """The contact options given, as typed (``--without-email``…)."""
    return [
        names[value]
        for dest, names in _CONTACT_OPTIONS.items()
        if (value := getattr(args, dest, None)) is not None
    ]


def selection_from(
    args: argparse.Namespace, services: Services, operator: Operator, kind: AccountKind
) -> Selection:
    """The ``Selection`` the options mean; the expiry instant is taken now, once.

    Contact filters are the guardians': given with pupils they are refused rather than
    ignored, since the list or notification would not be what was asked; so is a class
    the school does not have (``selection.class_names``), before anything is done.
    """
    given = contact_options(args)
    if given and kind is AccountKind.PUPIL:
        fail(
            f"{' et '.join(given)} ne s'applique{'nt' if len(given) > 1 else ''} qu'aux "
            "responsables\u00a0: ajoutez --kind guardians ou retirez l'option"
        )
    states = tuple(parse_state(s) for s in args.states)
    days = args.expiring_within
    return Selection(
        divisions=class_names(services, operator, args.classes),
        states=states,
        has_email=getattr(args, "has_email", None),
        sms_mobile=getattr(args, "sms_mobile", None),
        expiring_by=None if days is None else expiring_within(days, services.clock()),
    )
