"""The command line has no sign-in: every use is in the trail, with its Unix user and SSH client."""

from __future__ import annotations

import io
import os
import pwd
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from educonnect_tui.domain.model.tables import AuditEvent
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI
SSH = "203.0.113.7 51234 10.0.0.2 22"
UNIX_USER = pwd.getpwuid(os.getuid()).pw_name


def test_the_actor_is_the_real_unix_user_and_the_ssh_client() -> None:
    actor = Actor.command_line({"SSH_CONNECTION": SSH, "USER": "p.marchand"})
    assert actor.label == f"ligne de commande ({UNIX_USER}@{socket.gethostname()})"
    assert actor.source_address == "203.0.113.7"
    assert actor.staff_id is None
    assert Actor.command_line({"SSH_CLIENT": "2001:db8::5 4000 22"}).source_address == "2001:db8::5"
    assert Actor.command_line({}).source_address == "console locale"
    run_by_sudo = Actor.command_line({"SUDO_USER": "alice"}).label
    assert run_by_sudo == f"ligne de commande ({UNIX_USER}@{socket.gethostname()}, sudo par alice)"


def _events(services: Services) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    ("args", "action"),
    [
        (["stats", "--uai", UAI], "stats_read"),
        (["search", "lefevre"], "search"),
        (["audit", "list"], "audit_read"),
        (["audit", "list", "--uai", UAI, "--format", "json"], "audit_read"),
        (
            [
                "staff",
                "add",
                "--first-name",
                "Anne",
                "--last-name",
                "Roy",
                "--role",
                "agent",
                "--uai",
                UAI,
            ],
            "staff_add",
        ),
    ],
)
def test_every_command_is_audited_with_who_and_where_from(
    cli_env: Services,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    action: str,
) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        factories.pupil(session, school, first_name="Noé", last_name="Lefèvre")
    before = len(_events(cli_env))
    monkeypatch.setenv("SSH_CONNECTION", SSH)
    monkeypatch.setenv("USER", "quelquun-dautre")
    code, _, err = run_cli(args)
    assert code == 0, err
    [event] = _events(cli_env)[before:]
    assert event.action == action
    assert event.actor_label == f"ligne de commande ({UNIX_USER}@{socket.gethostname()})"
    assert event.source_address == "203.0.113.7"


def test_an_owner_flow_run_from_the_command_line_is_audited(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        child = factories.pupil(session, school, first_name="Noé", last_name="Lefèvre")
        guardian = factories.guardian(session, [child], first_name="Anne", last_name="Lefèvre")
        session.flush()
        login = guardian.login
    before = len(_events(cli_env))
    monkeypatch.setenv("SSH_CONNECTION", SSH)
    args = ["activate", "franceconnect", "--login", login, "--last-name", "LEFEVRE"]
    code, _, err = run_cli([*args, "--first-name", "anne"])
    assert code == 0, err
    [event] = _events(cli_env)[before:]
    assert (event.action, event.source_address) == ("owner_flow", "203.0.113.7")
    assert event.details == {"flow": "franceconnect", "login": login, "outcome": "réussi"}


def test_a_refused_owner_flow_is_audited_with_its_outcome_and_never_the_passwords(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """« printf 'abc\\ndef\\n' | activate pupil … »: refused, and in the trail all the same."""
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        login = factories.pupil(session, school, first_name="Noé", last_name="Lefèvre").login
    monkeypatch.setenv("SSH_CONNECTION", SSH)
    attempts = [
        (login, login, "identifiants incorrects ou expirés"),
        # A login nobody has may be a password typed in the wrong field: its shape only.
        (
            "MotDePasse!2026",
            "inconnu (15 caractères\u00a0: minuscules, majuscules, chiffres, autres)",
            "identifiants incorrects ou expirés",
        ),
    ]
    for typed, recorded, reason in attempts:
        before = len(_events(cli_env))
        monkeypatch.setattr("sys.stdin", io.StringIO("abc\ndef\n"))
        args = ["activate", "pupil", "--login", typed, "--birth-date", "31/03/2011"]
        code, _, err = run_cli([*args, "--password-stdin"])
        assert code == 2 and "incorrect" in err
        [event] = _events(cli_env)[before:]
        assert (event.action, event.source_address) == ("owner_flow", "203.0.113.7")
        assert event.details == {
            "flow": "pupil",
            "login": recorded,
            "outcome": "refusé",
            "reason": reason,
        }
        assert "abc" not in str(event.details) and "def" not in str(event.details)
        assert typed == login or typed not in f"{event.details} {event.actor_label}"


def test_a_schema_upgrade_is_audited_only_when_it_changes_something(
    cli_env: Services, run_cli: RunCli
) -> None:
    before = len(_events(cli_env))
    code, _out, err = run_cli(["db", "upgrade"])
    assert code == 0, err
    assert len(_events(cli_env)) == before


def test_an_output_named_csv_is_written_as_csv(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    target = tmp_path / "journal.csv"
    code, _out, _err = run_cli(["audit", "list", "--output", str(target)])
    assert code == 0
    header = target.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.count(";") >= 3 and "│" not in header and "---" not in header


def test_the_owner_migrates_the_schema_without_a_key_and_the_service_audits_it(
    cli_env: Services, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from educonnect_tui.domain.store import audit, db

    # The schema's owner (PostgreSQL) holds no key file: it never makes one.
    owner_key = tmp_path / "owner" / "educonnect.key"
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(owner_key))
    code, out, err = run_cli(["db", "upgrade", "--schema-only"])
    assert code == 0, err
    assert f"révision {db.HEAD_REVISION}" in out and "en tant que service" in out
    assert not owner_key.parent.exists()

    # A migration the owner made since the trail last recorded one (here: 0011 -> head).
    with cli_env.sessions() as session, session.begin():
        audit.record(
            session, Actor.command_line(), "db_upgrade", now=cli_env.clock(), details={"to": "0011"}
        )
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(cli_env.settings.key_path))
    before = len(_events(cli_env))
    code, _out, err = run_cli(["db", "upgrade"])
    assert code == 0, err
    events = _events(cli_env)
    assert len(events) == before + 1
    assert events[-1].action == "db_upgrade"
    assert events[-1].details == {"from": "0011", "to": db.HEAD_REVISION}
    code, _out, err = run_cli(["db", "upgrade"])
    assert code == 0 and len(_events(cli_env)) == before + 1
