"""Commands on staff and DELEG-CE delegations."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..domain.access.caller import Operator
from ..domain.model import french
from ..domain.model.calendar import date_text
from ..domain.model.enums import StaffRole
from ..domain.store.audit import Actor
from . import context
from .context import require_schema
from .terminal import json_text


def cmd_staff(args: argparse.Namespace) -> int:
    from ..domain.access.staff import create_staff
    from ..domain.store import audit, establishments

    services = context.open_services()
    require_schema(services)
    actor = Actor.command_line()
    with services.sessions() as session, session.begin():
        schools = [establishments.get_by_uai(session, uai) for uai in args.uai]
        new = create_staff(
            session,
            first_name=args.first_name,
            last_name=args.last_name,
            role=StaffRole(args.role),
            establishments=schools,
            hash_params=services.hash_params,
            title=args.title,
            login=args.login,
        )
        audit.record(
            session,
            actor,
            "staff_add",
            now=services.clock(),
            establishment_id=schools[0].id,
            details={"login": new.login, "role": new.role.value, "uai": [s.uai for s in schools]},
        )
    print(f"Identifiant\u00a0: {new.login}")
    print(f"Mot de passe\u00a0: {new.password}")
    print(f"Secret TOTP\u00a0: {new.totp_secret}")
    print(f"URI de provisionnement\u00a0: {new.provisioning_uri}")
    print("Le mot de passe et le secret ne sont affichés qu'une fois.")
    return 0


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
