"""Commands on schools: ``school add`` brings one into existence, ``school list`` shows them."""

from __future__ import annotations

import argparse

from ..domain.model.enums import EstablishmentType
from ..domain.store.audit import Actor
from . import context
from .context import require_schema

_HEADERS = ["UAI", "Nom", "Type", "Commune", "Académie", "Classes", "Élèves", "Responsables"]


def cmd_school(args: argparse.Namespace) -> int:
    from ..domain.store import audit, establishments

    services = context.open_services()
    require_schema(services)
    if args.school_command == "add":
        with services.sessions() as session, session.begin():
            school = establishments.create(
                session,
                uai=args.uai,
                name=args.name,
                type=EstablishmentType(args.type),
                academie=args.academie,
                city=args.city,
            )
            audit.record(
                session,
                Actor.command_line(),
                "school_add",
                now=services.clock(),
                establishment_id=school.id,
                details={
                    "uai": school.uai,
                    "name": school.name,
                    "school_type": school.type.value,
                    "academie": school.academie,
                    "city": school.city,
                },
            )
            print(f"Établissement {school.uai} créé\u00a0: {school.name} ({school.type.label}).")
        return 0
    from tabulate import tabulate

    with services.sessions() as session:
        rows = establishments.list_schools(session)
    context.record(services, "school_list", details={"listed": len(rows)})
    if not rows:
        print("Aucun établissement\u00a0: créez-en un avec « educonnect-tui school add ».")
        return 0
    table = [
        [r.uai, r.name, r.type.label, r.city, r.academie, r.divisions, r.pupils, r.guardians]
        for r in rows
    ]
    print(tabulate(table, headers=_HEADERS, disable_numparse=True))
    return 0
