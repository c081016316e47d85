"""``educonnect-tui doctor``: one « ✓ » or « ✗ » line per check, with what to do; exit 0
when all is well, 1 when something is wrong, 2 for bad usage; it never creates anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from educonnect_tui.domain.store import db
from educonnect_tui.domain.store.services import Services
from tests.conftest import MAIL_FROM
from tests.helpers import RunCli
from tests.mail_server import Inbox, free_port

UAI = "0750655E"


@pytest.fixture
def installed(cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> Services:
    """A first installation: a school and its principal, the key file, a 0700 output folder."""
    out = cli_env.settings.output_dir
    out.chmod(0o700)
    monkeypatch.setenv("EDUCONNECT_OUTPUT_DIR", str(out))
    code, _, err = run_cli(["init", "--uai", UAI, "--name", "Collège Test", "--type", "college",
                            "--first-name", "Anne", "--last-name", "Martin"])  # fmt: skip
    assert code == 0, err
    return cli_env


def _doctor(run_cli: RunCli, *args: str) -> tuple[int, list[str]]:
    code, out, err = run_cli(["doctor", *args])
    assert err == ""
    return code, out.splitlines()


def _line(lines: list[str], start: str) -> str:
    found = [line for line in lines if line[2:].startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def test_a_sound_installation_is_all_ticks(installed: Services, run_cli: RunCli) -> None:
    code, lines = _doctor(run_cli)
    assert code == 0, lines
    assert lines[-1] == "Tout est en ordre."
    assert all(line.startswith("✓ ") for line in lines[:-1]), lines
    assert _line(lines, "Base de données joignable").startswith("✓")
    assert "à jour (révision " + db.HEAD_REVISION in _line(lines, "Schéma de la base")
    assert "le dernier signé vérifié" in _line(lines, "Journal d'audit et fichier de clés")
    assert "non configuré" in _line(lines, "Courriel (SMTP)")


def test_open_modes_are_found_with_the_command_that_fixes_them(
    installed: Services, run_cli: RunCli
) -> None:
    key = installed.settings.key_path
    out = installed.settings.output_dir
    key.chmod(0o644)
    out.chmod(0o755)
    code, lines = _doctor(run_cli)
    assert code == 1
    assert _line(lines, "Fichier de clés du journal") == (
        f"✗ Fichier de clés du journal\u00a0: {key} en droits 0644, lisible par d'autres "
        f"→ chmod 600 {key}"
    )
    assert _line(lines, "Dossier des documents").endswith(f"→ chmod 700 {out}")
    assert lines[-1] == "2 problèmes trouvés."


def test_a_key_file_that_is_not_the_trails_is_found(
    installed: Services, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "autre.key"
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(other))
    code, lines = _doctor(run_cli)
    assert code == 1
    assert _line(lines, "Fichier de clés du journal") == (
        f"✗ Fichier de clés du journal\u00a0: {other} absent"
    )
    assert not other.exists()  # doctor creates nothing
    # A key file of its own (another database's): the trail's keys are not in it.
    ring = json.loads(installed.settings.key_path.read_text())
    ring["keys"][0]["id"] = "autre"
    ring["current"] = "autre"
    other.write_text(json.dumps(ring))
    other.chmod(0o600)
    code, lines = _doctor(run_cli)
    assert code == 1
    line = _line(lines, "Journal d'audit et fichier de clés")
    assert line.startswith("✗") and "absente(s) du fichier" in line, line


def test_a_missing_database_is_reported_not_created(
    cli_env: Services, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nulle-part" / "educonnect.db"
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", f"sqlite:///{missing}")
    code, lines = _doctor(run_cli)
    assert code == 1
    assert _line(lines, "Base de données joignable").endswith(
        "introuvable → educonnect-tui db upgrade (ou init) pour la créer"
    )
    assert not missing.parent.exists()


def test_a_server_that_does_not_answer_is_one_french_line(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "EDUCONNECT_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/absente"
    )
    code, lines = _doctor(run_cli)
    assert code == 1
    line = _line(lines, "Base de données joignable")
    assert line.startswith("✗") and "Base de données inaccessible" in line, line


def test_a_schema_behind_says_to_upgrade(
    empty_database: str, cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(empty_database)
    db.upgrade(engine, "0011")
    engine.dispose()
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", empty_database)
    code, lines = _doctor(run_cli)
    assert code == 1
    assert _line(lines, "Schéma de la base").endswith(
        f"révision 0011, attendue {db.HEAD_REVISION} → educonnect-tui db upgrade"
    )


def test_smtp_settings_and_the_relay(
    installed: Services, run_cli: RunCli, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{smtp_inbox.port}")
    code, lines = _doctor(run_cli)
    assert code == 1
    assert "réglez EDUCONNECT_MAIL_FROM" in _line(lines, "Courriel (SMTP)")
    monkeypatch.setenv("EDUCONNECT_MAIL_FROM", MAIL_FROM)
    code, lines = _doctor(run_cli)
    assert code == 0 and "non contacté" in _line(lines, "Courriel (SMTP)")
    code, lines = _doctor(run_cli, "--smtp")
    assert code == 0 and "joignable (connexion réussie)" in _line(lines, "Courriel (SMTP)")
    assert smtp_inbox.received == []  # nothing sent
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    code, lines = _doctor(run_cli, "--smtp")
    assert code == 1
    line = _line(lines, "Courriel (SMTP)")
    assert line.startswith("✗") and "injoignable" in line, line


def test_bad_settings_are_a_problem_found_bad_usage_exit_2(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_SMTP_URL", "smtp://ce:Secr3t-Pw@relais:25")
    code, out, err = run_cli(["doctor"])
    assert code == 1 and err == ""
    assert out.startswith("✗ Réglages\u00a0: réglage EDUCONNECT_SMTP_URL invalide")
    assert "Secr3t" not in out
    code, _, err = run_cli(["doctor", "--nimporte"])
    assert code == 2 and err.count("\n") == 1 and "--nimporte" in err
