"""The académie-scale demo: ~500 schools and ~1,000,000 accounts, built in about a minute.

``educonnect-tui demo --scale academie`` (and the benchmark, through ``build``) fills a
database with the académie de Créteil: écoles (CP..CM2), collèges (6e..3e) and lycées
(2de..Terminale) with valid UAIs, 400,000 pupils and ~600,000 guardians in families
(siblings share their guardians, some of whom have children in two schools), accounts
in every state with their activation methods and dates over the last weeks, a few
blocked. The largest school is a lycée of 3,000 pupils and ~5,000 guardians at the start
of its campaign (``LARGEST_UAI``, the same whatever the seed and scale).

Everything comes from ``random.Random(seed)``: the same seed and scale give the same
schools, classes, people and logins whatever the day; states and dates come from a
second stream and are relative to ``services.clock()`` (the same clock gives the same
académie). ``scale`` shrinks it (0.002: three schools, a second to build) for tests.

**Nobody can sign in to these accounts.** Hashing a million argon2id passwords would take
hours, so every temporary and permanent password hash is one of a few argon2id hashes of
random secrets drawn from ``secrets`` and thrown away at once: benchmark data, not
accounts anyone could use. Staff re-notify accounts to get real credentials, as in the
collège demo. The staff created here (the largest lycée's principal and a deputy of a
cité scolaire: lycée and collège) get real credentials, printed once.

Rows are generated as tuples (``academie_people``) and written by ``bulk_load`` in one
transaction, together with the staff and the audit event: either the whole académie
exists, or nothing changed.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from ..domain.access.passwords import hash_password
from ..domain.access.staff import NewStaff, create_staff, renew_credentials
from ..domain.model.enums import AccountState, StaffRole
from ..domain.model.errors import InvalidInput
from ..domain.model.tables import (
    Account,
    Establishment,
    Guardian,
    GuardianLink,
    Pupil,
    Staff,
    staff_establishment,
)
from ..domain.store import audit
from ..domain.store.audit import Actor
from ..domain.store.services import Services
from . import bulk_load
from . import reset as audit_guard
from .academie_people import People
from .academie_places import ACADEMIE
from .academie_plan import (
    LARGEST_UAI,
    MAX_SCALE,
    Clock,
    School,
    Sizes,
    is_academie_uai,
    plan_schools,
    sizes,
)
from .academie_rows import COLUMNS, Row
from .college import check_resettable, empty_database
from .college_build import COLLEGE_UAI
from .college_staff import credentials_lines

ACADEMIE_SEED = 20260902
HASH_POOL = 16

# (first name, last name, title, also attached to the secteur's first collège)
_STAFF = (
    ("Hélène", "Rousseau-Diallo", "Proviseure", False),
    ("Karim", "Benmoussa", "Proviseur adjoint, cité scolaire", True),
)


@dataclass(frozen=True)
class AcademieSummary:
    """What the command prints and the benchmark records; staff passwords exist only here."""

    created: bool
    academie: str
    schools: int
    pupils: int
    guardians: int
    accounts: int
    tokens: int
    multi_school_guardians: int
    blocked: int
    accounts_by_state: dict[str, int]
    largest_uai: str
    largest_name: str
    largest_pupils: int
    largest_guardians: int
    principal: str
    staff: list[NewStaff]
    seconds: float

    def lines(self) -> list[str]:
        head = (
            f"Académie de {self.academie} créée en {self.seconds:.0f} s."
            if self.created
            else f"L'académie de {self.academie} existait déjà\u00a0: données conservées,\n"
            "identifiants du personnel renouvelés."
        )
        states = " · ".join(
            f"{state.label} {_n(self.accounts_by_state.get(state.value, 0))}"
            for state in AccountState
        )
        out = [
            head,
            "",
            f"Établissements\u00a0: {_n(self.schools)} — élèves\u00a0: {_n(self.pupils)} — "
            f"représentants légaux\u00a0: {_n(self.guardians)}",
            f"Comptes\u00a0: {_n(self.accounts)} ({states})",
            f"Plus grand établissement\u00a0: {self.largest_uai}  {self.largest_name} "
            f"({_n(self.largest_pupils)} élèves, {_n(self.largest_guardians)} représentants)",
            "Les comptes de l'académie sont des données de mesure\u00a0: personne ne connaît leurs",
            "mots de passe. (Re)notifiez-les depuis l'interface pour en obtenir.",
            "",
            "Personnel (notez-les maintenant\u00a0: ils ne sont conservés que hachés)\u00a0:",
        ]
        out += credentials_lines(
            self.staff,
            (
                "Relancer « demo --scale academie » renouvelle ces identifiants ;",
                "« --reset » vide toute la base et recrée l'académie.",
            ),
        )
        return out


def build(
    services: Services,
    actor: Actor,
    *,
    seed: int = ACADEMIE_SEED,
    scale: float = 1.0,
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> AcademieSummary:
    """Create the académie once; run again, it renews the staff credentials only.

    Refused (``InvalidInput``) on a database holding the collège demo, unless ``reset``,
    which empties the whole database first (refused if it holds other schools).
    """
    if not 0 < scale <= MAX_SCALE:
        raise InvalidInput(f"échelle {scale} invalide\u00a0: entre 0 et {MAX_SCALE:g}.")
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    services.upgrade()
    with services.sessions() as session:
        uais = list(session.scalars(select(Establishment.uai)))
    if reset:
        check_resettable(sorted(uais))  # before any output: a refusal is one line
    elif LARGEST_UAI in uais:
        return _rerun(services, actor, seed, scale, started)
    elif COLLEGE_UAI in uais:
        raise InvalidInput(
            "la base contient la démonstration du collège\u00a0: « demo --scale academie --reset » "
            "la remplace par l'académie."
        )
    say("préparation")
    hashes = _unusable_hashes(services)
    with bulk_load.transaction(services.engine) as connection:
        if reset:
            with Session(bind=connection) as session:
                empty_database(session)
                session.commit()  # the session's part only: the load's transaction goes on
            say("base vidée")
        schools, people = _generate(connection, services, sizes(scale), seed, hashes, say)
        tables = _tables(schools, people)
        bulk_load.load(connection, tables, say)
        say("personnel et journal")
        details = {"academie": ACADEMIE, "seed": seed, "scale": scale, "created": True,
                   "reset": reset, "accounts": len(people.tables["account"])}  # fmt: skip
        staff = _staff_and_audit(connection, services, actor, schools, details)
    if reset:
        audit_guard.restate_empty_trail(services.key_store)
    return _new_summary(schools, people, staff, started)


def _unusable_hashes(services: Services) -> list[str]:
    """argon2id hashes of secrets drawn and dropped at once: they verify nothing anyone knows."""
    return [
        hash_password(secrets.token_urlsafe(32), services.hash_params) for _ in range(HASH_POOL)
    ]


def _generate(
    connection: Connection,
    services: Services,
    counts: Sizes,
    seed: int,
    hashes: list[str],
    say: Callable[[str], None],
) -> tuple[list[School], People]:
    """Schools and families in memory, ids following what the database already holds."""
    first = bulk_load.next_ids(connection, ("establishment", "division", "pupil", "guardian",
                                            "account"))  # fmt: skip
    clock = Clock(services.clock(), postgres=connection.dialect.name == "postgresql")
    rng = random.Random(seed)
    campaign = random.Random(f"{seed}:campagne")  # dates: see academie_people.People
    schools = plan_schools(rng, campaign, clock, counts, first["establishment"], first["division"])
    _check_free(connection, schools)
    people = People(
        rng,
        campaign,
        clock,
        counts,
        first_ids=first,
        hashes=hashes,
        taken_logins=set(connection.scalars(select(Account.login))),
        taken_ines=set(connection.scalars(select(Pupil.ine))),
        pupil_validity_days=services.settings.pupil_temp_validity_days,
        guardian_validity_months=services.settings.guardian_temp_validity_months,
    )
    step = max(1, len(schools) // 20)

    def filled(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            say(f"établissements {done}/{total}…")

    people.fill(schools, filled)
    return schools, people


def _staff_and_audit(
    connection: Connection,
    services: Services,
    actor: Actor,
    schools: list[School],
    details: dict[str, Any],
) -> list[NewStaff]:
    """The staff (through ``staff.create_staff``) and the audit event, in the load's transaction."""
    # The services' session factory, bound to the load: it carries the key file.
    with services.sessions(bind=connection) as session:
        staff = _create_staff(session, services, schools)
        audit.record(
            session, actor, "demo", now=services.clock(), establishment_id=schools[0].id,
            details=details,
        )  # fmt: skip
        session.commit()  # the session's part only: the load's transaction commits after
    return staff


def _new_summary(
    schools: list[School], people: People, staff: list[NewStaff], started: float
) -> AcademieSummary:
    largest = schools[0]
    pupils = {row[0] for row in people.tables["pupil"] if row[1] == largest.id}
    guardians = {row[0] for row in people.tables["guardian_link"] if row[1] in pupils}
    return AcademieSummary(
        created=True,
        academie=ACADEMIE,
        schools=len(schools),
        pupils=len(people.tables["pupil"]),
        guardians=len(people.tables["guardian"]),
        accounts=len(people.tables["account"]),
        tokens=len(people.tables["search_token"]),
        multi_school_guardians=people.counts.multi_school_guardians,
        blocked=people.counts.blocked,
        accounts_by_state=dict(people.counts.by_state),
        largest_uai=largest.uai,
        largest_name=largest.name,
        largest_pupils=len(pupils),
        largest_guardians=len(guardians),
        principal=staff[0].login,
        staff=staff,
        seconds=time.perf_counter() - started,
    )


def _tables(schools: list[School], people: People) -> dict[str, tuple[tuple[str, ...], list[Row]]]:
    """Every table's columns and rows, parents first."""
    establishments = [(s.id, s.uai, s.name, s.kind.value, ACADEMIE, s.town) for s in schools]
    divisions = [(c.id, s.id, c.name, c.level) for s in schools for c in s.classes]
    rows = dict(people.tables, establishment=establishments, division=divisions)
    return {name: (COLUMNS[name], rows[name]) for name in COLUMNS}


def _check_free(connection: Connection, schools: list[School]) -> None:
    wanted = {s.uai for s in schools}
    taken = sorted(u for u in connection.scalars(select(Establishment.uai)) if u in wanted)
    if taken:
        raise InvalidInput(f"UAI déjà présents dans la base\u00a0: {', '.join(taken[:5])}.")


def _create_staff(session: Session, services: Services, schools: list[School]) -> list[NewStaff]:
    largest = session.get_one(Establishment, schools[0].id)
    college = next(
        (s for s in schools if s.secteur == schools[0].secteur and s.kind.value == "college"),
        None,
    )
    created = []
    for first, last, title, cite in _STAFF:
        attached = [largest]
        if cite and college is not None:
            attached.append(session.get_one(Establishment, college.id))
        created.append(
            create_staff(
                session,
                first_name=first,
                last_name=last,
                role=StaffRole.DIRECTION,
                title=title,
                establishments=attached,
                hash_params=services.hash_params,
            )
        )
    return created


def _rerun(
    services: Services, actor: Actor, seed: int, scale: float, started: float
) -> AcademieSummary:
    """The académie is there: keep it, renew its staff's credentials (they were shown once)."""
    wanted = {(first, last, title) for first, last, title, _ in _STAFF}
    with services.sessions() as session, session.begin():
        largest = session.scalars(
            select(Establishment).where(Establishment.uai == LARGEST_UAI)
        ).one()
        members = session.scalars(
            select(Staff)
            .join(staff_establishment, staff_establishment.c.staff_id == Staff.id)
            .where(staff_establishment.c.establishment_id == largest.id)
            .order_by(Staff.id)
        ).all()
        staff = [
            renew_credentials(m, services.hash_params)
            for m in members
            if (m.first_name, m.last_name, m.title) in wanted
        ]
        audit.record(
            session,
            actor,
            "demo",
            now=services.clock(),
            establishment_id=largest.id,
            details={"academie": ACADEMIE, "seed": seed, "scale": scale, "created": False},
        )
        summary = _stored_summary(session, largest, staff, started)
    return summary


def _stored_summary(
    session: Session, largest: Establishment, staff: list[NewStaff], started: float
) -> AcademieSummary:
    schools = [u for u in session.scalars(select(Establishment.uai)) if is_academie_uai(u)]
    by_state = dict(
        session.execute(select(Account.state, func.count()).group_by(Account.state)).all()
    )
    largest_pupils = select(Pupil.id).where(Pupil.establishment_id == largest.id)
    largest_guardians = session.scalar(
        select(func.count(func.distinct(GuardianLink.guardian_id))).where(
            GuardianLink.pupil_id.in_(largest_pupils)
        )
    )
    return AcademieSummary(
        created=False,
        academie=largest.academie,
        schools=len(schools),
        pupils=session.scalar(select(func.count()).select_from(Pupil)) or 0,
        guardians=session.scalar(select(func.count()).select_from(Guardian)) or 0,
        accounts=sum(by_state.values()),
        tokens=0,
        multi_school_guardians=0,
        blocked=0,
        accounts_by_state={AccountState(k).value: v for k, v in by_state.items()},
        largest_uai=largest.uai,
        largest_name=largest.name,
        largest_pupils=session.scalar(select(func.count()).select_from(largest_pupils.subquery()))
        or 0,
        largest_guardians=largest_guardians or 0,
        principal=staff[0].login if staff else "",
        staff=staff,
        seconds=time.perf_counter() - started,
    )


def _n(number: int) -> str:
    return f"{number:,}".replace(",", " ")
