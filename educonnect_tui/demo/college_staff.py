"""The collège's and the école's staff, and the delegations the principal gave them.

Staff get real credentials (``staff.create_staff``): they are printed once by the demo.
"""

from __future__ import annotations

import datetime as dt
import sys

from sqlalchemy.orm import Session

from ..domain.access.staff import NewStaff, create_staff
from ..domain.model.enums import Module, StaffRole
from ..domain.model.tables import Delegation, Division, Establishment
from ..domain.store.services import Services
from .college_campaign import Campaign

# (first name, last name, role, title, also attached to the école)
COLLEGE_STAFF = (
    ("Philippe", "Marchand", StaffRole.DIRECTION, "Principal", False),
    ("Sandrine", "Lemoine", StaffRole.DIRECTION, "Principale adjointe", True),
    ("Karim", "Haddad", StaffRole.AGENT, "Conseiller principal d'éducation", False),
    ("Brigitte", "Da Costa", StaffRole.AGENT, "Secrétaire de direction", False),
    ("Julien", "Morel", StaffRole.AGENT, "Professeur de mathématiques", False),
    ("Anne-Laure", "Guérin", StaffRole.AGENT, "Professeure de lettres", False),
    ("Thomas", "Nguyen", StaffRole.AGENT, "Professeur d'histoire-géographie", False),
    ("Émilie", "Van der Berg", StaffRole.AGENT, "Professeure d'anglais", False),
)
ECOLE_STAFF = (("Martine", "Leroux", StaffRole.DIRECTION, "Directrice d'école", False),)


def create_demo_staff(
    session: Session, services: Services, college: Establishment, ecole: Establishment
) -> list[NewStaff]:
    created = []
    for first, last, role, title, both in COLLEGE_STAFF:
        created.append(
            create_staff(
                session,
                first_name=first,
                last_name=last,
                role=role,
                title=title,
                establishments=[college, ecole] if both else [college],
                hash_params=services.hash_params,
            )
        )
    for first, last, role, title, _ in ECOLE_STAFF:
        created.append(
            create_staff(
                session,
                first_name=first,
                last_name=last,
                role=role,
                title=title,
                establishments=[ecole],
                hash_params=services.hash_params,
            )
        )
    return created


def grant_delegations(
    session: Session,
    campaign: Campaign,
    staff: list[NewStaff],
    college: Establishment,
    divisions: dict[tuple[str, str], Division],
    now: dt.datetime,
) -> None:
    """DELEG-CE given by the principal, so every agent login can do something."""
    by_title = {s.title: s for s in staff}
    principal = by_title["Principal"]
    school_year = now.year if now.month >= 8 else now.year - 1
    valid_from = dt.date(school_year, 9, 1)
    valid_until = dt.date(school_year + 1, 7, 4)
    granted_at = campaign.school_day(72) + dt.timedelta(hours=10)
    grants = (
        ("Conseiller principal d'éducation", Module.ADMINISTRATION, ()),
        ("Secrétaire de direction", Module.ADMINISTRATION, ()),
        ("Professeur de mathématiques", Module.DEPANNAGE, ("3E2",)),
        ("Professeure de lettres", Module.DEPANNAGE, ("6E1", "6E2")),
        ("Professeur d'histoire-géographie", Module.DEPANNAGE, ()),
    )
    for title, module, classes in grants:
        session.add(
            Delegation(
                establishment_id=college.id,
                agent_id=by_title[title].id,
                module=module,
                valid_from=valid_from,
                valid_until=valid_until,
                granted_by_id=principal.id,
                granted_at=granted_at,
                divisions=[divisions[(college.uai, name)] for name in classes],
            )
        )
    session.flush()


def credentials_lines(staff: list[NewStaff], rerun: tuple[str, ...]) -> list[str]:
    """The staff's one-time credentials as the demo prints them, then how to renew them.

    Four narrow columns fit an 80-column SSH terminal; the job title goes below.
    """
    from tabulate import tabulate

    rows = [(s.login, s.role.value, s.password, s.totp_secret) for s in staff]
    out = tabulate(
        rows, headers=("Identifiant", "Rôle", "Mot de passe", "Clé TOTP"), tablefmt="simple"
    ).splitlines()
    out += ["", "Fonctions\u00a0:", *(f"  {s.login}\u00a0: {s.title}" for s in staff)]
    return [
        *out,
        "",
        "La clé TOTP se saisit dans n'importe quelle application d'authentification,",
        "ou donne le code du moment avec\u00a0:",
        # The interpreter running the demo has pyotp; a bare ``python`` may not.
        f"  {sys.executable} -c \"import pyotp; print(pyotp.TOTP('CLÉ').now())\"",
        *rerun,
    ]
