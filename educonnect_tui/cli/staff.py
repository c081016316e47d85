"""Commands on staff (``init``, ``staff …``) and DELEG-CE delegations."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from ..domain.access.caller import Operator, role_label
from ..domain.model import french
from ..domain.model.calendar import date_text
from ..domain.model.enums import StaffRole
from ..domain.store.audit import Actor
from . import context
from .context import require_schema
from .terminal import json_text, print_drawing

if TYPE_CHECKING:
    from ..domain.access.staff_accounts import IssuedCredentials
    from ..domain.store.services import Services


def cmd_init(args: argparse.Namespace) -> int:
    """First run: the school and its first direction account, on an empty database."""
    from ..domain.access import staff_accounts
    from ..domain.model.enums import EstablishmentType
    from ..domain.store import db

    services = context.open_services(create=True)
    if db.current_revision(services.engine) is None:
        services.upgrade()  # a new database: nothing else could be in it
    require_schema(services)
    issued = staff_accounts.initialise(
        services,
        Actor.command_line(),
        staff_accounts.NewSchool(
            uai=args.uai,
            name=args.name,
            type=EstablishmentType(args.type),
            academie=args.academie,
            city=args.city,
        ),
        staff_accounts.NewStaffRequest(
            first_name=args.first_name,
            last_name=args.last_name,
            role=StaffRole.DIRECTION,
            title=args.title,
            login=args.login,
        ),
    )
    print(f"Établissement {args.uai.strip().upper()} créé, avec son premier compte de direction.")
    _print_credentials(services, issued)
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    from ..domain.access import staff_accounts

    services = context.open_services()
    require_schema(services)
    uai = args.uai[0] if isinstance(args.uai, list) else args.uai
    operator = Operator.naming(services, uai)
    verb = args.staff_command
    if verb == "list":
        return _list(services, operator, args)
    if verb == "add":
        request = staff_accounts.NewStaffRequest(
            first_name=args.first_name,
            last_name=args.last_name,
            role=StaffRole(args.role),
            title=args.title,
            login=args.login,
            also_at=tuple(args.uai[1:]),
        )
        _print_credentials(services, staff_accounts.add_staff(services, operator, request))
        return 0
    staff_id = staff_accounts.staff_id_of(services, operator, args.login)
    if verb == "reset-password":
        _print_credentials(services, staff_accounts.reset_password(services, operator, staff_id))
    elif verb == "reset-otp":
        _print_credentials(services, staff_accounts.reset_otp(services, operator, staff_id))
        print("L'ancienne clé OTP ne donne plus aucun code valable.")
    elif verb == "unlock":
        staff_accounts.unlock(services, operator, staff_id)
        print(f"{args.login.strip()}\u00a0: blocage levé.")
    elif verb == "disable":
        staff_accounts.disable(services, operator, staff_id)
        print(
            f"{args.login.strip()}\u00a0: compte désactivé, délégations révoquées\u00a0; "
            "ses actions restent au journal."
        )
    elif verb == "enable":
        staff_accounts.enable(services, operator, staff_id)
        print(f"{args.login.strip()}\u00a0: compte réactivé (sans ses anciennes délégations).")
    else:
        role = StaffRole(args.role)
        staff_accounts.change_role(services, operator, staff_id, role)
        print(f"{args.login.strip()}\u00a0: rôle changé ({role_label(role)}).")
    return 0


_STAFF_HEADERS = [
    "Identifiant",
    "Nom",
    "Rôle",
    "Fonction",
    "Établissements",
    "Délégations",
    "Dernière connexion",
    "Depuis",
    "Bloqué jusqu'au",
    "Clé OTP",
    "État",
]


def _list(services: Services, operator: Operator, args: argparse.Namespace) -> int:
    from ..domain.access import staff_accounts

    views = staff_accounts.list_staff(services, operator, args.search)
    context.record(
        services,
        "staff_list",
        establishment_id=operator.school.id,
        details={"format": args.format, "results": len(views)},
    )
    time = services.time

    def when(moment: dt.datetime | None) -> str:
        return time.short(moment) if moment is not None else ""

    if args.format == "json":
        print(
            json_text(
                [
                    {
                        "id": v.id,
                        "identifiant": v.login,
                        "prenom": v.first_name,
                        "nom": v.last_name,
                        "role": v.role.value,
                        "fonction": v.title,
                        "etablissements": list(v.schools),
                        "delegations": list(v.delegations),
                        "derniere_connexion": _iso(v.last_sign_in_at),
                        "depuis": v.last_sign_in_source,
                        "bloque_jusqu_au": _iso(v.blocked_until),
                        "cle_otp_enrolee": v.otp_enrolled,
                        "provisoire_jusqu_au": _iso(v.password_temporary_until),
                        "desactive_le": _iso(v.disabled_at),
                        "etat": v.state.value,
                    }
                    for v in views
                ]
            )
        )
        return 0
    rows = [
        [
            v.login,
            v.display_name,
            v.role_label,
            v.title,
            ", ".join(v.schools),
            " ; ".join(v.delegations),
            when(v.last_sign_in_at),
            v.last_sign_in_source or "",
            when(v.blocked_until),
            "enrôlée" if v.otp_enrolled else "non enrôlée",
            v.state.value,
        ]
        for v in views
    ]
    if args.format == "csv":
        from ..domain.documents.spreadsheet import csv_text

        print(csv_text([_STAFF_HEADERS, *rows]), end="")
    elif not views:
        print("Aucun personnel." if not args.search else "Aucun personnel ne correspond.")
    else:
        from tabulate import tabulate

        print(tabulate(rows, headers=_STAFF_HEADERS, disable_numparse=True))
    return 0


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _print_credentials(services: Services, issued: IssuedCredentials) -> None:
    """What is shown once: the QR code of the OTP key, the login, password and secret."""
    from ..domain.documents.qr import qr_rows

    if issued.provisioning_uri is not None:
        print_drawing(qr_rows(issued.provisioning_uri))
        print("Scannez ce code avec l'application d'authentification (clé OTP).")
    print(f"Personnel\u00a0: {issued.display_name}")
    print(f"Identifiant\u00a0: {issued.login}")
    if issued.password is not None:
        print(f"Mot de passe provisoire\u00a0: {issued.password}")
        if issued.password_until is not None:
            print(
                "À remplacer à la première connexion\u00a0; valable jusqu'au "
                f"{services.time.date_time(issued.password_until)}."
            )
    if issued.totp_secret is not None:
        print(f"Secret TOTP\u00a0: {issued.totp_secret}")
    if issued.provisioning_uri is not None:
        print(f"URI de provisionnement\u00a0: {issued.provisioning_uri}")
    if issued.password is not None and issued.totp_secret is not None:
        print("Le mot de passe et la clé OTP ne sont affichés qu'une seule fois.")
    elif issued.password is not None:
        print("Le mot de passe n'est affiché qu'une seule fois.")
    else:
        print("La clé OTP n'est affichée qu'une seule fois.")


if TYPE_CHECKING:
    from ..domain.access.delegations import DelegationView


def _delegation_row(view: DelegationView) -> list[str]:

    return [
        str(view.id),
        f"{view.agent_name} ({view.agent_login})",
        view.module_label,
        view.classes_label,
        date_text(view.valid_from),
        date_text(view.valid_until),
        view.granted_by,
        view.state.value,
    ]


_DELEGATION_HEADERS = ["N°", "Agent", "Module", "Classes", "Du", "Au", "Accordée par", "État"]


def cmd_delegate(args: argparse.Namespace) -> int:
    from ..domain.access import delegations
    from ..domain.model.enums import Module

    services = context.open_services()
    require_schema(services)
    if args.delegate_command == "grant":
        request = delegations.GrantRequest(
            agent_login=args.agent,
            module=Module(args.module),
            until=args.until,
            division_names=tuple(args.classes),
            granted_by_login=args.by,
        )
        view = delegations.grant(services, Operator.naming(services, args.uai), request)
        print(
            f"Délégation n° {view.id} accordée à {view.agent_name} ({view.agent_login})\u00a0: "
            f"module {view.module_label}, classes {view.classes_label}, "
            f"jusqu'au {date_text(view.valid_until)}."
        )
    elif args.delegate_command == "revoke":
        view = delegations.revoke(services, Operator.naming(services, args.uai), args.id)
        whose = french.of(view.agent_name)
        print(f"Délégation n° {view.id} {whose} ({view.agent_login}) révoquée.")
    else:
        views = delegations.list_delegations(services, Operator.naming(services, args.uai))
        if args.format == "json":
            print(json_text([v.as_dict() for v in views]))
        elif args.format == "csv":
            from ..domain.documents.spreadsheet import csv_text

            print(csv_text([_DELEGATION_HEADERS, *(_delegation_row(v) for v in views)]), end="")
        elif not views:
            print("Aucune délégation.")
        else:
            from tabulate import tabulate

            print(
                tabulate(
                    [_delegation_row(v) for v in views],
                    headers=_DELEGATION_HEADERS,
                    disable_numparse=True,
                )
            )
    return 0
