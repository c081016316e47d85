"""``educonnect-tui serve``: what it refuses, as one French line and exit 2, before listening."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from educonnect_tui.domain.store.settings import KEY_FILE_NAME
from tests.helpers import RunCli


@pytest.fixture
def serve_env(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(tmp_path / KEY_FILE_NAME))
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    monkeypatch.setenv("EDUCONNECT_LOG_FILE", str(tmp_path / "log"))
    monkeypatch.delenv("EDUCONNECT_TRUSTED_PROXIES", raising=False)
    return sqlite_url


def _one_french_line(code: int, out: str, err: str) -> str:
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("educonnect-tui\u00a0: erreur\u00a0: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--port", "0"], "n'est pas un port"),
        (["--port", "70000"], "n'est pas un port"),
        (["--port", "http"], "n'est pas un nombre entier"),
        (["--public-url", "educonnect.example.fr"], "sans chemin"),
        (["--public-url", "ftp://educonnect.example.fr"], "sans chemin"),
        (["--public-url", "https://educonnect.example.fr/comptes"], "sans chemin"),
        (["--public-url", "https://educonnect.example.fr:https"], "sans chemin"),
        (["--public-url", "https://user:pw@educonnect.example.fr"], "sans chemin"),
        (["--max-sessions", "0"], "n'est pas un entier positif"),
        (["--listen", "0.0.0.0"], "arguments non reconnus"),
    ],
)
def test_bad_arguments(serve_env: str, run_cli: RunCli, arguments: list[str], said: str) -> None:
    assert said in _one_french_line(*run_cli(["serve", *arguments]))


def test_a_busy_port_is_said_before_anyone_connects(serve_env: str, run_cli: RunCli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = _one_french_line(*run_cli(["serve", "--port", str(port)]))
    assert f"le port {port} est déjà utilisé" in line


def test_an_unknown_or_foreign_address(serve_env: str, run_cli: RunCli) -> None:
    line = _one_french_line(*run_cli(["serve", "--host", "nowhere.invalid"]))
    assert "adresse d'écoute « nowhere.invalid » inconnue" in line
    line = _one_french_line(*run_cli(["serve", "--host", "192.0.2.1"]))
    assert "n'est pas celle de cette machine" in line


def test_a_missing_database_is_said_before_listening(
    serve_env: str, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", f"sqlite:///{tmp_path / 'absente.db'}")
    assert "introuvable" in _one_french_line(*run_cli(["serve"]))


def test_a_bad_trusted_proxies_setting(
    serve_env: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_TRUSTED_PROXIES", "le proxy")
    line = _one_french_line(*run_cli(["serve"]))
    assert "EDUCONNECT_TRUSTED_PROXIES invalide\u00a0: « le proxy » n'est pas un réseau" in line


def test_a_network_with_braces_is_quoted_as_typed(
    serve_env: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_TRUSTED_PROXIES", "127.0.0.1/32,{x}")
    line = _one_french_line(*run_cli(["serve"]))
    assert "« {x} » n'est pas un réseau" in line
