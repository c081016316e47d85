"""The collège and the école filled with families, their accounts and their staff.

The order of the draws is part of the demo: the same seed and clock give the same
schools, so moving a draw changes every name after it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from sqlalchemy.orm import Session

from ..domain.access.staff import NewStaff
from ..domain.accounts.logins import LoginAllocator, guardian_account, pupil_account
from ..domain.model.enums import EstablishmentType, Level, PupilStatus
from ..domain.model.tables import Account, Division, Guardian, GuardianLink, Pupil
from ..domain.store import establishments
from ..domain.store.services import Services
from .college_campaign import (
    Campaign,
    blocks_and_failures,
    class_plans,
    guardian_states,
    pupil_states,
)
from .college_people import Adult, Family, People
from .college_staff import create_demo_staff, grant_delegations
from .names import CYRILLIC_FAMILY, LONG_FAMILY

COLLEGE_UAI = "0941234F"
ECOLE_UAI = "0941876D"
DEMO_UAIS = (COLLEGE_UAI, ECOLE_UAI)
ACADEMIE = "Créteil"
CITY = "Ivry-sur-Seine"
_COLLEGE_LEVELS = ("6", "5", "4", "3")
_SHARED_FAMILIES = 16  # collège families with a younger child at the école
_LEFT_PUPILS = 7


def _college_divisions(rng: random.Random) -> dict[str, int]:
    """20 classes named as SIECLE does ("6E1".."3E5"), 24 to 28 pupils each."""
    return {f"{level}E{n}": rng.randint(24, 28) for level in _COLLEGE_LEVELS for n in range(1, 6)}


def _families(people: People) -> list[Family]:
    rng = people.rng
    slots: dict[str, list[str]] = {level: [] for level in _COLLEGE_LEVELS}
    for name, size in _college_divisions(rng).items():
        slots[name[0]] += [name] * size
    for level_slots in slots.values():
        rng.shuffle(level_slots)

    families: list[Family] = []

    def place(family: Family, level: str, first_name: str | None = None) -> None:
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


def _ecole_families(people: People, college: list[Family]) -> list[Family]:
    """CM1 and CM2 at the école: some are younger siblings of collège pupils."""
    rng = people.rng
    slots = ["CM1"] * rng.randint(22, 26) + ["CM2"] * rng.randint(22, 26)
    rng.shuffle(slots)
    singles = [f for f in college[6:] if len(f.children) == 1 and f.children[0].division[0] in "65"]
    for family in rng.sample(singles, _SHARED_FAMILIES):
        division = slots.pop()
        family.children.append(people.child(family, division, division, ECOLE_UAI))
    new: list[Family] = []
    while slots:
        family = people.family()
        division = slots.pop()
        family.children.append(people.child(family, division, division, ECOLE_UAI))
        new.append(family)
    return new


def build(
    session: Session, services: Services, rng: random.Random, now: dt.datetime
) -> tuple[list[NewStaff], int]:
    school_year = now.year if now.month >= 8 else now.year - 1
    people = People(rng, school_year)
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

    campaign = Campaign(services, rng, now)
    plans = class_plans(campaign)
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
                kid = Adult("", child.first_name, child.last_name, "", False, ("", "", ""))
                pupil_states(campaign, account, plans[child.division], people.email(kid))
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
                guardian_states(campaign, account, guardian, letter_day, people, adult)
                if all(child.left_on for child in family.children):
                    last_left = max(c.left_on for c in family.children if c.left_on)
                    left = dt.datetime.combine(last_left, dt.time(17), tzinfo=dt.UTC)
                    campaign.deactivate(account, min(left, now))
                accounts.append(account)
        blocks_and_failures(campaign, accounts)
        session.add_all(accounts)
    session.flush()

    new_staff = create_demo_staff(session, services, college, ecole)
    grant_delegations(session, campaign, new_staff, college, divisions, now)
    return new_staff, college.id
