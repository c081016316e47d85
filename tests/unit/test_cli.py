"""The command line: French one-line errors with exit code 2, and each command's output."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from educonnect_tui.domain.model.enums import AccountState
from educonnect_tui.domain.model.tables import Account, OutboxMessage, Pupil, Staff
from educonnect_tui.domain.store import db
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI


def _one_line_french_error(code: int, err: str, fragment: str) -> None:
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("educonnect-tui\u00a0: erreur\u00a0: ")
    assert fragment in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["stats", "--uai", "0750655A"], "lettre de contrôle devrait être E"),
        (["stats", "--uai", "1234"], "UAI « 1234 » invalide"),
        (["stats", "--uai", "0750656F"], "Aucun établissement"),
        (["stats"], "arguments obligatoires manquants"),
        (["stats", "--uai", UAI, "--format", "xml"], "choix"),
        (["nimporte"], "choix"),
        (["notify", "--uai", UAI, "--kind", "profs", "--pdf", "x.pdf"], "pupils ou guardians"),
        (
            ["notify", "--uai", UAI, "--kind", "pupils", "--state", "bleu", "--pdf", "x.pdf"],
            "État « bleu » inconnu",
        ),
        (
            ["activate", "pupil", "--login", "a", "--birth-date", "2012-01-01", "--password-stdin"],
            "JJ/MM/AAAA",
        ),
        (["import", "pupils", "/nonexistent.csv", "--uai", UAI], "nonexistent"),
    ],
)
def test_bad_input_gives_one_french_line_and_exit_2(
    cli_env: Services, run_cli: RunCli, args: list[str], fragment: str
) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    code, _, err = run_cli(args)
    _one_line_french_error(code, err, fragment)


def test_bad_setting_is_reported_in_french(
    monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('admin_networks = "10.0.0.0/33"\n', encoding="utf-8")
    monkeypatch.setenv("EDUCONNECT_CONFIG", str(config))
    code, _, err = run_cli(["stats", "--uai", UAI])
    _one_line_french_error(code, err, "EDUCONNECT_ADMIN_NETWORKS")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EDUCONNECT_ADMIN_NETWORKS", "0.0.0.0/0"),
        ("EDUCONNECT_LOCAL_CONSOLE_IS_ADMIN_NETWORK", "true"),
        ("EDUCONNECT_TRUSTED_PROXIES", "unix"),
    ],
)
def test_access_settings_are_refused_from_the_environment(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    """Whoever starts the program chooses its environment: a shell would grant itself the
    administrative network (no OTP code) by setting one of these."""
    monkeypatch.setenv(name, value)
    code, _, err = run_cli(["stats", "--uai", UAI])
    _one_line_french_error(code, err, f"{name} invalide\u00a0: ce réglage décide qui se passe")
    assert "jamais par l'environnement" in err


def test_uninitialised_database_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code, _, err = run_cli(["stats", "--uai", UAI])
    _one_line_french_error(code, err, "db upgrade")


def test_db_upgrade_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    for _ in range(2):
        code, out, _ = run_cli(["db", "upgrade"])
        assert code == 0 and f"révision {db.HEAD_REVISION}" in out


def test_notify_then_stats(cli_env: Services, run_cli: RunCli, tmp_path: Path) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        for i in range(3):
            factories.pupil(session, school, first_name=f"Inès{i}", division="3E1")
        factories.pupil(session, school, division="6E1")
    pdf, csv_path = tmp_path / "f.pdf", tmp_path / "f.csv"
    code, out, err = run_cli(
        [
            "notify",
            "--uai",
            UAI.lower(),
            "--kind",
            "pupils",
            "--class",
            "3e1",
            "--state",
            "rouge",
            "--pdf",
            str(pdf),
            "--csv",
            str(csv_path),
        ],
    )
    assert code == 0, err
    assert "3 comptes élèves notifiés." in out and str(pdf) in out
    assert pdf.exists() and csv_path.exists()
    with cli_env.sessions() as session:
        states = list(session.scalars(select(Account.state).order_by(Account.id)))
    assert states.count(AccountState.NOTIFIED) == 3

    code, out, _ = run_cli(["stats", "--uai", UAI, "--format", "json"])
    data = json.loads(out)
    assert data["pupils"]["by_state"] == {
        "non_notifie": 1,
        "notifie": 3,
        "active": 0,
        "desactive": 0,
    }
    assert [c["division"] for c in data["classes"]] == ["6E1", "3E1"]
    code, out, _ = run_cli(["stats", "--uai", UAI, "--format", "csv"])
    assert out.splitlines()[0] == "Public;Indicateur;Nombre;Part"
    assert "Élèves;notifié, non activé;3;75,0 %" in out
    code, out, _ = run_cli(["stats", "--uai", UAI])
    assert code == 0 and "notifié, non activé" in out and "3E1" in out


def test_staff_add_prints_totp_uri(cli_env: Services, run_cli: RunCli) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    code, out, _ = run_cli(
        [
            "staff",
            "add",
            "--first-name",
            "Hélène",
            "--last-name",
            "Martin",
            "--role",
            "direction",
            "--uai",
            UAI,
            "--title",
            "Principale",
        ],
    )
    assert code == 0
    assert "Identifiant\u00a0: h.martin" in out
    assert "otpauth://totp/EduConnect%20TUI:h.martin?secret=" in out
    code, _, err = run_cli(
        [
            "staff",
            "add",
            "--first-name",
            "H",
            "--last-name",
            "M",
            "--role",
            "agent",
            "--uai",
            UAI,
            "--login",
            "h.martin",
        ],
    )
    _one_line_french_error(code, err, "déjà utilisé")


def test_no_traceback_from_a_real_process(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "educonnect_tui", "stats", "--uai", "0750655Z"],
        capture_output=True,
        text=True,
        env={"EDUCONNECT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": ""},
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr


def test_activation_flows_from_the_command_line(
    cli_env: Services, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import datetime as dt

    from educonnect_tui.domain.accounts.outbox_codes import latest_code

    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        child = factories.pupil(
            session,
            school,
            first_name="Noé",
            last_name="Lefèvre",
            birth_date=dt.date(2012, 5, 14),
            division="4E1",
        )
        factories.guardian(session, [child], first_name="Anne", last_name="Lefèvre")
    credentials = {}
    for kind in ("pupils", "guardians"):
        path = tmp_path / f"{kind}.csv"
        code, _, err = run_cli(
            [
                "notify",
                "--uai",
                UAI,
                "--kind",
                kind,
                "--pdf",
                str(path.with_suffix(".pdf")),
                "--csv",
                str(path),
            ],
        )
        assert code == 0, err
        [row] = csv.DictReader(path.open(encoding="utf-8-sig"), delimiter=";")
        credentials[kind] = (row["Identifiant"], row["Mot de passe provisoire"])

    login, temp = credentials["pupils"]
    pupil = ["activate", "pupil", "--login", login, "--password-stdin"]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{temp}\nSoleil2026\n"))
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.7 50000 10.0.0.1 22")
    code, _, err = run_cli([*pupil, "--birth-date", "13/05/2012"])
    _one_line_french_error(code, err, "incorrect")
    # The failure counts at the SSH client's address, as a portal attempt from there would.
    assert factories.pair_failures(cli_env, "owner", login, "192.0.2.7") == 1
    monkeypatch.delenv("SSH_CONNECTION")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{temp}\nSoleil2026\n"))
    code, out, _ = run_cli([*pupil, "--birth-date", "14/05/2012"])
    assert code == 0 and f"Compte {login} activé." in out

    login, temp = credentials["guardians"]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{temp}\nMaison2026\n"))
    code, out, _ = run_cli(
        ["activate", "guardian", "--login", login, "--email", "anne@exemple.fr", "--password-stdin"]
    )
    assert code == 0 and "anne@exemple.fr" in out
    code_sent = latest_code(cli_env, "anne@exemple.fr")
    assert code_sent is not None
    code, out, _ = run_cli(["activate", "confirm", "--login", login, "--code", code_sent])
    assert code == 0 and "identifiants provisoires" in out
    with cli_env.sessions() as session:
        states = set(session.scalars(select(Account.state)))
    assert states == {AccountState.ACTIVATED}


# -- nothing a terminal would obey -------------------------------------------------------

HOSTILE_LAST = "DUPONT\x1b]52;c;cHduZWQ=\x07\x1b]0;titre\x07\x1b[2J"
HOSTILE_FIRST = "\u202eenneJ\u200b\x9b31m\x7f"


def _nothing_obeyed(text: str) -> None:
    import unicodedata

    bad = [c for c in text if c != "\n" and unicodedata.category(c) in {"Cc", "Cf"}]
    assert bad == [], ascii(text)


def _hostile_school(services: Services) -> None:
    """Names stored before the import refused such characters, as they are in old databases."""
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        child = factories.pupil(
            session,
            school,
            last_name=HOSTILE_LAST,
            first_name=HOSTILE_FIRST,
            division="6E\x1b[2J",
        )
        factories.guardian(session, [child], last_name=HOSTILE_LAST, civility="M\x1b[5m")


def test_search_never_prints_a_control_character(cli_env: Services, run_cli: RunCli) -> None:
    _hostile_school(cli_env)
    code, out, err = run_cli(["search", "dupont"])
    assert code == 0, err
    _nothing_obeyed(out)
    assert "␛]52;c;cHduZWQ=␇" in out and "\\u202eenneJ\\u200b" in out
    code, out, _ = run_cli(["search", "dupont", "--format", "json"])
    assert code == 0
    _nothing_obeyed(out)
    found = json.loads(out)["resultats"]
    assert {row["nom"] for row in found} == {HOSTILE_LAST}  # programs get the data as it is
    assert {row["prenom"] for row in found} >= {HOSTILE_FIRST}


def test_stats_and_audit_never_print_a_control_character(
    cli_env: Services, run_cli: RunCli
) -> None:
    _hostile_school(cli_env)
    for args in (
        ["stats", "--uai", UAI],
        ["stats", "--uai", UAI, "--format", "csv"],
        ["stats", "--uai", UAI, "--format", "json"],
        ["audit", "list"],
        ["audit", "list", "--format", "csv"],
    ):
        code, out, err = run_cli(args)
        assert code == 0, err
        _nothing_obeyed(out)


def test_an_error_quoting_a_cell_or_an_argument_is_escaped(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    bad = tmp_path / "eleves.csv"
    bad.write_text('INE;"Nom\x1b]0;titre\x07";Prénom\n0700001501B;A;B\n', encoding="utf-8")
    code, _, err = run_cli(["import", "pupils", str(bad), "--uai", UAI])
    _one_line_french_error(code, err, "Colonnes trouvées")
    _nothing_obeyed(err)
    code, _, err = run_cli(["stats", "--uai", "\x1b]52;c;eA==\x07"])
    _one_line_french_error(code, err, "UAI")
    _nothing_obeyed(err)


def test_import_report_quotes_stored_names_escaped(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _hostile_school(cli_env)
    with cli_env.sessions() as session:
        ine = session.scalars(select(Pupil.ine)).one()
    file = tmp_path / "eleves.csv"
    file.write_text(
        "INE;Nom de famille;Prénom;Date de naissance;Division\n"
        f"{ine};DUPONT;Jeanne;14/05/2012;6E1\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(["import", "pupils", str(file), "--uai", UAI])
    assert code == 0, err
    assert "Mises à jour" in out
    _nothing_obeyed(out)


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--last-name", "Martin\x1b]0;titre\x07", "U+001B"),
        ("--first-name", "H\u202eélène", "U+202E"),
        ("--last-name", "Martin2", "U+0032"),
        ("--title", "Principale\x1b[2J", "U+001B"),
    ],
)
def test_staff_names_follow_the_name_rule(
    cli_env: Services, run_cli: RunCli, option: str, value: str, fragment: str
) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    args = {"--first-name": "Hélène", "--last-name": "Martin", "--title": "Principale"}
    args[option] = value
    given = [x for pair in args.items() for x in pair]
    code, _, err = run_cli(["staff", "add", *given, "--role", "direction", "--uai", UAI])
    _one_line_french_error(code, err, fragment)
    _nothing_obeyed(err)
    with cli_env.sessions() as session:
        assert session.scalars(select(Staff)).all() == []


@pytest.mark.parametrize("option", ["--password", "--new-password"])
def test_a_password_in_the_arguments_is_refused(
    cli_env: Services, run_cli: RunCli, option: str
) -> None:
    """Any local user reads a process's arguments: the command says how to give it instead."""
    with cli_env.sessions() as session, session.begin():
        factories.school(session)
    args = ["activate", "pupil", "--login", "a", "--birth-date", "14/05/2012", option, "x"]
    code, _, err = run_cli(args)
    _one_line_french_error(code, err, "refusé en argument")
    assert "--password-stdin" in err


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        ("seulement-une-ligne\n", "attend deux lignes"),
        ("", "attend deux lignes"),
    ],
)
def test_password_stdin_needs_two_lines(
    cli_env: Services,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    stdin: str,
    fragment: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = ["activate", "guardian", "--login", "a", "--email", "a@b.fr", "--password-stdin"]
    code, _, err = run_cli(args)
    _one_line_french_error(code, err, fragment)
    assert err.rstrip("\n").endswith(".")  # every refusal reads as a sentence


def test_without_a_terminal_nor_the_option_the_passwords_are_asked_for(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a\nb\n"))
    code, _, err = run_cli(["activate", "pupil", "--login", "a", "--birth-date", "14/05/2012"])
    _one_line_french_error(code, err, "--password-stdin")


def test_a_terminal_prompts_without_echo(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = iter(["provisoire", "Soleil2026", "Soleil2027"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    code, _, err = run_cli(["activate", "pupil", "--login", "a", "--birth-date", "14/05/2012"])
    _one_line_french_error(code, err, "diffèrent")
    assert prompts == [
        "Mot de passe provisoire\u00a0: ",
        "Nouveau mot de passe\u00a0: ",
        "Nouveau mot de passe (encore)\u00a0: ",
    ]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_command_exits_with_128_plus_the_signal(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, signum: int
) -> None:
    """As a shell reports it: 130 for Ctrl-C, 143 for a ``kill``, 129 for a hang-up."""
    from educonnect_tui.cli import accounts

    def stopped(_args: object) -> int:
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler runs before this ends
        return 0

    monkeypatch.setattr(accounts, "cmd_stats", stopped)
    code, _, err = run_cli(["stats", "--uai", factories.DEFAULT_UAI])
    assert code == 128 + signum
    assert err.strip().startswith("Interrompu") and "Traceback" not in err


def test_search_words_need_no_quotes(cli_env: Services, run_cli: RunCli) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        factories.pupil(session, school, first_name="Bilal", last_name="Bouzid")
        factories.pupil(session, school, first_name="Nadia", last_name="Bouzid")
    code, out, err = run_cli(["search", "BOUZID", "bilal", "--format", "json"])
    assert code == 0, err
    found = json.loads(out)["resultats"]
    assert [(row["nom"], row["prenom"]) for row in found] == [("Bouzid", "Bilal")]
    assert run_cli(["search", "BOUZID bilal", "--format", "json"])[1] == out


def test_search_finds_arabic_and_chinese_names(cli_env: Services, run_cli: RunCli) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        factories.pupil(session, school, first_name="مُحَمَّد", last_name="بن علي")
        factories.pupil(session, school, first_name="小明", last_name="王")
        factories.pupil(session, school, first_name="Jeanne", last_name="Dupont")
    for query, name in ((["محمد"], "بن علي"), (["王", "明"], "王"), (["إبن"], None)):
        code, out, err = run_cli(["search", *query, "--format", "json"])
        assert code == 0, err
        found = [row["nom"] for row in json.loads(out)["resultats"]]
        assert found == ([name] if name else []), query


def test_an_unknown_audit_action_lists_the_valid_ones(cli_env: Services, run_cli: RunCli) -> None:
    code, _, err = run_cli(["audit", "list", "--action", "foo"])
    _one_line_french_error(code, err, "« foo »")
    assert "notify" in err and "sign_in" in err and "audit_read" in err
    code, _, err = run_cli(["audit", "list", "--action", "connexion"])
    assert code == 0, err


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "--uai", UAI],
        ["search", "dupont"],
        ["audit", "list"],
        ["audit", "verify"],
        ["delegate", "list", "--uai", UAI],
        ["import", "pupils", "/nonexistent.csv", "--uai", UAI],
    ],
)
def test_a_failing_command_creates_no_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli, args: list[str]
) -> None:
    folder = tmp_path / "x"
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", f"sqlite:///{folder / 'new.db'}")
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(tmp_path / "keys" / "key.json"))
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    monkeypatch.setenv("EDUCONNECT_LOG_FILE", str(tmp_path / "log"))
    code, _, err = run_cli(args)
    _one_line_french_error(code, err, "db upgrade")
    assert not folder.exists()
    assert not (tmp_path / "keys").exists()


def _hashes(services: Services) -> list[tuple[str | None, str | None, AccountState]]:
    with services.sessions() as session:
        return [
            (a.temp_password_hash, a.password_hash, a.state)
            for a in session.scalars(select(Account).order_by(Account.id))
        ]


def test_notify_dry_run_says_what_would_happen_and_changes_nothing(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        for i in range(3):
            factories.pupil(session, school, first_name=f"Inès{i}", division="3E1")
    before = _hashes(cli_env)
    code, out, err = run_cli(["notify", "--uai", UAI, "--kind", "pupils", "--dry-run"])
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "Simulation\u00a0: aucun mot de passe n'a été modifié, aucun document écrit, "
        "aucun courriel mis en attente.",
        "3 comptes élèves seraient notifiés\u00a0:",
        "  ✗ non notifié\u00a0: 3",
    ]
    assert _hashes(cli_env) == before and not list(tmp_path.glob("*.pdf"))
    code, _, err = run_cli(["notify", "--uai", UAI, "--kind", "pupils"])
    _one_line_french_error(code, err, "--pdf est obligatoire")


def test_activated_accounts_are_renotified_only_when_counted(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        for i in range(2):
            account = factories.pupil(session, school, first_name=f"Inès{i}", division="3E1")
            account.state = AccountState.ACTIVATED
    before = _hashes(cli_env)
    pdf = tmp_path / "f.pdf"
    args = ["notify", "--uai", UAI, "--kind", "pupils", "--state", "vert", "--pdf", str(pdf)]
    code, out, err = run_cli(args)
    _one_line_french_error(code, err, "2 comptes déjà activés seraient renotifiés")
    assert "--activated 2" in err and _hashes(cli_env) == before and not pdf.exists()
    code, _, err = run_cli([*args, "--activated", "1"])  # not the count: refused too
    assert code == 2 and _hashes(cli_env) == before
    code, out, _ = run_cli([*args, "--activated", "1", "--dry-run"])  # and said so
    assert code == 0 and "--activated 1 ne correspond pas\u00a0: 2 comptes activés" in out
    code, out, err = run_cli([*args, "--activated", "2"])
    assert code == 0 and "2 comptes élèves notifiés." in out, err
    assert _hashes(cli_env) != before


@pytest.mark.parametrize("selected", [False, True])
def test_a_negative_activated_count_is_refused(
    cli_env: Services, run_cli: RunCli, tmp_path: Path, selected: bool
) -> None:
    with cli_env.sessions() as session, session.begin():
        school = factories.school(session)
        factories.pupil(session, school, first_name="Inès", division="3E1")
    before = _hashes(cli_env)
    pdf = tmp_path / "f.pdf"
    args = ["notify", "--uai", UAI, "--kind", "pupils", "--pdf", str(pdf), "--activated", "-3"]
    code, out, err = run_cli([*args, *(["--state", "vert"] if selected else [])])
    _one_line_french_error(code, err, "--activated\u00a0: « -3 » n'est pas un nombre de comptes")
    assert not out and _hashes(cli_env) == before and not pdf.exists()


def _guardians(services: Services, emails: list[str | None], *, activated: bool = False) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for i, email in enumerate(emails):
            child = factories.pupil(session, school, first_name=f"Inès{i}", division="3E1")
            account = factories.guardian(session, [child], first_name=f"Rym{i}", email=email)
            if activated:
                account.state = AccountState.ACTIVATED


def _outbox_count(services: Services) -> int:
    with services.sessions() as session:
        return len(session.scalars(select(OutboxMessage.id)).all())


def test_notify_by_email_needs_no_pdf_and_says_the_messages_wait(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _guardians(cli_env, ["a@example.org", "b@example.org"])
    args = ["notify", "--uai", UAI, "--kind", "guardians", "--channel", "email"]
    code, out, err = run_cli([*args, "--dry-run"])
    assert code == 0, err
    assert "  canal courriel\u00a0: 2 par courriel (en attente d'envoi), 0 sur papier" in out
    assert _outbox_count(cli_env) == 0
    code, out, err = run_cli([*args, "--no-send"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == [
        "2 comptes représentants légaux notifiés.",
        "2 par courriel (en attente d'envoi), 0 sur papier",
    ]
    assert lines[-1] == (
        "2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send)."
    )
    assert _outbox_count(cli_env) == 2 and not list(tmp_path.rglob("*.pdf"))


def test_notify_auto_asks_for_a_pdf_only_when_someone_has_no_address(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _guardians(cli_env, ["a@example.org", None])
    before = _hashes(cli_env)
    args = ["notify", "--uai", UAI, "--kind", "guardians", "--channel", "auto"]
    code, _, err = run_cli(args)
    _one_line_french_error(code, err, "--pdf est obligatoire")
    assert "1 compte sans adresse recevra un document papier" in err
    assert _hashes(cli_env) == before and _outbox_count(cli_env) == 0
    pdf = tmp_path / "lettres.pdf"
    code, out, err = run_cli([*args, "--pdf", str(pdf), "--no-send"])
    assert code == 0, err
    assert "1 par courriel (en attente d'envoi), 1 sur papier" in out
    assert f"Document écrit\u00a0: {pdf}" in out
    assert pdf.exists() and _outbox_count(cli_env) == 1


def test_notify_email_with_csv_but_no_paper_is_refused(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _guardians(cli_env, ["a@example.org"])
    csv_path = tmp_path / "x.csv"
    code, _, err = run_cli(
        [
            "notify",
            "--uai",
            UAI,
            "--kind",
            "guardians",
            "--channel",
            "email",
            "--csv",
            str(csv_path),
        ]
    )
    _one_line_french_error(code, err, "retirez --csv")
    assert _outbox_count(cli_env) == 0 and not csv_path.exists()


def test_notify_unknown_channel_is_one_french_line(cli_env: Services, run_cli: RunCli) -> None:
    code, _, err = run_cli(
        ["notify", "--uai", UAI, "--kind", "guardians", "--channel", "pigeon", "--dry-run"]
    )
    _one_line_french_error(code, err, "paper, email ou auto")


def test_notify_no_reset_changes_no_password_and_needs_no_activated_count(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _guardians(cli_env, ["a@example.org", None], activated=True)
    before = _hashes(cli_env)
    args = ["notify", "--uai", UAI, "--kind", "guardians", "--state", "vert", "--no-reset"]
    code, out, err = run_cli([*args, "--channel", "auto", "--dry-run"])
    assert code == 0, err
    assert "2 comptes représentants légaux recevraient un rappel\u00a0:" in out
    assert "aucun mot de passe ne serait modifié" in out and "--activated" not in out
    pdf = tmp_path / "rappel.pdf"
    code, out, err = run_cli([*args, "--channel", "auto", "--pdf", str(pdf), "--no-send"])
    assert code == 0, err
    assert out.splitlines()[0] == (
        "2 comptes représentants légaux rappelés (rappel sans réinitialisation\u00a0: "
        "aucun mot de passe modifié)."
    )
    assert _hashes(cli_env) == before and pdf.exists() and _outbox_count(cli_env) == 1
    # The same accounts with a reset still need their exact count.
    code, _, err = run_cli(
        ["notify", "--uai", UAI, "--kind", "guardians", "--state", "vert", "--channel", "email"]
    )
    _one_line_french_error(code, err, "--activated 1")


@pytest.mark.parametrize(
    ("files", "said"),
    [(["--pdf"], "--pdf"), (["--csv"], "--csv"), (["--pdf", "--csv"], "--pdf et --csv")],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_notify_by_email_refuses_a_pdf_like_a_csv(
    cli_env: Services,
    run_cli: RunCli,
    tmp_path: Path,
    dry_run: bool,
    files: list[str],
    said: str,
) -> None:
    _guardians(cli_env, ["a@example.org", None])
    before = _hashes(cli_env)
    paths = [(option, tmp_path / f"lettres{option[1:]}") for option in files]
    args = ["notify", "--uai", UAI, "--kind", "guardians", "--channel", "email"]
    given = [text for option, path in paths for text in (option, str(path))]
    code, out, err = run_cli([*args, *given, *(["--dry-run"] if dry_run else [])])
    _one_line_french_error(code, err, f"{said}\u00a0: --channel email ne produit aucun document")
    assert not out and _hashes(cli_env) == before and _outbox_count(cli_env) == 0
    assert not any(path.exists() for _, path in paths)


def test_notify_says_when_the_pdf_asked_for_is_not_needed(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _guardians(cli_env, ["a@example.org"])
    pdf = tmp_path / "lettres.pdf"
    code, out, err = run_cli(
        [
            "notify",
            "--uai",
            UAI,
            "--kind",
            "guardians",
            "--channel",
            "auto",
            "--pdf",
            str(pdf),
            "--no-send",
        ]
    )
    assert code == 0, err
    assert f"Aucun document papier\u00a0: {pdf} n'a pas été écrit." in out.splitlines()
    assert not pdf.exists() and _outbox_count(cli_env) == 1


def test_the_interface_without_a_terminal_says_so_and_stops(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ssh -T`` to the forced command: no drawing into a pipe, no wait for keys."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setattr("sys.__stdin__", io.StringIO(""))
    code, out, err = run_cli([])
    _one_line_french_error(code, err, "pas de terminal")
    assert "ssh -t" in err and out == ""
