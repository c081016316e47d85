"""A realistic, deterministic demo: a collège in mid-campaign and a neighbouring école.

Everything about the pupils and guardians (names, birth dates, classes, states, dates)
comes from ``random.Random(seed)``, so two runs with the same seed and clock build the
same school; dates are relative to ``services.clock()`` so the demo always looks like a
campaign that started about ten weeks ago. Staff passwords and TOTP secrets come from
``staff.create_staff`` (``secrets``): they are shown once and cannot be rebuilt, so
running the demo again renews them instead of rebuilding everything.

``reset=True`` empties the whole database (every table) before recreating the demo; it
is refused when the database holds any establishment that is not a demo one (this
collège and école, or the académie of ``academie.py``). Without it, a database holding
the académie is refused too: the two demos are not meant to be mixed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tabulate import tabulate

from ..domain.access.passwords import hash_password
from ..domain.access.staff import NewStaff, create_staff, renew_credentials
from ..domain.accounts.logins import LoginAllocator, guardian_account, pupil_account
from ..domain.model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    EstablishmentType,
    Level,
    Module,
    PupilStatus,
    StaffRole,
)
from ..domain.model.errors import InvalidInput
from ..domain.model.identifiers import fold
from ..domain.model.states import Event, Lockout, transition
from ..domain.model.tables import (
    Account,
    Base,
    Delegation,
    Division,
    Establishment,
    Guardian,
    GuardianLink,
    Pupil,
    Staff,
    staff_establishment,
)
from ..domain.store import audit, establishments
from ..domain.store.audit import Actor
from ..domain.store.db import transaction
from ..domain.store.services import Services
from . import reset as audit_guard
from .academie_plan import LARGEST_UAI, is_academie_uai
from .names import (
    CITIES,
    CYRILLIC_FAMILY,
    EMAIL_DOMAINS,
    LONG_FAMILY,
    ORIGIN_WEIGHTS,
    ORIGINS,
    RESIDENCES,
    STREETS,
)

DEMO_SEED = 20260901

COLLEGE_UAI = "0941234F"
ECOLE_UAI = "0941876D"
DEMO_UAIS = (COLLEGE_UAI, ECOLE_UAI)
ACADEMIE = "Créteil"
CITY = "Ivry-sur-Seine"

# (first name, last name, role, title, also attached to the école)
_COLLEGE_STAFF = (
    ("Philippe", "Marchand", StaffRole.DIRECTION, "Principal", False),
    ("Sandrine", "Lemoine", StaffRole.DIRECTION, "Principale adjointe", True),
    ("Karim", "Haddad", StaffRole.AGENT, "Conseiller principal d'éducation", False),
    ("Brigitte", "Da Costa", StaffRole.AGENT, "Secrétaire de direction", False),
    ("Julien", "Morel", StaffRole.AGENT, "Professeur de mathématiques", False),
    ("Anne-Laure", "Guérin", StaffRole.AGENT, "Professeure de lettres", False),
    ("Thomas", "Nguyen", StaffRole.AGENT, "Professeur d'histoire-géographie", False),
    ("Émilie", "Van der Berg", StaffRole.AGENT, "Professeure d'anglais", False),
)
_ECOLE_STAFF = (("Martine", "Leroux", StaffRole.DIRECTION, "Directrice d'école", False),)

# How far the campaign of each collège class got: "done" (an activation hour took place),
# "partial" (letters handed out, pupils activate at home) or "never" (not notified yet).
_CAMPAIGNS = {
    "6": ("done", "done", "done", "done", "done"),
    "5": ("done", "done", "partial", "partial", "never"),
    "4": ("partial", "partial", "never", "never", "never"),
    "3": ("done", "done", "done", "partial", "partial"),
}
# Days before "now" the campaign of each level started: 6e first, right after the rentrée.
_LEVEL_START_DAYS = {"6": 70, "3": 52, "5": 36, "4": 18, "CM2": 28}
_COLLEGE_LEVELS = ("6", "5", "4", "3")
_SHARED_FAMILIES = 16  # collège families with a younger child at the école
_LEFT_PUPILS = 7


@dataclass(frozen=True)
class DemoSummary:
    """What ``educonnect-tui demo`` prints: the staff credentials exist nowhere else."""

    created: bool
    establishments: list[tuple[str, str]]  # (uai, name)
    pupils: int
    guardians: int
    accounts_by_state: dict[str, int]  # AccountState value -> accounts of the demo
    staff: list[NewStaff]

    def lines(self) -> list[str]:
        out = [
            "Démonstration créée."
            if self.created
            else "La démonstration existait déjà : données conservées,\n"
            "identifiants du personnel renouvelés.",
            "",
            "Établissements :",
        ]
        out += [f"  {uai}  {name}" for uai, name in self.establishments]
        states = " · ".join(
            f"{state.label} {self.accounts_by_state.get(state.value, 0)}" for state in AccountState
        )
        out += [
            f"Élèves : {self.pupils} — représentants légaux : {self.guardians}",
            f"Comptes : {states}",
            "",
            "Personnel (notez-les maintenant : ils ne sont conservés que hachés) :",
        ]
        # Four narrow columns fit an 80-column SSH terminal; the job title goes below.
        rows = [(s.login, s.role.value, s.password, s.totp_secret) for s in self.staff]
        table = tabulate(
            rows, headers=("Identifiant", "Rôle", "Mot de passe", "Clé TOTP"), tablefmt="simple"
        )
        out += table.splitlines()
        out += ["", "Fonctions :"]
        out += [f"  {s.login} : {s.title}" for s in self.staff]
        out += [
            "",
            "La clé TOTP se saisit dans n'importe quelle application d'authentification,",
            "ou donne le code du moment avec :",
            "  python -c \"import pyotp; print(pyotp.TOTP('CLÉ').now())\"",
            "Relancer « demo » renouvelle ces identifiants ;",
            "« demo --reset » vide toute la base et recrée la démonstration.",
        ]
        return out


def create_demo(
    services: Services, actor: Actor, *, seed: int = DEMO_SEED, reset: bool = False
) -> DemoSummary:
    """Build the demo once; later runs only renew the staff credentials (see module doc)."""
    now = services.clock()
    with transaction(services.sessions) as session:
        if reset:
            empty_database(session)
        elif session.scalar(select(Establishment.id).where(Establishment.uai == LARGEST_UAI)):
            raise InvalidInput(
                "la base contient l'académie (demo --scale academie) : « demo --reset » la "
                "remplace par la démonstration du collège."
            )
        existing = session.scalar(select(Establishment).where(Establishment.uai == COLLEGE_UAI))
        if existing is not None:
            new_staff = _renew_staff(session, services)
            created = False
            college_id = existing.id
        else:
            new_staff, college_id = _build(session, services, random.Random(seed), now)
            created = True
        audit.record(
            session,
            actor,
            "demo",
            now=now,
            establishment_id=college_id,
            details={"seed": seed, "created": created, "reset": reset},
        )
        return _summary(session, created, new_staff)


# --- reset and rerun ------------------------------------------------------------------


def empty_database(session: Session) -> None:
    """Delete every row, children first: the demo owns the database when reset is asked.

    Also used by ``academie.build``; the académie's schools count as demo ones.
    """
    check_resettable(session.scalars(select(Establishment.uai).order_by(Establishment.uai)))
    # The audit trail's triggers refuse DELETE: audit_guard empties it on purpose.
    audit_guard.empty_tables(session, list(reversed(Base.metadata.sorted_tables)))


def check_resettable(uais: Iterable[str]) -> None:
    """Refuse to empty a database holding schools that are not the demos' (``InvalidInput``)."""
    foreign = [uai for uai in uais if uai not in DEMO_UAIS and not is_academie_uai(uai)]
    if foreign:
        shown = ", ".join(foreign[:5]) + ("…" if len(foreign) > 5 else "")
        raise InvalidInput(
            "Réinitialisation refusée : la base contient d'autres établissements que ceux "
            f"de la démonstration ({shown}). « demo --reset » vide toute la base."
        )


def _renew_staff(session: Session, services: Services) -> list[NewStaff]:
    """New passwords and TOTP secrets for the demo staff only (not staff added since)."""
    wanted = {(first, last, title) for first, last, _, title, _ in _COLLEGE_STAFF + _ECOLE_STAFF}
    demo_ids = select(Establishment.id).where(Establishment.uai.in_(DEMO_UAIS))
    members = session.scalars(
        select(Staff)
        .join(staff_establishment, staff_establishment.c.staff_id == Staff.id)
        .where(staff_establishment.c.establishment_id.in_(demo_ids))
        .distinct()
        .order_by(Staff.id)
    ).all()
    return [
        renew_credentials(member, services.hash_params)
        for member in members
        if (member.first_name, member.last_name, member.title) in wanted
    ]


def _summary(session: Session, created: bool, staff: list[NewStaff]) -> DemoSummary:
    schools = session.execute(
        select(Establishment.id, Establishment.uai, Establishment.name)
        .where(Establishment.uai.in_(DEMO_UAIS))
        .order_by(Establishment.uai)
    ).all()
    ids = [row.id for row in schools]
    pupil_ids = select(Pupil.id).where(Pupil.establishment_id.in_(ids))
    guardian_ids = (
        select(GuardianLink.guardian_id).where(GuardianLink.pupil_id.in_(pupil_ids)).distinct()
    )
    pupils = session.scalar(select(func.count()).select_from(pupil_ids.subquery())) or 0
    guardians = session.scalar(select(func.count()).select_from(guardian_ids.subquery())) or 0
    by_state = session.execute(
        select(Account.state, func.count())
        .where(Account.pupil_id.in_(pupil_ids) | Account.guardian_id.in_(guardian_ids))
        .group_by(Account.state)
    ).all()
    return DemoSummary(
        created=created,
        establishments=[(row.uai, row.name) for row in schools],
        pupils=pupils,
        guardians=guardians,
        accounts_by_state={AccountState(state).value: count for state, count in by_state},
        staff=staff,
    )


# --- the people -----------------------------------------------------------------------


@dataclass
class _Child:
    first_name: str
    last_name: str
    birth_date: dt.date
    division: str
    school: str  # a UAI
    left_on: dt.date | None = None


@dataclass
class _Adult:
    civility: str
    first_name: str
    last_name: str
    relation: str
    legal: bool
    address: tuple[str, str, str]  # street line, postal code, city


@dataclass
class _Family:
    origin: str
    surname: str
    adults: list[_Adult] = field(default_factory=list)
    children: list[_Child] = field(default_factory=list)


class _People:
    """Draws names, dates and contact details from one ``random.Random``."""

    def __init__(self, rng: random.Random, school_year: int) -> None:
        self.rng = rng
        self.school_year = school_year
        self._ines: set[str] = set()
        self._origins = list(ORIGIN_WEIGHTS)
        self._origin_weights = list(ORIGIN_WEIGHTS.values())

    def pick(self, pool: Sequence[str], flatness: int = 12) -> str:
        """Earlier names of a pool are more frequent, as in real registers."""
        weights = [1.0 / (rank + flatness) for rank in range(len(pool))]
        return self.rng.choices(pool, weights=weights)[0]

    def surname(self, origin: str) -> str:
        # Flatter than first names: even "Martin" is only about 1 % of a school.
        return self.pick(ORIGINS[origin][0], flatness=40)

    def origin(self) -> str:
        return self.rng.choices(self._origins, weights=self._origin_weights)[0]

    def child_first_name(self, origin: str) -> str:
        # Many children of immigrant families get a French first name.
        pools = ORIGINS[origin if self.rng.random() < 0.7 else "fr"]
        return self.pick(pools[1] if self.rng.random() < 0.5 else pools[2])

    def birth_date(self, born: int) -> dt.date:
        return dt.date(born, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def birth_year(self, level: str) -> int:
        """6e pupils are 11 at the rentrée; some repeated a year, a few are ahead."""
        age = {"6": 11, "5": 12, "4": 13, "3": 14, "CM1": 9, "CM2": 10}[level]
        roll = self.rng.random()
        repeat = 0.10 if level == "3" else 0.04
        if level == "3" and roll < 0.015:
            age += 2
        elif roll < repeat:
            age += 1
        elif roll > 0.99:
            age -= 1
        return self.school_year - age

    def ine(self) -> str:
        while True:
            digits = f"{self.rng.randrange(10**9):09d}"
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
            ine = digits + letters
            if ine not in self._ines:
                self._ines.add(ine)
                return ine

    def address(self) -> tuple[str, str, str]:
        number = self.rng.randint(1, 140)
        suffix = " bis" if self.rng.random() < 0.05 else ""
        street = f"{number}{suffix} {self.pick(STREETS)}"
        if self.rng.random() < 0.25:
            street = self.rng.choice(RESIDENCES) + street
        postal, city = self.rng.choices(
            [(c[0], c[1]) for c in CITIES], weights=[c[2] for c in CITIES]
        )[0]
        return street, postal, city

    def family(self, origin: str | None = None, surname: str | None = None) -> _Family:
        origin = origin or self.origin()
        pools = ORIGINS[origin]
        family = _Family(origin, surname or self.surname(origin))
        home = self.address()
        roll = self.rng.random()
        if roll < 0.85:  # two parents; some separated, some mothers keep their own name
            mother_origin = origin if self.rng.random() < 0.85 else self.origin()
            mother_name = family.surname
            if self.rng.random() < 0.4:
                mother_name = self.surname(mother_origin)
            mother_home = home if self.rng.random() < 0.85 else self.address()
            family.adults += [
                _Adult("Mme", self.pick(ORIGINS[mother_origin][4]), mother_name, "mère", True,
                       mother_home),
                _Adult("M.", self.pick(pools[3]), family.surname, "père", True, home),
            ]  # fmt: skip
        elif roll < 0.93:
            family.adults.append(
                _Adult("Mme", self.pick(pools[4]), family.surname, "mère", True, home)
            )
        elif roll < 0.97:
            family.adults.append(
                _Adult("M.", self.pick(pools[3]), family.surname, "père", True, home)
            )
        else:  # a legal guardian who is not a parent (tutelle)
            civility = self.rng.choice(("Mme", "M."))
            first = self.pick(pools[4] if civility == "Mme" else pools[3])
            family.adults.append(
                _Adult(civility, first, self.surname(origin), "tuteur", True, self.address())
            )
        if self.rng.random() < 0.03:  # a grandparent the family asked the school to know
            family.adults.append(
                _Adult("Mme", self.pick(pools[4]), family.surname, "autre", False, self.address())
            )
        return family

    def child(self, family: _Family, level: str, division: str, school: str) -> _Child:
        last = family.surname
        mother = next((a for a in family.adults if a.relation == "mère"), None)
        if mother is not None and mother.last_name != family.surname:
            roll = self.rng.random()
            if roll < 0.1:
                last = f"{family.surname}-{mother.last_name}"
            elif roll < 0.15:
                last = mother.last_name
        return _Child(
            self.child_first_name(family.origin),
            last,
            self.birth_date(self.birth_year(level)),
            division,
            school,
        )

    def email(self, adult: _Adult) -> str:
        first = fold(adult.first_name).replace(" ", "").replace("'", "") or "contact"
        last = "".join(ch for ch in fold(adult.last_name) if ch.isalnum()) or "famille"
        style = self.rng.randrange(4)
        local = (
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}{last}{self.rng.randint(1, 99)}",
            f"{last}.{first}",
        )[style]
        return f"{local}@{self.pick(EMAIL_DOMAINS)}"

    def mobile(self) -> str:
        digits = [self.rng.choice("67"), *(str(self.rng.randrange(10)) for _ in range(8))]
        number = "0" + "".join(digits)
        return " ".join(number[i : i + 2] for i in range(0, 10, 2))


def _college_divisions(rng: random.Random) -> dict[str, int]:
    """20 classes named as SIECLE does ("6E1".."3E5"), 24 to 28 pupils each."""
    return {f"{level}E{n}": rng.randint(24, 28) for level in _COLLEGE_LEVELS for n in range(1, 6)}


def _families(people: _People) -> list[_Family]:
    rng = people.rng
    slots: dict[str, list[str]] = {level: [] for level in _COLLEGE_LEVELS}
    for name, size in _college_divisions(rng).items():
        slots[name[0]] += [name] * size
    for level_slots in slots.values():
        rng.shuffle(level_slots)

    families: list[_Family] = []

    def place(family: _Family, level: str, first_name: str | None = None) -> None:
        child = people.child(family, level, slots[level].pop(), COLLEGE_UAI)
        if first_name:
            child.first_name = first_name
            child.last_name = family.surname
        family.children.append(child)

    # Homonyms on purpose: several "L. Martin" so login suffixes show (l.martin2...).
    for level, first_name in zip("6534", ("Lucas", "Léa", "Louise", "Léo"), strict=True):
        family = people.family("fr", "Martin")
        place(family, level, first_name)
        families.append(family)
    cyrillic = people.family("ua", CYRILLIC_FAMILY[0])
    cyrillic.adults = [a for a in cyrillic.adults if a.relation != "père"]
    cyrillic.adults[0].first_name = CYRILLIC_FAMILY[2]
    cyrillic.adults[0].last_name = CYRILLIC_FAMILY[0]
    place(cyrillic, "5", CYRILLIC_FAMILY[1])
    long_family = people.family("fr", LONG_FAMILY[0])
    place(long_family, "4", LONG_FAMILY[1])
    families += [cyrillic, long_family]

    while any(slots.values()):
        roll = rng.random()
        wanted = 3 if roll < 0.006 else 2 if roll < 0.07 else 1
        available = [level for level in _COLLEGE_LEVELS if slots[level]]
        family = people.family()
        for level in rng.sample(available, min(wanted, len(available))):
            place(family, level)
        families.append(family)
    return families


def _ecole_families(people: _People, college: list[_Family]) -> list[_Family]:
    """CM1 and CM2 at the école: some are younger siblings of collège pupils."""
    rng = people.rng
    slots = ["CM1"] * rng.randint(22, 26) + ["CM2"] * rng.randint(22, 26)
    rng.shuffle(slots)
    singles = [f for f in college[6:] if len(f.children) == 1 and f.children[0].division[0] in "65"]
    for family in rng.sample(singles, _SHARED_FAMILIES):
        division = slots.pop()
        family.children.append(people.child(family, division, division, ECOLE_UAI))
    new: list[_Family] = []
    while slots:
        family = people.family()
        division = slots.pop()
        family.children.append(people.child(family, division, division, ECOLE_UAI))
        new.append(family)
    return new


# --- the campaign ---------------------------------------------------------------------


class _Campaign:
    """Dates and state changes, always through ``states.transition``."""

    def __init__(self, services: Services, rng: random.Random, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        settings = services.settings
        self.pupil_validity = dt.timedelta(days=settings.pupil_temp_validity_days)
        self.guardian_months = settings.guardian_temp_validity_months
        # Hashing ~1,500 demo passwords with argon2id would take minutes. These accounts'
        # credentials were never printed and nobody knows them (staff re-notify to get
        # real ones), so ONE hash of a random secret that is immediately discarded stands
        # for all of them: it verifies against nothing anyone can type.
        self.unknown_hash = hash_password(secrets.token_urlsafe(32), services.hash_params)

    def school_day(self, days_ago: float) -> dt.datetime:
        """Midnight of a weekday ``days_ago`` before now (weekends move to the Friday)."""
        day = (self.now - dt.timedelta(days=days_ago)).date()
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)

    def at(self, day: dt.datetime, hours: float) -> dt.datetime:
        """A moment on ``day``, never later than an hour before now."""
        return min(day + dt.timedelta(hours=hours), self.now - dt.timedelta(hours=1))

    def expires(self, account: Account, issued: dt.datetime) -> dt.datetime:
        if account.kind is AccountKind.PUPIL:
            return issued + self.pupil_validity
        month = issued.month - 1 + self.guardian_months
        year, month = issued.year + month // 12, month % 12 + 1
        day = min(issued.day, calendar.monthrange(year, month)[1])
        return issued.replace(year=year, month=month, day=day)

    def notify(self, account: Account, when: dt.datetime) -> None:
        account.state = transition(account.kind, account.state, Event.NOTIFY)
        account.temp_password_hash = self.unknown_hash
        account.temp_issued_at = when
        account.temp_expires_at = self.expires(account, when)
        account.notified_at = when
        account.notification_count += 1
        account.password_hash = None
        account.activation_method = None
        account.activated_at = None

    def activate(
        self, account: Account, when: dt.datetime, method: ActivationMethod, email: str | None
    ) -> None:
        account.state = transition(account.kind, account.state, Event.ACTIVATE, method)
        account.activation_method = method
        account.activated_at = when
        account.password_hash = self.unknown_hash
        account.temp_password_hash = None
        account.temp_issued_at = None
        account.temp_expires_at = None
        if email:
            account.email = email
            account.email_confirmed_at = when + dt.timedelta(minutes=self.rng.randint(1, 30))

    def deactivate(self, account: Account, when: dt.datetime) -> None:
        account.state = transition(account.kind, account.state, Event.DEACTIVATE)
        account.deactivated_at = when


@dataclass
class _ClassPlan:
    kind: str  # "done", "partial", "never"
    notified: dt.datetime | None
    hour: dt.datetime | None  # the class activation hour


def _class_plans(campaign: _Campaign) -> dict[str, _ClassPlan]:
    rng = campaign.rng
    plans: dict[str, _ClassPlan] = {}
    for level, kinds in _CAMPAIGNS.items():
        start = _LEVEL_START_DAYS[level]
        for n, kind in enumerate(kinds, start=1):
            if kind == "never":
                plans[f"{level}E{n}"] = _ClassPlan(kind, None, None)
                continue
            days_ago = start - n * 1.5 + rng.random()
            notified = campaign.school_day(days_ago)
            hour = campaign.school_day(days_ago - rng.randint(1, 4)) if kind == "done" else None
            plans[f"{level}E{n}"] = _ClassPlan(kind, notified, hour)
    start = _LEVEL_START_DAYS["CM2"]
    plans["CM2"] = _ClassPlan("partial", campaign.school_day(start), None)
    plans["CM1"] = _ClassPlan("never", None, None)
    return plans


def _pupil_states(campaign: _Campaign, account: Account, plan: _ClassPlan, email: str) -> None:
    rng = campaign.rng
    if plan.notified is None:
        return
    campaign.notify(account, campaign.at(plan.notified, rng.uniform(7, 9)))
    roll = rng.random()
    if plan.hour is not None and roll < 0.86:
        # The class activation hour: pupils activate within the hour, in one room.
        when = campaign.at(plan.hour, 8 + rng.randint(0, 7) + rng.uniform(0, 0.9))
        campaign.activate(account, when, ActivationMethod.TEMPORARY_CREDENTIALS, None)
    elif roll < (0.93 if plan.hour is not None else 0.42):
        start = plan.hour or plan.notified
        when = campaign.at(start, 16 + 24 * rng.expovariate(1 / 4))
        campaign.activate(account, when, ActivationMethod.TEMPORARY_CREDENTIALS, None)
    elif rng.random() < 0.12:  # lost the letter: a second one was printed
        campaign.notify(account, campaign.at(plan.notified, 24 * rng.randint(3, 10) + 9))
    if account.state is AccountState.ACTIVATED and rng.random() < 0.2:
        account.email = email
        account.email_confirmed_at = account.activated_at


def _guardian_states(
    campaign: _Campaign,
    account: Account,
    guardian: Guardian,
    plan_notified: dt.datetime | None,
    people: _People,
    adult: _Adult,
) -> None:
    rng = campaign.rng
    roll = rng.random()
    letter_day = plan_notified or campaign.school_day(rng.uniform(5, 70))
    if roll < 0.30:
        return
    if roll < 0.55:
        campaign.notify(account, campaign.at(letter_day, rng.uniform(7, 16)))
        if rng.random() < 0.08:
            campaign.notify(account, campaign.at(letter_day, 24 * rng.randint(5, 20) + 10))
        return
    method_roll = rng.random()
    if method_roll < 0.50:
        method = ActivationMethod.TEMPORARY_CREDENTIALS
    elif method_roll < 0.85 or not guardian.mobile:
        method = ActivationMethod.FRANCECONNECT
    else:
        method = ActivationMethod.SELF_REGISTRATION
    email = guardian.email or people.email(adult)
    if method is ActivationMethod.TEMPORARY_CREDENTIALS or rng.random() < 0.3:
        campaign.notify(account, campaign.at(letter_day, rng.uniform(7, 16)))
        when = campaign.at(letter_day, 18 + 24 * rng.expovariate(1 / 5))
    else:  # FranceConnect and auto-inscription need no letter: mostly at the rentrée
        when = campaign.at(campaign.school_day(rng.triangular(3, 75, 70)), rng.uniform(6, 21))
    campaign.activate(account, when, method, email)


# --- building -------------------------------------------------------------------------


def _build(
    session: Session, services: Services, rng: random.Random, now: dt.datetime
) -> tuple[list[NewStaff], int]:
    school_year = now.year if now.month >= 8 else now.year - 1
    people = _People(rng, school_year)
    college = establishments.create(
        session,
        uai=COLLEGE_UAI,
        name="Collège Jean Moulin",
        type=EstablishmentType.COLLEGE,
        academie=ACADEMIE,
        city=CITY,
    )
    ecole = establishments.create(
        session,
        uai=ECOLE_UAI,
        name="École élémentaire Joliot-Curie",
        type=EstablishmentType.ECOLE,
        academie=ACADEMIE,
        city=CITY,
    )
    schools = {COLLEGE_UAI: college, ECOLE_UAI: ecole}

    college_families = _families(people)
    ecole_families = _ecole_families(people, college_families)
    families = college_families + ecole_families

    names = sorted({(c.school, c.division) for f in families for c in f.children})
    divisions = {
        key: Division(
            establishment=schools[key[0]], name=key[1], level=Level.of_division(key[1]).value
        )
        for key in names
    }
    session.add_all(divisions.values())
    session.flush()

    campaign = _Campaign(services, rng, now)
    plans = _class_plans(campaign)
    # A few pupils left during the term: their single-child families lose their account.
    leavers = rng.sample([f for f in college_families[6:] if len(f.children) == 1], _LEFT_PUPILS)
    for family in leavers:
        family.children[0].left_on = campaign.school_day(rng.uniform(3, 60)).date()

    allocator = LoginAllocator(session)
    accounts: list[Account] = []
    serial = itertools.count(1)
    with session.no_autoflush:
        for family in families:
            family_pupils: list[Pupil] = []
            for child in family.children:
                pupil = Pupil(
                    establishment=schools[child.school],
                    ine=people.ine(),
                    last_name=child.last_name,
                    first_name=child.first_name,
                    birth_date=child.birth_date,
                    division=divisions[(child.school, child.division)],
                    status=PupilStatus.LEFT if child.left_on else PupilStatus.ENROLLED,
                    left_on=child.left_on,
                )
                account = pupil_account(pupil, allocator)
                kid = _Adult("", child.first_name, child.last_name, "", False, ("", "", ""))
                _pupil_states(campaign, account, plans[child.division], people.email(kid))
                if child.left_on:
                    left = dt.datetime.combine(child.left_on, dt.time(16), tzinfo=dt.UTC)
                    campaign.deactivate(account, min(left, now))
                family_pupils.append(pupil)
                accounts.append(account)
            college_plans = [
                plans[c.division].notified for c in family.children if c.school == COLLEGE_UAI
            ]
            letter_day = next((d for d in college_plans if d is not None), None)
            if letter_day is None and family.children[0].school == ECOLE_UAI:
                letter_day = plans[family.children[0].division].notified
            for adult in family.adults:
                street, postal, city = adult.address
                guardian = Guardian(
                    source_key=f"DEMO-{next(serial):05d}",
                    civility=adult.civility,
                    last_name=adult.last_name,
                    first_name=adult.first_name,
                    email=people.email(adult) if rng.random() < 0.82 else None,
                    mobile=people.mobile() if rng.random() < 0.9 else None,
                    address=street,
                    postal_code=postal,
                    city=city,
                )
                for pupil in family_pupils:
                    session.add(
                        GuardianLink(
                            guardian=guardian,
                            pupil=pupil,
                            relationship_label=adult.relation,
                            legal_guardian=adult.legal,
                        )
                    )
                account = guardian_account(guardian, allocator)
                _guardian_states(campaign, account, guardian, letter_day, people, adult)
                if all(child.left_on for child in family.children):
                    last_left = max(c.left_on for c in family.children if c.left_on)
                    left = dt.datetime.combine(last_left, dt.time(17), tzinfo=dt.UTC)
                    campaign.deactivate(account, min(left, now))
                accounts.append(account)
        _blocks_and_failures(campaign, accounts)
        session.add_all(accounts)
    session.flush()

    new_staff = _staff(session, services, college, ecole)
    _delegations(session, campaign, new_staff, college, divisions, now)
    return new_staff, college.id


def _blocks_and_failures(campaign: _Campaign, accounts: list[Account]) -> None:
    """A handful of blocked accounts (still blocked when the demo opens) and near-misses."""
    rng = campaign.rng
    live = [a for a in accounts if a.state in (AccountState.NOTIFIED, AccountState.ACTIVATED)]
    for kind, count in ((AccountKind.PUPIL, 5), (AccountKind.GUARDIAN, 3)):
        for account in rng.sample([a for a in live if a.kind is kind], count):
            # Earlier blocks make this one longer (the wait doubles), so it lasts hours.
            account.block_count = rng.randint(2, 5)
            moment = campaign.now - dt.timedelta(minutes=rng.randint(2, 20))
            while Lockout.record_failure(account, moment) is None:
                moment += dt.timedelta(seconds=20)
    for account in rng.sample(live, 25):
        if account.blocked_until is None:
            account.failed_attempts = rng.randint(1, 4)


def _staff(
    session: Session, services: Services, college: Establishment, ecole: Establishment
) -> list[NewStaff]:
    created = []
    for first, last, role, title, both in _COLLEGE_STAFF:
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
    for first, last, role, title, _ in _ECOLE_STAFF:
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


def _delegations(
    session: Session,
    campaign: _Campaign,
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
                divisions=[divisions[(COLLEGE_UAI, name)] for name in classes],
            )
        )
    session.flush()
