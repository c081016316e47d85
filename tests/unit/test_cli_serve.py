"""``educonnect-tui serve``: what it refuses, as one French line and exit 2, before listening."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from educonnect_tui import web
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


def _config(monkeypatch: pytest.MonkeyPatch, folder: Path, text: str) -> None:
    """Access settings come from the settings file only, never the environment."""
    config = folder / "config.toml"
    config.write_text(text + "\n", encoding="utf-8")
    monkeypatch.setenv("EDUCONNECT_CONFIG", str(config))


def test_a_bad_trusted_proxies_setting(
    serve_env: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _config(monkeypatch, tmp_path, 'trusted_proxies = "le proxy"')
    line = _one_french_line(*run_cli(["serve"]))
    assert "EDUCONNECT_TRUSTED_PROXIES invalide\u00a0: « le proxy » n'est pas un réseau" in line


def test_a_network_with_braces_is_quoted_as_typed(
    serve_env: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _config(monkeypatch, tmp_path, 'trusted_proxies = "127.0.0.1/32,{x}"')
    line = _one_french_line(*run_cli(["serve"]))
    assert "« {x} » n'est pas un réseau" in line


# -- the Unix socket --------------------------------------------------------------------------

PUBLIC = ["--public-url", "https://educonnect.example.fr"]


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--socket", "web.sock", *PUBLIC], "chemin absolu attendu"),
        (["--socket", "/run/educonnect/", *PUBLIC], "chemin absolu attendu"),
        (["--socket", "/run/" + "x" * 120, *PUBLIC], "trop long pour une socket"),
        (["--socket", "/run/educonnect/web.sock"], "--socket demande --public-url"),
        (["--socket", "/run/e/web.sock", "--port", "8001", *PUBLIC], "remplace --host et --port"),
        (["--socket", "/run/e/web.sock", "--host", "::1", *PUBLIC], "remplace --host et --port"),
        (["--socket-group", "root"], "--socket-group ne va qu'avec --socket"),
        (
            ["--socket", "/run/e/web.sock", "--socket-group", "pas-un-groupe", *PUBLIC],
            "« pas-un-groupe » n'est pas un groupe de cette machine",
        ),
        (
            ["--socket", "/run/e/web.sock", "--socket-group", "4000000000", *PUBLIC],
            "n'est pas un groupe de cette machine",
        ),
    ],
)
def test_bad_socket_arguments(
    serve_env: str, run_cli: RunCli, arguments: list[str], said: str
) -> None:
    assert said in _one_french_line(*run_cli(["serve", *arguments]))


def _serve_on(run_cli: RunCli, path: Path) -> str:
    return _one_french_line(*run_cli(["serve", "--socket", str(path), *PUBLIC]))


def test_a_file_in_the_way_is_never_removed(
    serve_env: str, run_cli: RunCli, tmp_path: Path
) -> None:
    kept = tmp_path / "web.sock"
    kept.write_text("à garder")
    assert "existe et n'est pas une socket\u00a0: rien n'a été supprimé" in _serve_on(run_cli, kept)
    assert kept.read_text() == "à garder"
    folder = tmp_path / "dossier.sock"
    folder.mkdir()
    assert "n'est pas une socket" in _serve_on(run_cli, folder)
    assert folder.is_dir()
    # A link is not followed, nor removed, even to a socket nothing listens on.
    stale = tmp_path / "ancienne.sock"
    with socket.socket(socket.AF_UNIX) as left:
        left.bind(str(stale))
    link = tmp_path / "lien.sock"
    link.symlink_to(stale)
    assert "n'est pas une socket" in _serve_on(run_cli, link)
    assert link.is_symlink() and stale.exists()


def test_a_socket_someone_listens_on_is_left_alone(
    serve_env: str, run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "web.sock"
    with socket.socket(socket.AF_UNIX) as other:
        other.bind(str(path))
        other.listen(1)
        assert "un serveur écoute déjà sur la socket" in _serve_on(run_cli, path)
        with socket.socket(socket.AF_UNIX) as still:
            still.connect(str(path))  # the other server's socket is still there


def test_a_folder_others_may_change_is_refused(
    serve_env: str, run_cli: RunCli, tmp_path: Path
) -> None:
    missing = tmp_path / "absent" / "web.sock"
    assert f"le dossier {missing.parent} n'existe pas" in _serve_on(run_cli, missing)
    shared = tmp_path / "partagé"
    shared.mkdir()
    shared.chmod(0o777)
    line = _serve_on(run_cli, shared / "web.sock")
    assert "est modifiable par d'autres comptes" in line
    assert list(shared.iterdir()) == []


def test_the_socket_is_0660_of_its_group_before_anyone_can_connect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created 0600 whatever the umask, given its group, then 0660, and only then does
    it accept: never wider, never of another group, while it listens."""
    path = tmp_path / "web.sock"
    group = grp.getgrnam("www-data").gr_gid if os.geteuid() == 0 else os.getegid()
    seen: list[tuple[int, str]] = []
    real_chown = os.chown

    def chown(target: Any, uid: int, gid: int, **kwargs: Any) -> None:
        with socket.socket(socket.AF_UNIX) as probe:
            outcome = "refusée" if probe.connect_ex(str(target)) != 0 else "acceptée"
        seen.append((os.lstat(target).st_mode & 0o777, outcome))
        real_chown(target, uid, gid, **kwargs)

    monkeypatch.setattr(web.os, "chown", chown)
    previous = os.umask(0)
    try:
        sock = web.bind_unix(path, group)
    finally:
        os.umask(previous)
    with sock:
        assert seen == [(0o600, "refusée")]
        found = os.lstat(path)
        assert stat.S_ISSOCK(found.st_mode) and found.st_mode & 0o777 == 0o660
        assert found.st_gid == group
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(path))


def test_a_stale_socket_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "web.sock"
    with socket.socket(socket.AF_UNIX) as killed:  # serve killed -9 leaves its file
        killed.bind(str(path))
    path.chmod(0o666)
    with web.bind_unix(path):
        assert os.lstat(path).st_mode & 0o777 == 0o660
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(path))


ROOT = os.geteuid() == 0


@contextlib.contextmanager
def _open_folder() -> Iterator[Path]:
    """A folder others may traverse (``tmp_path`` is root's alone), the service's only."""
    folder = Path(tempfile.mkdtemp(prefix="educonnect-sock-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _connects_as_nobody(path: Path, *, extra_groups: list[int] | None = None) -> str:
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except PermissionError:\n"
        "    print('refusé')\n"
        "else:\n"
        "    print('connecté')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        user="nobody",
        group="nogroup",
        extra_groups=extra_groups or [],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not ROOT, reason="changer de compte demande root")
def test_only_the_sockets_group_can_connect() -> None:
    www_data = grp.getgrnam("www-data").gr_gid
    with _open_folder() as folder, web.bind_unix(folder / "web.sock", www_data):
        assert _connects_as_nobody(folder / "web.sock") == "refusé"
        assert _connects_as_nobody(folder / "web.sock", extra_groups=[www_data]) == "connecté"


@pytest.mark.skipif(not ROOT, reason="changer de compte demande root")
def test_a_group_the_service_is_not_in_is_said_and_leaves_nothing(serve_env: str) -> None:
    """The service's account may give its socket only to a group it belongs to."""
    nobody = pwd.getpwnam("nobody").pw_uid
    with _open_folder() as folder:
        # The service's files, its account's (the test's own folder is root's alone).
        database = folder / "educonnect.db"
        shutil.copy(serve_env.removeprefix("sqlite:///"), database)
        for path in (folder, database):
            os.chown(path, nobody, -1)
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("EDUCONNECT_")},
            "EDUCONNECT_CONFIG": "/nonexistent/config.toml",
            "EDUCONNECT_DATABASE_URL": f"sqlite:///{database}",
            "EDUCONNECT_KEY_FILE": str(folder / KEY_FILE_NAME),
            "EDUCONNECT_LOG_FILE": str(folder / "educonnect.log"),
        }
        command = ["serve", "--socket", str(folder / "w.sock"), "--socket-group", "www-data"]
        done = subprocess.run(
            [sys.executable, "-m", "educonnect_tui", *command, *PUBLIC],
            env=environment,
            user="nobody",
            group="nogroup",
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=60,
        )
        line = _one_french_line(done.returncode, done.stdout, done.stderr)
        assert "ne peut pas être donnée au groupe « www-data »" in line
        assert "SupplementaryGroups=www-data" in line
        assert not (folder / "w.sock").exists()
