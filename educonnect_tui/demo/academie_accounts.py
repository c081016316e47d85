"""The accounts of the académie's pupils and guardians: states, dates, logins, search rows.

Dates come from the ``campaign`` stream only (see ``People``), so the same seed gives the
same people whatever the day of the build. Logins follow ``identifiers.login_base`` with
the numeric suffix rule of ``identifiers.login_with_suffix``, allocated in memory against
every login already stored; ``search_text`` is ``identifiers.search_key(last, first,
login)`` (a legal representative's ``guardian_search_key``, with their children's names),
``sort_name`` is ``identifiers.sort_key(last, first)`` and the ``search_token``
rows are ``search_index.words`` of ``search_text``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..domain.model.enums import AccountKind, AccountState, ActivationMethod
from ..domain.model.identifiers import fold, guardian_search_key, login_base, search_key, sort_key
from ..domain.model.states import block_duration
from ..domain.store.search_index import words
from .academie_plan import DAY, HOUR, ClassPlan, Clock, School
from .academie_rows import COLUMNS, Counts, Row

_PUPIL = AccountKind.PUPIL.value
_GUARDIAN = AccountKind.GUARDIAN.value
_NOT_NOTIFIED = AccountState.NOT_NOTIFIED.value
_NOTIFIED = AccountState.NOTIFIED.value
_ACTIVATED = AccountState.ACTIVATED.value
_DEACTIVATED = AccountState.DEACTIVATED.value
_TEMPORARY = ActivationMethod.TEMPORARY_CREDENTIALS.value
_FRANCECONNECT = ActivationMethod.FRANCECONNECT.value
_SELF_REGISTRATION = ActivationMethod.SELF_REGISTRATION.value


class AccountRows:
    """Account rows and their search tokens; ``People`` adds the families they belong to."""

    def __init__(
        self,
        campaign: random.Random,
        clock: Clock,
        *,
        first_account: int,
        hashes: Sequence[str],
        taken_logins: set[str],
        pupil_validity_days: int,
        guardian_validity_months: int,
    ) -> None:
        self.campaign = campaign
        self.draw = campaign.random
        self.clock = clock
        self.now = clock.now
        self.tables: dict[str, list[Row]] = {name: [] for name in COLUMNS}
        self.counts = Counts()
        self.next_account = first_account
        self.hashes = list(hashes)
        self.pupil_validity = pupil_validity_days * DAY
        self.guardian_months = guardian_validity_months
        # Login allocation in memory: base -> last suffix used, and every login taken.
        self.taken = set(taken_logins)
        self.suffix = _suffixes(taken_logins)
        self._bases: dict[tuple[str, str], str] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._folded: dict[str, str] = {}

    def _fold_plain(self, name: str) -> str:
        folded = self._folded.get(name)
        if folded is None:
            folded = "".join(ch for ch in fold(name) if ch.isalnum())
            self._folded[name] = folded
        return folded

    def _pupil_account(
        self, pupil_id: int, first: str, last: str, plan: ClassPlan, left: int | None
    ) -> None:
        rnd = self.draw
        now = self.now - HOUR
        state, count = _NOT_NOTIFIED, 0
        notified = activated = expires = temp = password = email = confirmed = None
        if plan.notified is not None:
            notified = min(plan.notified + int(rnd() * 2 * HOUR), now)
            count = 1
            roll = rnd()
            if plan.hour is not None and roll < 0.86:
                activated = plan.hour + int(rnd() * 7 * HOUR)
            elif roll < (0.93 if plan.hour is not None else plan.home_rate):
                activated = notified + 16 * HOUR + int(self.campaign.expovariate(1 / (4 * DAY)))
            if activated is not None and activated < now:
                state = _ACTIVATED
                password = self.hashes[pupil_id % len(self.hashes)]
                if rnd() < 0.2:
                    email = f"{self._fold_plain(first) or 'eleve'}.{pupil_id}@gmail.com"
                    confirmed = activated + int(rnd() * 1800)
            else:
                activated = None
                state = _NOTIFIED
                if rnd() < 0.12:  # lost the letter: a second one was printed
                    again = notified + int(rnd() * 10 + 3) * DAY
                    if again < now:
                        notified, count = again, 2
                temp = self.hashes[(pupil_id + 1) % len(self.hashes)]
                expires = notified + self.pupil_validity
        method = _TEMPORARY if state == _ACTIVATED else None  # pupils' only way
        self._account(_PUPIL, pupil_id, None, first, last, state, method, temp, notified,
                      expires, password, count, activated, left, email, confirmed)  # fmt: skip

    def _guardian_account(
        self,
        guardian_id: int,
        first: str,
        last: str,
        school: School,
        letter: int | None,
        email: str | None,
        mobile: str | None,
        all_left: int | None,
        children: tuple[tuple[str, str], ...] = (),
    ) -> None:
        rnd = self.draw
        clock = self.clock
        now = self.now - HOUR
        progress = school.guardian_progress
        state, method, count = _NOT_NOTIFIED, None, 0
        notified = activated = expires = temp = password = account_email = confirmed = None
        roll = rnd()
        if roll < 0.6 * progress:
            method_roll = rnd()
            if method_roll < 0.5:
                method = _TEMPORARY
            elif method_roll < 0.85 or mobile is None:
                method = _FRANCECONNECT
            else:
                method = _SELF_REGISTRATION
            if method == _TEMPORARY or rnd() < 0.3:
                notified = self._letter(school, letter)
                count = 1
                activated = notified + 18 * HOUR + int(self.campaign.expovariate(1 / (5 * DAY)))
            else:  # FranceConnect and auto-inscription need no letter: mostly at the rentrée
                day = clock.school_day(self.campaign.triangular(3, 75, 70))
                activated = day + int(rnd() * 15 + 6) * HOUR
            if activated < now:
                state = _ACTIVATED
                password = self.hashes[guardian_id % len(self.hashes)]
                account_email = (
                    email or f"{self._fold_plain(last) or 'famille'}.{guardian_id}@orange.fr"
                )
                confirmed = activated + int(rnd() * 1800)
            else:
                method, activated = None, None
                if notified is not None:
                    state = _NOTIFIED
        elif roll < 0.9 * progress + 0.05:
            notified = self._letter(school, letter)
            state, count = _NOTIFIED, 1
            if rnd() < 0.08:
                again = notified + int(rnd() * 15 + 5) * DAY
                if again < now:
                    notified, count = again, 2
        if state == _NOTIFIED and notified is not None:
            temp = self.hashes[(guardian_id + 1) % len(self.hashes)]
            expires = clock.months_later(notified, self.guardian_months)
        deactivated = None if all_left is None else all_left + HOUR
        self._account(_GUARDIAN, None, guardian_id, first, last, state, method,
                      temp, notified, expires, password, count, activated, deactivated,
                      account_email, confirmed, children)  # fmt: skip

    def _letter(self, school: School, class_letter: int | None) -> int:
        """When a guardian's letter went out: with the child's class, or the school's mailing."""
        if class_letter is not None:
            moment = class_letter + int(self.draw() * 4 * HOUR)
        else:
            running = max(1.0, (self.now - school.start) / DAY)
            days_ago = running * (1 - self.draw())
            moment = self.clock.school_day(days_ago) + int((self.draw() * 8 + 8) * HOUR)
        return min(moment, self.now - 2 * HOUR)

    def _account(
        self,
        kind: str,
        pupil_id: int | None,
        guardian_id: int | None,
        first: str,
        last: str,
        state: str,
        method: str | None,
        temp: str | None,
        notified: int | None,
        expires: int | None,
        password: str | None,
        count: int,
        activated: int | None,
        deactivated: int | None,
        email: str | None,
        confirmed: int | None,
        children: tuple[tuple[str, str], ...] = (),
    ) -> None:
        account_id = self.next_account
        self.next_account += 1
        login = self._login(first, last)
        name = self._names.get((last, first))
        if name is None:
            name = search_key(last, first)
            self._names[(last, first)] = name
        search_text = f"{name} {login.replace('.', ' ')}" if name else login.replace(".", " ")
        if children:  # a legal representative is found by their children's names too
            search_text = guardian_search_key(last, first, login, children)
        sort_name = sort_key(last, first)
        if deactivated is not None:
            state = _DEACTIVATED
        rnd = self.draw
        failed = block_count = 0
        blocked = None
        if state in (_NOTIFIED, _ACTIVATED):
            roll = rnd()
            if roll < 0.0015:  # locked out right now, after earlier blocks too
                block_count = 1 + int(rnd() * 4)
                length = int(block_duration(block_count - 1).total_seconds())
                blocked = self.now + int(length * (0.1 + 0.9 * rnd()))
                self.counts.blocked += 1
            elif roll < 0.008:
                failed = 1 + int(rnd() * 4)
        text = self.clock.text
        notified_text = None if notified is None else text(notified)
        self.tables["account"].append(
            (account_id, kind, pupil_id, guardian_id, login, search_text, sort_name, state,
             method, temp,
             None if temp is None else notified_text,
             None if expires is None else text(expires),
             password, count, notified_text,
             None if activated is None else text(activated),
             None if deactivated is None else text(deactivated),
             failed, None if blocked is None else text(blocked), block_count, email,
             None if confirmed is None else text(confirmed), 1)
        )  # fmt: skip
        by_state = self.counts.by_state
        by_state[state] = by_state.get(state, 0) + 1
        tokens = self.tables["search_token"]
        for token in words(search_text):
            tokens.append((token, account_id))

    def _login(self, first: str, last: str) -> str:
        """``identifiers`` rules, allocated in memory: the next free suffix of the base."""
        base = self._bases.get((first, last))
        if base is None:
            base = login_base(first, last)
            self._bases[(first, last)] = base
        number = self.suffix.get(base, 0) + 1
        login = base if number == 1 else f"{base}{number}"
        while login in self.taken:  # another base plus digits, or a login already stored
            number += 1
            login = f"{base}{number}"
        self.suffix[base] = number
        self.taken.add(login)
        return login


def _suffixes(logins: set[str]) -> dict[str, int]:
    """base -> highest suffix already used, from the logins the database holds."""
    out: dict[str, int] = {}
    for login in logins:
        base = login.rstrip("0123456789")
        number = int(login[len(base) :]) if len(base) < len(login) else 1
        if number > out.get(base, 0):
            out[base] = number
    return out
