"""``educonnect-tui init`` and ``staff list|add|reset-password|reset-otp|unlock|disable|
enable|set-role``: the QR code and what is shown once, one French line on bad input."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from educonnect_tui.cli.terminal import EscapedOutput, print_drawing
from educonnect_tui.domain.documents.qr import qr_rows
from educonnect_tui.domain.model.enums import StaffRole
from educonnect_tui.domain.model.tables import AuditEvent, Delegation, Staff
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI
INIT = [
    "init",
    "--uai",
    UAI,
    "--name",
    "Collège Jean Moulin",
    "--type",
    "college",
    "--first-name",
    "Hélène",
    "--last-name",
    "Martin",
    "--title",
    "principale",
]
QR_ROW = re.compile("[ ▀▄█]{41}")


def _one_line_french_error(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith("educonnect-tui\u00a0: erreur\u00a0: ")
    assert fragment in err, err
    assert "Traceback" not in err


def _value(out: str, label: str) -> str:
    found = re.search(rf"^{label}\u00a0: (.+)$", out, re.MULTILINE)
    assert found, out
    return found.group(1)


def _staff(services: Services, login: str) -> Staff:
    with services.sessions() as session:
        found = session.scalar(select(Staff).where(Staff.login == login))
        assert found is not None
        return found


def test_init_creates_the_school_and_its_first_direction_account(
    cli_env: Services, run_cli: RunCli
) -> None:
    code, out, err = run_cli(INIT)
    assert code == 0, err
    rows = [line for line in out.splitlines() if QR_ROW.fullmatch(line)]
    assert len(rows) == 21, out  # 41 modules with the quiet zone, two a row: fits 80×24
    uri = _value(out, "URI de provisionnement")
    assert rows == qr_rows(uri)
    secret = _value(out, "Secret TOTP")
    assert uri == f"otpauth://totp/EduConnect%20TUI:h.martin?secret={secret}"
    assert pyotp.parse_uri(uri).issuer == "EduConnect TUI"
    assert _value(out, "Identifiant") == "h.martin"
    password = _value(out, "Mot de passe provisoire")
    until = re.search(r"valable jusqu'au (\d\d/\d\d/\d{4} à \d\d:\d\d)\.", out)
    assert until, out
    assert "affichés qu'une seule fois" in out
    member = _staff(cli_env, "h.martin")
    assert member.role is StaffRole.DIRECTION and member.password_temporary_until is not None
    assert cli_env.time.date_time(member.password_temporary_until) == until.group(1)
    made = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    assert abs(member.password_temporary_until - made) < dt.timedelta(minutes=5)
    assert password not in member.password_hash and secret not in member.totp_secret
    with cli_env.sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["school_add", "staff_add"]


def test_init_makes_the_database_on_a_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(tmp_path / "keys"))
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    monkeypatch.setenv("EDUCONNECT_LOG_FILE", str(tmp_path / "log"))
    code, out, err = run_cli(INIT)
    assert code == 0, err
    assert "otpauth://totp/" in out
    code, out, _ = run_cli(["staff", "list", "--uai", UAI])
    assert code == 0 and "h.martin" in out and "provisoire" in out


def test_init_refuses_a_database_that_is_not_empty(cli_env: Services, run_cli: RunCli) -> None:
    assert run_cli(INIT)[0] == 0
    code, out, err = run_cli([*INIT[:2], "0941876D", *INIT[3:]])
    _one_line_french_error(code, err, "« init » ne sert qu'à une première installation")
    assert out == ""
    with cli_env.sessions() as session, session.begin():
        assert len(session.scalars(select(Staff)).all()) == 1


def test_init_refuses_a_database_with_a_school(cli_env: Services, run_cli: RunCli) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session, "0941876D", "Lycée")
    code, _, err = run_cli(INIT)
    _one_line_french_error(code, err, "contient déjà un établissement")
    with cli_env.sessions() as session:
        assert session.scalars(select(Staff)).all() == []


def test_staff_verbs(cli_env: Services, run_cli: RunCli) -> None:
    assert run_cli(INIT)[0] == 0
    add = ["staff", "add", "--uai", UAI, "--first-name", "Paul", "--last-name", "Durand"]
    code, out, err = run_cli([*add, "--role", "agent", "--title", "CPE"])
    assert code == 0, err
    assert _value(out, "Identifiant") == "p.durand"
    assert len([line for line in out.splitlines() if QR_ROW.fullmatch(line)]) == 21
    first_password = _value(out, "Mot de passe provisoire")
    assert _staff(cli_env, "p.durand").password_temporary_until is not None

    code, out, _ = run_cli(["staff", "list", "--uai", UAI, "--format", "json"])
    listed = {row["identifiant"]: row for row in json.loads(out)}
    assert listed["p.durand"]["etat"] == "provisoire"
    assert listed["p.durand"]["fonction"] == "CPE"
    code, out, _ = run_cli(["staff", "list", "--uai", UAI, "--search", "helene"])
    assert "h.martin" in out and "p.durand" not in out
    code, out, _ = run_cli(["staff", "list", "--uai", UAI, "--format", "csv"])
    assert out.splitlines()[0].startswith("Identifiant;Nom;Rôle")

    code, out, err = run_cli(["staff", "reset-password", "--uai", UAI, "p.durand"])
    assert code == 0, err
    assert _value(out, "Mot de passe provisoire") != first_password
    assert "otpauth" not in out and "Secret TOTP" not in out

    before = _staff(cli_env, "p.durand").totp_secret
    code, out, err = run_cli(["staff", "reset-otp", "--uai", UAI, "P.Durand"])
    assert code == 0, err
    assert "Mot de passe" not in out and "otpauth://totp/" in out
    assert _staff(cli_env, "p.durand").totp_secret != before

    with cli_env.sessions() as session, session.begin():
        session.get_one(Staff, _staff(cli_env, "p.durand").id).failed_attempts = 3
    code, out, _ = run_cli(["staff", "unlock", "--uai", UAI, "p.durand"])
    assert code == 0 and "blocage levé" in out
    assert _staff(cli_env, "p.durand").failed_attempts == 0

    from educonnect_tui.domain.access import delegations
    from educonnect_tui.domain.model.enums import Module

    delegations.grant(
        cli_env,
        factories.operator(cli_env),
        delegations.GrantRequest(agent_login="p.durand", module=Module.DEPANNAGE),
    )
    code, out, _ = run_cli(["staff", "disable", "--uai", UAI, "p.durand"])
    assert code == 0 and "désactivé" in out
    assert _staff(cli_env, "p.durand").disabled_at is not None
    with cli_env.sessions() as session:
        assert session.scalars(select(Delegation)).one().revoked_at is not None
    code, _, err = run_cli(["staff", "disable", "--uai", UAI, "p.durand"])
    _one_line_french_error(code, err, "déjà désactivé")
    code, out, _ = run_cli(["staff", "enable", "--uai", UAI, "p.durand"])
    assert code == 0 and "réactivé" in out
    assert _staff(cli_env, "p.durand").disabled_at is None

    code, _, err = run_cli(["staff", "set-role", "--uai", UAI, "h.martin", "--role", "agent"])
    _one_line_french_error(code, err, "dernier compte de direction")
    code, out, _ = run_cli(["staff", "set-role", "--uai", UAI, "p.durand", "--role", "direction"])
    assert code == 0 and "Personnel de direction" in out
    code, out, _ = run_cli(["staff", "disable", "--uai", UAI, "h.martin"])
    assert code == 0

    code, _, err = run_cli(["staff", "unlock", "--uai", UAI, "personne"])
    _one_line_french_error(code, err, "Aucun personnel « personne »")
    code, _, err = run_cli(["staff", "set-role", "--uai", UAI, "p.durand", "--role", "chef"])
    _one_line_french_error(code, err, "choix")

    with cli_env.sessions() as session:
        trail = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    actions = [e.action for e in trail]
    for action in (
        "staff_list",
        "staff_password_reset",
        "staff_otp_reset",
        "staff_unlock",
        "staff_disable",
        "staff_enable",
        "staff_role_changed",
    ):
        assert action in actions
    assert all(first_password not in json.dumps(e.details) for e in trail)


def test_the_qr_code_is_drawn_dark_on_light_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    rows = qr_rows("otpauth://totp/EduConnect%20TUI:h.martin?secret=ABCDEFGHIJKLMNOP")
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    with contextlib.redirect_stdout(EscapedOutput(terminal)):  # type: ignore[type-var]
        print_drawing(rows)
    lines = terminal.getvalue().splitlines()
    assert lines == [f"\x1b[30;107m{row}\x1b[0m" for row in rows]

    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    with contextlib.redirect_stdout(EscapedOutput(plain)):  # type: ignore[type-var]
        print_drawing(rows)
    assert plain.getvalue().splitlines() == rows
