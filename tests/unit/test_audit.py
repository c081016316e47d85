"""The audit trail: append-only in the database, tamper-evident, filtered and paged.

Tampering is simulated as an attacker with direct database access would do it: the
append-only triggers are disabled (PostgreSQL) or dropped (SQLite), the rows changed,
then the triggers put back, so that only the chain and its anchor can tell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from educonnect_tui.domain.model.calendar import parse_date
from educonnect_tui.domain.model.enums import StaffRole
from educonnect_tui.domain.model.errors import InvalidInput, NotFound, PermissionDenied
from educonnect_tui.domain.model.tables import AuditAnchor, AuditEvent, AuditTarget, Establishment
from educonnect_tui.domain.reports import journal as audit_log
from educonnect_tui.domain.reports.journal import AuditFilter
from educonnect_tui.domain.store import audit, keys
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI
OTHER_UAI = "0941876D"
ACTOR = Actor(label="Hélène Martin (h.martin)", source_address="10.0.0.5")
AUDIT_TABLES = ("audit_event", "audit_target", "audit_anchor")


def _record(
    services: Services,
    action: str,
    *,
    establishment_id: int | None,
    targets: tuple[int, ...] = (),
    actor: Actor = ACTOR,
    details: dict[str, object] | None = None,
) -> int:
    with services.sessions() as session, session.begin():
        event = audit.record(
            session,
            actor,
            action,
            now=services.clock(),
            establishment_id=establishment_id,
            targets=targets,
            details=details,
        )
        return event.id


@pytest.fixture
def trail(services: Services, clock: FakeClock) -> dict[str, Any]:
    """Five events on a school with four pupils, one on another school."""
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        other = factories.school(session, OTHER_UAI, "École Langevin")
        accounts = [
            factories.pupil(session, school, first_name=f, last_name=last)
            for f, last in (("Anne", "Bernard"), ("Chloé", "Durand"), ("Éric", "Faure"))
        ]
        elsewhere = factories.pupil(session, other, first_name="Zoé", last_name="Roux")
        ids: dict[str, Any] = {"school": school.id, "other": other.id, "elsewhere": elsewhere.id}
        ids.update({f"p{i}": a.id for i, a in enumerate(accounts)})
        logins = {f"login{i}": a.login for i, a in enumerate(accounts)}
    everyone = (ids["p0"], ids["p1"], ids["p2"])
    ids["e1"] = _record(services, "sign_in", establishment_id=ids["school"])
    clock.advance(days=1)
    ids["e2"] = _record(
        services, "notify", establishment_id=ids["school"], targets=everyone, details={"count": 3}
    )
    clock.advance(days=1)
    ids["e3"] = _record(
        services,
        "reset_password",
        establishment_id=ids["school"],
        targets=(ids["p1"],),
        actor=Actor(label="Karim Haddad (k.haddad)", source_address="10.0.0.9"),
    )
    ids["e4"] = _record(
        services, "notify", establishment_id=ids["other"], targets=(ids["elsewhere"],)
    )
    clock.advance(days=1)
    ids["e5"] = _record(services, "unblock", establishment_id=ids["school"], targets=(ids["p0"],))
    return ids | logins


def _disable(session: Session) -> list[str]:
    """What an attacker does first; returns what is needed to put things back."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        return []
    raw = connection.connection.dbapi_connection
    if raw is not None and not getattr(raw, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    ).all()
    for name, _ in rows:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in rows]


def _restore(session: Session, saved: list[str]) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    for sql in saved:
        connection.exec_driver_sql(sql)


@contextmanager
def attacker(services: Services) -> Iterator[Session]:
    """Triggers off, tamper, triggers back on, committed: only the chain can tell."""
    with services.sessions() as session, session.begin():
        saved = _disable(session)
        yield session
        _restore(session, saved)


def _verify(services: Services) -> audit.ChainReport:
    return audit_log.verify_everywhere(services)


# -- append-only --------------------------------------------------------------------------


def test_chain_intact_after_several_actions(services: Services, trail: dict[str, Any]) -> None:
    report = _verify(services)
    assert report.ok and report.broken_at is None
    assert report.checked == 5
    assert report.message() == "chaîne intacte\u00a0: 5 enregistrements ; déclencheurs en place"
    with services.sessions() as session:
        anchor = session.get_one(AuditAnchor, 1)
        assert (anchor.event_count, anchor.last_event_id) == (5, trail["e5"])


def test_empty_trail_is_intact(services: Services) -> None:
    assert (
        _verify(services).message()
        == "chaîne intacte\u00a0: 0 enregistrements ; déclencheurs en place"
    )


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(actor_label="quelqu'un d'autre"),
        delete(AuditEvent),
        update(AuditTarget).values(account_id=1),
        delete(AuditTarget),
        update(AuditAnchor).values(event_count=1),
        delete(AuditAnchor),
    ],
    ids=["update-event", "delete-event", "update-target", "delete-target", "anchor", "anchor-del"],
)
def test_update_and_delete_refused_by_the_database(
    services: Services, trail: dict[str, Any], statement: object
) -> None:
    with (
        pytest.raises(DBAPIError, match="ajout seul"),
        services.sessions() as session,
        session.begin(),
    ):
        session.execute(statement)  # type: ignore[call-overload]
    assert _verify(services).ok


def test_anchor_cannot_be_rewound_or_forged(services: Services, trail: dict[str, Any]) -> None:
    with (
        pytest.raises(DBAPIError, match="ajout seul"),
        services.sessions() as session,
        session.begin(),
    ):
        session.execute(
            update(AuditAnchor).values(
                event_count=AuditAnchor.event_count + 1, last_event_id=trail["e4"]
            )
        )


# -- tampering ----------------------------------------------------------------------------


def test_edited_record_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.id == trail["e3"]).values(actor_label="personne")
        )
    report = _verify(services)
    assert (report.broken_at, report.checked) == (trail["e3"], 2)
    assert "modifié" in report.reason


def test_deleted_middle_record_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(delete(AuditTarget).where(AuditTarget.event_id == trail["e2"]))
        session.execute(delete(AuditEvent).where(AuditEvent.id == trail["e2"]))
    report = _verify(services)
    assert report.broken_at == trail["e3"]
    assert "supprimé" in report.reason and f"n° {trail['e1']}" in report.reason


def test_deleted_last_record_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(delete(AuditTarget).where(AuditTarget.event_id == trail["e5"]))
        session.execute(delete(AuditEvent).where(AuditEvent.id == trail["e5"]))
    report = _verify(services)
    assert report.broken_at == trail["e5"]
    assert report.reason == f"le dernier enregistrement (n° {trail['e5']}) a été supprimé"


def test_whole_trail_deleted_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(delete(AuditTarget))
        session.execute(delete(AuditEvent))
    report = _verify(services)
    assert report.broken_at == trail["e5"]
    assert "5 derniers enregistrements" in report.reason


def test_edited_target_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(
            update(AuditTarget)
            .where(AuditTarget.event_id == trail["e3"])
            .values(account_id=trail["p2"])
        )
    report = _verify(services)
    assert report.broken_at == trail["e3"]
    assert "comptes visés" in report.reason


def test_removed_target_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(
            delete(AuditTarget).where(
                AuditTarget.event_id == trail["e2"], AuditTarget.account_id == trail["p0"]
            )
        )
    assert _verify(services).broken_at == trail["e2"]


def test_deleted_anchor_is_reported(services: Services, trail: dict[str, Any]) -> None:
    with attacker(services) as session:
        session.execute(delete(AuditAnchor))
    report = _verify(services)
    assert report.broken_at == trail["e5"] and "ancre" in report.reason


def test_chain_continues_after_truncate_on_postgres_and_demo_style_reset(
    services: Services,
) -> None:
    """The tests' TRUNCATE (PostgreSQL) leaves an empty trail that chains again from zero."""
    with services.sessions() as session:
        assert session.scalar(select(AuditAnchor)) is None
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        school_id = school.id
    _record(services, "sign_in", establishment_id=school_id)
    assert (
        _verify(services).message()
        == "chaîne intacte\u00a0: 1 enregistrements ; déclencheurs en place"
    )


# -- command line -------------------------------------------------------------------------


def test_cli_verify_intact_then_tampered(
    cli_env: Services, trail: dict[str, Any], run_cli: RunCli
) -> None:
    assert run_cli(["audit", "verify"]) == (
        0,
        "chaîne intacte\u00a0: 5 enregistrements ; déclencheurs en place\n",
        "",
    )
    code, out, _ = run_cli(["audit", "verify", "--format", "json"])
    assert code == 0 and json.loads(out)["intact"] is True
    with attacker(cli_env) as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.id == trail["e2"]).values(details={"count": 1})
        )
    code, out, err = run_cli(["audit", "verify"])
    assert code == 1 and err == ""
    assert out.startswith(f"chaîne rompue à l'enregistrement n° {trail['e2']}\u00a0: ")
    assert "modifié" in out
    code, out, _ = run_cli(["audit", "verify", "--format", "json"])
    assert code == 1
    assert json.loads(out)["broken_at"] == trail["e2"]


def test_cli_verify_deleted_last_record(
    cli_env: Services, trail: dict[str, Any], run_cli: RunCli
) -> None:
    with attacker(cli_env) as session:
        session.execute(delete(AuditTarget).where(AuditTarget.event_id == trail["e5"]))
        session.execute(delete(AuditEvent).where(AuditEvent.id == trail["e5"]))
    code, out, _ = run_cli(["audit", "verify"])
    assert code == 1
    assert f"n° {trail['e5']}" in out and "supprimé" in out


def _ids(out: str) -> list[int]:
    return [row["id"] for row in json.loads(out)]


def test_cli_list_filters(cli_env: Services, trail: dict[str, Any], run_cli: RunCli) -> None:
    t = trail
    code, out, _ = run_cli(["audit", "list", "--format", "json"])
    assert code == 0 and _ids(out) == [t["e5"], t["e4"], t["e3"], t["e2"], t["e1"]]
    base = ["audit", "list", "--uai", UAI, "--format", "json"]
    assert _ids(run_cli(base)[1]) == [t["e5"], t["e3"], t["e2"], t["e1"]]
    assert _ids(run_cli([*base, "--action", "notify"])[1]) == [t["e2"]]
    assert _ids(run_cli([*base, "--action", "(re)notification"])[1]) == [t["e2"]]
    login1 = str(t["login1"])
    assert _ids(run_cli([*base, "--account", login1])[1]) == [t["e3"], t["e2"]]
    assert _ids(run_cli([*base, "--actor", "k.haddad"])[1]) == [t["e3"]]
    # 01/09 08:00 UTC is 10:00 in Paris; each event one day later.
    assert _ids(run_cli([*base, "--since", "02/09/2026", "--until", "03/09/2026"])[1]) == [
        t["e3"],
        t["e2"],
    ]
    code, out, _ = run_cli(["audit", "list", "--uai", UAI, "--action", "notify"])
    assert code == 0 and "(re)notification" in out and "3\u00a0: " in out
    code, out, _ = run_cli(["audit", "list", "--uai", UAI, "--format", "csv"])
    assert out.splitlines()[0] == (
        "N°;Date;Qui;Depuis;Action;Détails;Comptes;Identifiant;Nom;Type;Classe"
    )
    code, _, err = run_cli(["audit", "list", "--since", "31/02/2026"])
    assert code == 2 and "JJ/MM/AAAA" in err
    code, _, err = run_cli(["audit", "list", "--action", "Quoi ?"])
    assert code == 2 and "inconnue" in err


def test_cli_list_output_file_is_private_and_audited(
    cli_env: Services, trail: dict[str, Any], run_cli: RunCli, tmp_path: Path
) -> None:
    target = tmp_path / "extraits" / "journal.csv"
    target.parent.mkdir()
    code, out, _ = run_cli(
        ["audit", "list", "--uai", UAI, "--format", "csv", "--output", str(target)]
    )
    assert code == 0 and "4 événements" in out
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    # One line per (event, account): the notification of three accounts is three lines.
    assert len(target.read_text().splitlines()) == 1 + 1 + 3 + 1 + 1
    with cli_env.sessions() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None and last.action == "export"
        assert last.establishment_id == trail["school"]
        assert last.details["path"] == str(target) and last.details["rows"] == 4
        assert last.details["format"] == "csv"
    assert _verify(cli_env).ok


def test_cli_csv_export_lists_every_account_of_an_event(
    cli_env: Services, trail: dict[str, Any], run_cli: RunCli, tmp_path: Path
) -> None:
    """A notification of many accounts is one line per account, each with its name."""
    with cli_env.sessions() as session, session.begin():
        school = session.get_one(Establishment, trail["school"])
        many = [
            factories.pupil(session, school, first_name="Léa", last_name=f"Nom{i:02}").id
            for i in range(12)
        ]
    event = _record(
        cli_env, "notify", establishment_id=trail["school"], targets=tuple(many),
        details={"kind": "eleve", "count": 12},
    )  # fmt: skip
    target = tmp_path / "journal.csv"
    export = ["audit", "list", "--uai", UAI, "--format", "csv", "--output", str(target)]
    code, _, _ = run_cli(export)
    assert code == 0
    header, *lines = csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";")
    assert header == [
        "N°", "Date", "Qui", "Depuis", "Action", "Détails", "Comptes", "Identifiant", "Nom",
        "Type", "Classe",
    ]  # fmt: skip
    mine = [line for line in lines if line[0] == str(event)]
    assert len(mine) == 12
    assert [line[8] for line in mine] == [f"Nom{i:02} Léa" for i in range(12)]
    assert {line[6] for line in mine} == {"12"} and {line[9] for line in mine} == {"élève"}
    assert {line[5] for line in mine} == {"type\u00a0: élève · comptes\u00a0: 12"}
    # An event without accounts is still one line.
    assert next(line for line in lines if line[0] == str(trail["e1"]))[6:] == [""] * 5
    code, out, _ = run_cli(["audit", "list", "--uai", UAI, "--format", "json"])
    (listed,) = [row for row in json.loads(out) if row["id"] == event]
    assert len(listed["accounts"]) == 12


def test_one_export_of_the_journal_is_one_event(
    cli_env: Services, trail: dict[str, Any], run_cli: RunCli, tmp_path: Path
) -> None:
    def count() -> int:
        with cli_env.sessions() as session:
            return len(session.scalars(select(AuditEvent.id)).all())

    before = count()
    target = tmp_path / "journal.csv"
    export = ["audit", "list", "--uai", UAI, "--format", "csv", "--output", str(target)]
    code, _, _ = run_cli(export)
    assert code == 0 and count() == before + 1
    code, _, _ = run_cli(["audit", "list", "--uai", UAI, "--format", "csv"])  # a read: one too
    assert code == 0 and count() == before + 2


def test_event_accounts_are_all_there_page_by_page(
    services: Services, trail: dict[str, Any]
) -> None:
    with services.sessions() as session, session.begin():
        school = session.get_one(Establishment, trail["school"])
        many = [
            factories.pupil(session, school, first_name="Léa", last_name=f"Nom{i:02}").id
            for i in range(25)
        ]
    event = _record(services, "notify", establishment_id=trail["school"], targets=tuple(many))
    head = factories.operator_at(services, trail["school"])
    assert audit_log.event_account_count(services, head, event) == 25
    pages = [
        audit_log.event_accounts(services, head, event, offset=o, limit=10) for o in (0, 10, 20)
    ]
    assert [len(p) for p in pages] == [10, 10, 5]
    logins = [a.login for page in pages for a in page]
    assert logins == sorted(logins) and len(set(logins)) == 25
    assert pages[0][0].name.startswith("Nom") and pages[0][0].division
    # Another school's event is not this school's to read.
    elsewhere = factories.operator_at(services, trail["other"])
    with pytest.raises(NotFound):
        audit_log.event_accounts(services, elsewhere, event)
    with pytest.raises(NotFound):
        audit_log.event_account_count(services, elsewhere, event)


def test_cli_csv_export_leaves_no_formula_to_run(
    cli_env: Services, trail: dict[str, Any], run_cli: RunCli, tmp_path: Path
) -> None:
    """A label that reached the trail as a formula must stay text in the spreadsheet.

    Actor labels come from staff names (imported, or typed by an administrator) and the
    address from the network: the secretary who opens the extract must not run them.
    """
    formula = '=HYPERLINK("https://example.invalid/?"&A1;"Ouvrir")'
    _record(
        cli_env,
        "sign_in",
        establishment_id=trail["school"],
        actor=Actor(label=formula, source_address="@SUM(1+1)"),
    )
    target = tmp_path / "journal.csv"
    args = ["audit", "list", "--uai", UAI, "--format", "csv", "--output", str(target)]
    code, _, _ = run_cli(args)
    assert code == 0
    header, newest, *_ = csv.reader(io.StringIO(target.read_text()), delimiter=";")
    assert header[2:4] == ["Qui", "Depuis"]
    assert newest[2:4] == ["'" + formula, "'@SUM(1+1)"]
    code, out, _ = run_cli(["audit", "list", "--uai", UAI, "--format", "csv"])
    assert code == 0 and f"'{formula}".replace('"', '""') in out


# -- events() and count() -----------------------------------------------------------------


def test_events_page_in_sql_newest_first(services: Services, trail: dict[str, Any]) -> None:
    school = trail["school"]
    for n in range(25):
        _record(services, "sign_in", establishment_id=school, details={"n": n})
    assert audit_log.count(services, factories.operator_at(services, school), AuditFilter()) == 29
    pages = [
        audit_log.events(
            services, factories.operator_at(services, school), AuditFilter(), offset=o, limit=10
        )
        for o in (0, 10, 20, 30)
    ]
    assert [len(p) for p in pages] == [10, 10, 9, 0]
    ids = [row.id for page in pages for row in page]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 29
    notify = audit_log.events(
        services, factories.operator_at(services, school), AuditFilter(action="notify")
    )
    assert len(notify) == 1
    row = notify[0]
    assert row.action_label == "(re)notification" and row.target_count == 3
    assert row.target_logins == tuple(sorted(str(trail[f"login{i}"]) for i in range(3)))
    assert row.details == "comptes\u00a0: 3"
    assert row.who == ACTOR.label and row.source == "10.0.0.5"


def test_events_show_only_three_logins(services: Services) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        ids = tuple(
            factories.pupil(session, school, first_name="A", last_name=f"Nom{i}").id
            for i in range(5)
        )
        school_id = school.id
    _record(services, "notify", establishment_id=school_id, targets=ids)
    (row,) = audit_log.events(services, factories.operator_at(services, school_id), AuditFilter())
    assert row.target_count == 5 and len(row.target_logins) == 3
    assert row.targets_label.endswith("(+2)")


def test_events_filters_combine(services: Services, trail: dict[str, Any]) -> None:
    school = trail["school"]

    def ids(**kwargs: object) -> list[int]:
        return [
            r.id
            for r in audit_log.events(
                services, factories.operator_at(services, school), AuditFilter(**kwargs)
            )  # type: ignore[arg-type]
        ]

    assert ids(account_login=trail["login0"]) == [trail["e5"], trail["e2"]]
    assert ids(account_login=trail["login0"], action="unblock") == [trail["e5"]]
    assert ids(actor="haddad") == [trail["e3"]]
    assert ids(since=dt.date(2026, 9, 4)) == [trail["e5"]]
    assert ids(until=dt.date(2026, 9, 1)) == [trail["e1"]]
    assert ids(account_login="personne") == []
    assert (
        audit_log.count(
            services, factories.operator_at(services, school), AuditFilter(actor="h.martin")
        )
        == 3
    )
    with pytest.raises(InvalidInput, match="après"):
        ids(since=dt.date(2026, 9, 5), until=dt.date(2026, 9, 1))


def test_reading_the_trail_is_for_the_direction_only(
    services: Services, trail: dict[str, Any]
) -> None:
    factories.staff_member(services)
    factories.staff_member(
        services, first_name="Karim", last_name="Haddad", role=StaffRole.AGENT, title="CPE"
    )
    principal = factories.signed_in(services, "h.martin", UAI)
    agent = factories.signed_in(services, "k.haddad", UAI)
    assert audit_log.count(services, principal, AuditFilter()) >= 4
    assert audit_log.verify(services, principal).ok
    with pytest.raises(PermissionDenied, match="journal d'audit"):
        audit_log.events(services, agent, AuditFilter())


def test_filter_dates_speak_french() -> None:
    """The screen reads its « du »/« au » fields with the calendar's parser."""
    assert parse_date(" 3/9/2026 ") == dt.date(2026, 9, 3)
    with pytest.raises(InvalidInput, match=r"du « 31/02/2026 » invalide : attendu JJ/MM/AAAA"):
        parse_date("31/02/2026", "du")


def test_sessions_do_not_leak_between_backends_helpers(services: Services) -> None:
    """The attacker helper restores the triggers: UPDATE is refused again afterwards."""
    with services.sessions() as session, session.begin():
        school_id = factories.school(session).id
    _record(services, "sign_in", establishment_id=school_id)
    with attacker(services) as session:
        session.execute(text("SELECT 1"))
    with (
        pytest.raises(DBAPIError, match="ajout seul"),
        services.sessions() as session,
        session.begin(),
    ):
        session.execute(update(AuditEvent).values(action="x"))


# -- what only the key can tell ------------------------------------------------------------


def _upsert_rewrite(dialect: str, event_id: int) -> str:
    """The statement that rewrites record ``event_id`` in place, as each backend spells it."""
    values = (
        f"({event_id}, '2026-09-02 08:00:00', NULL, 'personne', '10.0.0.1', 'sign_in', NULL, "
        f"'{{}}', '{'0' * 64}', '{'f' * 64}')"
    )
    columns = (
        "(id, occurred_at, actor_id, actor_label, source_address, action, establishment_id, "
        "details, prev_hash, hash)"
    )
    if dialect == "sqlite":
        return f"INSERT OR REPLACE INTO audit_event {columns} VALUES {values}"
    return (
        f"INSERT INTO audit_event {columns} VALUES {values} "
        "ON CONFLICT (id) DO UPDATE SET actor_label = excluded.actor_label, hash = excluded.hash"
    )


def test_replace_or_upsert_of_a_record_is_refused(
    services: Services, trail: dict[str, Any]
) -> None:
    """SQLite's REPLACE deletes then inserts: with every trigger in place it rewrote records."""
    with (
        pytest.raises(DBAPIError, match="ajout seul"),
        services.sessions() as session,
        session.begin(),
    ):
        session.execute(text(_upsert_rewrite(services.engine.dialect.name, trail["e3"])))
    report = _verify(services)
    assert report.ok and report.checked == 5


def test_replace_of_the_anchor_is_refused(services: Services, trail: dict[str, Any]) -> None:
    if services.engine.dialect.name == "sqlite":
        statement = (
            "INSERT OR REPLACE INTO audit_anchor (id, event_count, last_event_id, last_hash) "
            "VALUES (1, 0, 0, '')"
        )
    else:
        statement = (
            "INSERT INTO audit_anchor (id, event_count, last_event_id, last_hash) "
            "VALUES (1, 0, 0, '') ON CONFLICT (id) DO UPDATE SET event_count = 0, "
            "last_event_id = 0, last_hash = ''"
        )
    with (
        pytest.raises(DBAPIError, match="ajout seul"),
        services.sessions() as session,
        session.begin(),
    ):
        session.execute(text(statement))
    assert _verify(services).ok


def test_replace_of_a_target_is_refused(services: Services, trail: dict[str, Any]) -> None:
    if services.engine.dialect.name == "sqlite":
        statement = "INSERT OR REPLACE INTO audit_target (event_id, account_id) VALUES (:e, :a)"
    else:
        statement = (
            "INSERT INTO audit_target (event_id, account_id) VALUES (:e, :a) "
            "ON CONFLICT (event_id, account_id) DO UPDATE SET account_id = excluded.account_id"
        )
    with (
        pytest.raises(DBAPIError, match="ajout seul"),
        services.sessions() as session,
        session.begin(),
    ):
        session.execute(text(statement), {"e": trail["e3"], "a": trail["p1"]})


def _forged(session: Session, **columns: Any) -> AuditEvent:
    """A new last record, chained onto the real tail, its hash computed as the code does."""
    tail = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    event = AuditEvent(
        occurred_at=tail.occurred_at + dt.timedelta(minutes=1),
        actor_id=None,
        actor_label="Hélène Martin (h.martin)",
        source_address="10.0.0.5",
        action="unblock",
        establishment_id=tail.establishment_id,
        details={},
        prev_hash=tail.hash,
        hash="",
        **columns,
    )
    event.hash = audit._digest(event, [])
    return event


def test_forged_record_with_a_recomputed_hash_is_reported(
    services: Services, trail: dict[str, Any]
) -> None:
    """A plain INSERT, every trigger in place: only a key outside the database tells."""
    with services.sessions() as session, session.begin():
        forged = _forged(session)
        session.add(forged)
        session.flush()
        forged_id = forged.id
    report = _verify(services)
    assert not report.ok
    assert report.broken_at == forged_id and report.checked == 5
    assert "signé" in report.reason


def test_forged_record_claiming_the_key_is_reported(
    services: Services, trail: dict[str, Any]
) -> None:
    with services.sessions() as session, session.begin():
        claimed = session.scalar(select(AuditEvent.key_id).where(AuditEvent.id == trail["e5"]))
        forged = _forged(session, key_id=claimed)
        session.add(forged)
        session.flush()
        forged_id = forged.id
    report = _verify(services)
    assert report.broken_at == forged_id and "modifié" in report.reason


def test_rewritten_chain_with_recomputed_hashes_is_reported(
    services: Services, trail: dict[str, Any]
) -> None:
    """Triggers dropped, record 3 and every later one recomputed, anchor moved, triggers back."""
    with attacker(services) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.id >= trail["e3"]).order_by(AuditEvent.id)
        ).all()
        previous = events[0].prev_hash
        for event in events:
            targets = list(
                session.scalars(
                    select(AuditTarget.account_id).where(AuditTarget.event_id == event.id)
                )
            )
            if event.id == trail["e3"]:
                event.actor_label = "personne"
            event.prev_hash = previous
            event.key_id = None
            event.hash = audit._digest(event, targets)
            session.flush()
            previous = event.hash
        session.execute(update(AuditAnchor).values(last_hash=previous))
    report = _verify(services)
    assert report.broken_at == trail["e3"] and report.checked == 2


@contextmanager
def _one_trigger_dropped(services: Services) -> Iterator[str]:
    """One trigger dropped and committed; put back after the test (PostgreSQL's schema is
    shared by the session's tests)."""
    with services.sessions() as session, session.begin():
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            name = "audit_event_no_change"
            definition = connection.exec_driver_sql(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = %(n)s "
                "AND pg_table_is_visible(tgrelid)",
                {"n": name},
            ).scalar_one()
            connection.exec_driver_sql(f"DROP TRIGGER {name} ON audit_event")
        else:
            name = "audit_event_no_update"
            definition = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (name,)
            ).scalar_one()
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield name
    finally:
        with services.sessions() as session, session.begin():
            session.connection().exec_driver_sql(definition)


def test_a_dropped_trigger_is_reported(
    services: Services, trail: dict[str, Any], cli_env: Services, run_cli: RunCli
) -> None:
    report = _verify(services)
    assert report.ok and "déclencheurs en place" in report.message()
    with _one_trigger_dropped(services) as dropped:
        _check_dropped_is_reported(services, run_cli, dropped)
    assert _verify(services).ok


def _check_dropped_is_reported(services: Services, run_cli: RunCli, dropped: str) -> None:
    report = _verify(services)
    assert not report.ok
    assert report.missing_triggers == (dropped,)
    assert dropped in report.message() and "déclencheur" in report.message()
    code, out, _ = run_cli(["audit", "verify"])
    assert code == 1 and dropped in out
    assert json.loads(run_cli(["audit", "verify", "--format", "json"])[1])["triggers_missing"] == [
        dropped
    ]


@pytest.mark.postgres
def test_a_disabled_trigger_is_reported(postgres_schema: str, tmp_path: Path) -> None:
    from educonnect_tui.domain.store.settings import Settings
    from tests.conftest import FAST_HASH, _truncate

    _truncate(postgres_schema)
    built = Services.from_settings(
        Settings(database_url=postgres_schema, key_file=tmp_path / "educonnect.key"),
        hash_params=FAST_HASH,
    )
    try:
        with built.sessions() as session, session.begin():
            session.execute(text("ALTER TABLE audit_anchor DISABLE TRIGGER audit_anchor_check"))
        report = _verify(built)
        assert report.missing_triggers == ("audit_anchor_check",)
        assert "désactivé" in report.message()
    finally:
        with built.sessions() as session, session.begin():
            session.execute(text("ALTER TABLE audit_anchor ENABLE TRIGGER audit_anchor_check"))
        built.engine.dispose()


def test_legacy_records_before_the_key_still_verify(
    services: Services, trail: dict[str, Any]
) -> None:
    """Records written before the key existed are checked by their SHA-256, and counted."""
    with attacker(services) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        previous = audit.GENESIS
        for event in events[:3]:
            targets = list(
                session.scalars(
                    select(AuditTarget.account_id).where(AuditTarget.event_id == event.id)
                )
            )
            event.prev_hash = previous
            event.key_id = None
            event.hash = audit._digest(event, targets)
            session.flush()
            previous = event.hash
        # The first keyed record was signed over the old tail's hash: sign it again as the
        # upgrade would have (the legacy part is what the migration found).
        fourth = events[3]
        targets = list(
            session.scalars(select(AuditTarget.account_id).where(AuditTarget.event_id == fourth.id))
        )
        fourth.prev_hash = previous
        fourth.hash = audit.signed_digest(session, fourth, targets)
        session.flush()
        events[4].prev_hash = fourth.hash
        events[4].hash = audit.signed_digest(
            session,
            events[4],
            list(
                session.scalars(
                    select(AuditTarget.account_id).where(AuditTarget.event_id == events[4].id)
                )
            ),
        )
        session.flush()
        session.execute(update(AuditAnchor).values(last_hash=events[4].hash))
        legacy = keys.Legacy(records=3, last_hash=previous)
    # A key file made before it stated the older records: accepted, but said so; the
    # upgrade states them.
    assert keys.read_keyring(services.key_store.path).legacy == keys.Legacy(0, audit.GENESIS)
    data = json.loads(services.key_store.path.read_text())
    del data["legacy"]
    services.key_store.path.write_text(json.dumps(data))
    report = _verify(services)
    assert report.ok and report.unkeyed == 3 and not report.attested
    assert "non attestés par le fichier de clés" in report.message() and "db upgrade" in (
        report.message()
    )
    services.upgrade()
    assert keys.read_keyring(services.key_store.path).legacy == legacy
    report = _verify(services)
    assert report.ok and report.unkeyed == 3 and report.attested
    assert "3 antérieurs à la clé ; " in report.message()
    assert report.as_dict()["unkeyed_attested"] is True
    # An unsigned record after a signed one is a forgery, whatever its hash.
    with attacker(services) as session:
        fifth = session.get_one(AuditEvent, trail["e5"])
        fifth.key_id = None
        fifth.hash = audit._digest(fifth, [trail["p0"]])
        session.flush()
        session.execute(update(AuditAnchor).values(last_hash=fifth.hash))
    report = _verify(services)
    assert report.broken_at == trail["e5"] and "signé" in report.reason


def _unsigned_chain(session: Session, count: int, start: str = audit.GENESIS) -> str:
    """``count`` made-up records, plain SHA-256 over the code's own JSON, as an attacker
    without the key would write them; returns the last hash."""
    previous = start
    for n in range(count):
        event = AuditEvent(
            occurred_at=dt.datetime(2026, 1, 1, 8, n, tzinfo=dt.UTC),
            actor_id=None,
            actor_label="inventé",
            source_address="10.0.0.66",
            action="sign_in",
            establishment_id=None,
            details={"n": n},
            prev_hash=previous,
            hash="",
            key_id=None,
        )
        event.hash = audit._digest(event, [])
        session.add(event)
        session.flush()
        previous = event.hash
    return previous


def _replace_trail(session: Session, count: int) -> None:
    """Everything deleted, ``count`` unsigned records and a matching anchor in its place."""
    for table in reversed(AUDIT_TABLES):
        session.connection().exec_driver_sql(f"DELETE FROM {table}")
    last = _unsigned_chain(session, count)
    last_id = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    session.execute(delete(AuditAnchor))
    session.add(AuditAnchor(id=1, event_count=count, last_event_id=last_id, last_hash=last))
    session.flush()


def test_trail_replaced_by_unsigned_records_is_reported(
    services: Services, trail: dict[str, Any], cli_env: Services, run_cli: RunCli
) -> None:
    """Triggers dropped, the whole trail replaced by three records « older than the key »,
    anchor set to match, triggers back: the key file knows there were none."""
    with attacker(services) as session:
        _replace_trail(session, 3)
    report = _verify(services)
    assert not report.ok and report.broken_at is not None
    assert "3 enregistrements non signés alors que le fichier de clés n'en connaît que 0" in (
        report.message()
    )
    code, out, _ = run_cli(["audit", "verify"])
    assert code == 1 and "non signés" in out


def test_new_database_filled_with_unsigned_records_is_reported(services: Services) -> None:
    """A database emptied (or never used) since its key file was made: unsigned records
    written afterwards are forgeries, even as the only ones."""
    assert _verify(services).ok  # makes the key file: no record older than the key
    with attacker(services) as session:
        _replace_trail(session, 2)
    report = _verify(services)
    assert not report.ok
    assert "2 enregistrements non signés alors que le fichier de clés n'en connaît que 0" in (
        report.reason
    )


def test_records_older_than_the_key_cannot_be_replaced_or_removed(services: Services) -> None:
    """A key file that knows three older records: three others, or two of them, or a
    fourth one in their place are all reported."""
    assert _verify(services).ok  # the key file, made on a new database
    with attacker(services) as session:
        _replace_trail(session, 3)
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None
        genuine = keys.Legacy(records=3, last_hash=last.hash)
    services.key_store.state_legacy(genuine)
    assert _verify(services).ok and _verify(services).unkeyed == 3
    with attacker(services) as session:  # three other records, same count
        for table in reversed(AUDIT_TABLES):
            session.connection().exec_driver_sql(f"DELETE FROM {table}")
        _unsigned_chain(session, 3)
        session.execute(update(AuditEvent).values(details={"autre": True}))
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        previous = audit.GENESIS
        for event in events:
            event.prev_hash = previous
            event.hash = previous = audit._digest(event, [])
            session.flush()
        session.add(
            AuditAnchor(id=1, event_count=3, last_event_id=events[-1].id, last_hash=previous)
        )
        session.flush()
        last_id = events[-1].id
    report = _verify(services)
    assert not report.ok and report.broken_at == last_id
    assert "ne sont pas ceux que le fichier de clés connaît" in report.reason
    with attacker(services) as session:
        _replace_trail(session, 2)
    report = _verify(services)
    assert not report.ok
    assert "2 enregistrements non signés alors que le fichier de clés en connaît 3" in (
        report.reason
    )
    with attacker(services) as session:
        _replace_trail(session, 4)
    assert "4 enregistrements non signés alors que le fichier de clés n'en connaît que 3" in (
        _verify(services).reason
    )
