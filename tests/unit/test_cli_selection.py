"""``notify``, ``accounts`` and ``guardians`` choose accounts as the home page's filters do."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from educonnect_tui.cli import context as cli_context
from educonnect_tui.domain.accounts.listing import Listing, ListQuery
from educonnect_tui.domain.accounts.notification import NotifyRequest, preview
from educonnect_tui.domain.accounts.selection import Selection, expiring_within
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock, RunCli

UAI = factories.DEFAULT_UAI


@pytest.fixture
def on_clock(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The command line on the test's own services: « in N days » counts from its clock."""
    monkeypatch.setattr(cli_context, "open_services", lambda **_: services)
    return services


def _school(services: Services, clock: FakeClock) -> dict[str, int]:
    """Pupils whose credentials expire in 3 and 20 days, 2 days ago, or were activated,
    each with a guardian; every other guardian has an e-mail, one an empty address."""
    now = clock()
    validity = dt.timedelta(days=services.settings.pupil_temp_validity_days)
    expiries = {"soon": 3, "later": 20, "expired": -2, "activated": 3, "never": None}
    ids: dict[str, int] = {}
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for n, name in enumerate(expiries):
            child = factories.pupil(session, school, first_name=name.capitalize())
            parent = factories.guardian(
                session,
                [child],
                first_name=f"Parent{n}",
                email=f"p{n}@example.fr" if n % 2 == 0 else ("" if n == 3 else None),
                mobile="06 12 34 56 7" + str(n) if n < 2 else "01 45 67 89 00",
            )
            ids[name], ids[f"parent_{name}"] = child.id, parent.id
    for name, days in expiries.items():
        if days is not None:
            issued = now - validity + dt.timedelta(days=days)
            factories.simulate_notification(services, ids[name], "Provisoire1", issued_at=issued)
    with services.sessions() as session, session.begin():
        session.get_one(Account, ids["activated"]).state = AccountState.ACTIVATED
    return ids


def _logins(out: str) -> set[str]:
    return {row["identifiant"] for row in json.loads(out)["comptes"]}


def _login_of(services: Services, ids: set[int]) -> set[str]:
    with services.sessions() as session:
        return {session.get_one(Account, i).login for i in ids}


def test_notify_dry_run_expiring_within_counts_what_the_home_filter_lists(
    on_clock: Services, clock: FakeClock, run_cli: RunCli
) -> None:
    services = on_clock
    ids = _school(services, clock)
    selection = Selection(expiring_by=expiring_within(7, clock()))
    operator = factories.operator(services)
    listed = set(Listing(services, operator).ids(ListQuery(AccountKind.PUPIL, selection)))
    assert listed == {ids["soon"], ids["expired"]}
    planned = preview(services, operator, NotifyRequest(AccountKind.PUPIL, selection))
    assert planned.total == len(listed)
    before = _hashes(services)
    code, out, err = run_cli(
        ["notify", "--uai", UAI, "--kind", "pupils", "--expiring-within", "7", "--dry-run"]
    )
    assert code == 0 and not err
    assert "2 comptes élèves seraient notifiés" in out, out
    assert _hashes(services) == before
    code, out, _ = run_cli(["accounts", "--uai", UAI, "--expiring-within", "7", "--format", "json"])
    assert code == 0 and _logins(out) == _login_of(services, listed)
    code, out, _ = run_cli(
        ["accounts", "--uai", UAI, "--expiring-within", "30", "--format", "json"]
    )
    assert _logins(out) == _login_of(services, listed | {ids["later"]})
    # 0 days: those already expired, and only them.
    code, out, _ = run_cli(
        ["notify", "--uai", UAI, "--kind", "pupils", "--expiring-within", "0", "--dry-run"]
    )
    assert code == 0 and "1 compte élève serait notifié" in out, out


def _hashes(services: Services) -> list[str | None]:
    with services.sessions() as session:
        return [a.temp_password_hash for a in session.query(Account).order_by(Account.id)]


@pytest.mark.parametrize(
    ("options", "field", "value"),
    [
        (["--without-email"], "has_email", False),
        (["--with-email"], "has_email", True),
        (["--sms-mobile"], "sms_mobile", True),
        (["--no-sms-mobile", "--with-email"], "both", None),
    ],
)
def test_accounts_lists_exactly_the_guardians_the_contact_filter_means(
    on_clock: Services,
    clock: FakeClock,
    run_cli: RunCli,
    options: list[str],
    field: str,
    value: bool | None,
) -> None:
    services = on_clock
    _school(services, clock)
    selection = (
        Selection(sms_mobile=False, has_email=True)
        if field == "both"
        else Selection(**{field: value})  # type: ignore[arg-type]
    )
    listed = set(
        Listing(services, factories.operator(services)).ids(
            ListQuery(AccountKind.GUARDIAN, selection)
        )
    )
    assert listed  # each filter keeps someone, and leaves someone out
    code, out, err = run_cli(
        ["accounts", "--uai", UAI, "--kind", "guardians", *options, "--format", "json"]
    )
    assert code == 0 and not err
    assert _logins(out) == _login_of(services, listed)
    code, out, _ = run_cli(["accounts", "--uai", UAI, "--kind", "guardians", "--format", "json"])
    assert _logins(out) > _login_of(services, listed)
    code, out, _ = run_cli(["notify", "--uai", UAI, "--kind", "guardians", *options, "--dry-run"])
    planned = preview(
        services, factories.operator(services), NotifyRequest(AccountKind.GUARDIAN, selection)
    )
    assert code == 0 and planned.total == len(listed)
    assert f"{len(listed)} compte" in out.splitlines()[1]


def test_without_email_is_the_empty_address_too(
    on_clock: Services, clock: FakeClock, run_cli: RunCli
) -> None:
    ids = _school(on_clock, clock)
    code, out, _ = run_cli(
        ["accounts", "--uai", UAI, "--kind", "guardians", "--without-email", "--format", "json"]
    )
    expected = {ids[f"parent_{n}"] for n in ("later", "activated")}  # None and ""
    assert code == 0 and _logins(out) == _login_of(on_clock, expected)
    with on_clock.sessions() as session:
        read = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "accounts_read")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert read is not None and read.details["filters"] == {"courriel": "sans"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["accounts", "--expiring-within", "366"], "de 0 à 365"),
        (["accounts", "--expiring-within", "-1"], "de 0 à 365"),
        (["accounts", "--expiring-within", "sept"], "« sept » n'est pas un nombre entier"),
        (
            ["notify", "--kind", "pupils", "--expiring-within", "", "--dry-run"],
            "«  » n'est pas un nombre entier",
        ),
        (["accounts", "--with-email", "--without-email"], "ne peut pas être utilisé avec"),
        (["accounts", "--kind", "guardians", "--sms-mobile", "--no-sms-mobile"], "ne peut pas"),
        (["accounts", "--without-email"], "qu'aux responsables"),
        (["accounts", "--kind", "pupils", "--sms-mobile"], "qu'aux responsables"),
        (
            ["notify", "--kind", "pupils", "--no-sms-mobile", "--with-email", "--dry-run"],
            "--with-email et --no-sms-mobile ne s'appliquent qu'aux responsables",
        ),
        (["accounts", "--state", "violet"], "inconnu"),
        (["guardians", "--sms-mobile"], "précisez --no-sms-mobile"),
        (["guardians", "--with-email"], "précisez --no-sms-mobile"),
    ],
)
def test_bad_selections_give_one_french_line_and_exit_2(
    on_clock: Services, clock: FakeClock, run_cli: RunCli, args: list[str], fragment: str
) -> None:
    _school(on_clock, clock)
    before = _hashes(on_clock)
    command, *rest = args
    code, out, err = run_cli([command, "--uai", UAI, *rest])
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert err.startswith("educonnect-tui\u00a0: erreur\u00a0:") and "Traceback" not in err
    assert _hashes(on_clock) == before


def test_the_guardians_export_takes_the_same_filters(
    on_clock: Services, clock: FakeClock, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(on_clock, clock)
    target = tmp_path / "liste.csv"
    code, out, err = run_cli(
        [
            "guardians", "--uai", UAI, "--no-sms-mobile", "--with-email",
            "--expiring-within", "7", "--output", str(target),
        ]
    )  # fmt: skip
    assert code == 0, err
    text = target.read_text(encoding="utf-8-sig")
    # Guardians' own accounts were never notified: nobody's credentials expire.
    assert "1 représentant" not in out and text.count("\n") == 1
    code, out, err = run_cli(
        ["guardians", "--uai", UAI, "--no-sms-mobile", "--with-email", "--output", str(target),
         "--overwrite"]
    )  # fmt: skip
    assert code == 0, err
    rows = target.read_text(encoding="utf-8-sig").splitlines()[1:]
    # Parents 2 and 4: an e-mail, a landline.
    assert len(rows) == 2 and all("@example.fr" in row for row in rows)
    assert not any("Parent0" in row for row in rows)  # parent 0 has a mobile


def _events(services: Services) -> int:
    with services.sessions() as session:
        return len(session.scalars(select(AuditEvent.id)).all())


@pytest.mark.parametrize(
    ("args", "unknown"),
    [
        (["notify", "--kind", "pupils", "--class", "6E1", "--class", "9Z9", "--dry-run"], "9Z9"),
        (["notify", "--kind", "pupils", "--class", "9Z9", "--dry-run"], "9Z9"),
        (["notify", "--kind", "pupils", "--class", "9z9", "--class", "8Y8"], "9Z9, 8Y8"),
        (["notify", "--kind", "guardians", "--class", " 9z9 ", "--pdf", "p.pdf"], "9Z9"),
        (["accounts", "--class", "9Z9"], "9Z9"),
        (["accounts", "--kind", "guardians", "--class", "9Z9", "--pdf", "l.pdf"], "9Z9"),
        (["guardians", "--no-sms-mobile", "--class", "9Z9", "--output", "g.csv"], "9Z9"),
    ],
)
def test_an_unknown_class_is_refused_before_anything_is_done(
    on_clock: Services,
    clock: FakeClock,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    unknown: str,
) -> None:
    _school(on_clock, clock)
    here = tmp_path / "ici"
    here.mkdir()
    monkeypatch.chdir(here)
    before, events = _hashes(on_clock), _events(on_clock)
    command, *rest = args
    code, out, err = run_cli([command, "--uai", UAI, *rest])
    assert code == 2 and not out, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    word = "Classes inconnues" if "," in unknown else "Classe inconnue"
    assert f"{word} dans {UAI}\u00a0: {unknown} (classes\u00a0: 6E1)." in err, err
    assert _hashes(on_clock) == before and _events(on_clock) == events
    assert not list(here.iterdir())  # no PDF, no list, no CSV


def test_a_class_is_the_schools_whatever_its_case_and_spaces(
    on_clock: Services, clock: FakeClock, run_cli: RunCli
) -> None:
    _school(on_clock, clock)
    code, out, err = run_cli(["accounts", "--uai", UAI, "--class", " 6e1 ", "--format", "json"])
    assert code == 0, err
    assert len(_logins(out)) == 5


def test_class_names_are_the_schools_own_and_refuse_an_unknown_one(services: Services) -> None:
    from educonnect_tui.domain.access.caller import Operator
    from educonnect_tui.domain.accounts.selection import class_names
    from educonnect_tui.domain.model.errors import InvalidInput
    from educonnect_tui.domain.store.establishments import get_or_create_division

    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for n in range(14):
            get_or_create_division(session, school, f"{3 + n % 4}E{n}")
    operator = Operator.naming(services, UAI)
    assert class_names(services, operator, [" 3e0", "4E1", "3E0"]) == ("3E0", "4E1")
    assert class_names(services, operator, []) == ()
    with pytest.raises(InvalidInput) as refused:
        class_names(services, operator, ["3E0", "2NDE1", ""])
    said = str(refused.value)
    assert said.startswith(f"Classes inconnues dans {UAI}\u00a0: 2NDE1, « » (classes\u00a0: 6E")
    assert said.endswith(", 3E12, … 14 en tout).") and said.count(",") == 13
