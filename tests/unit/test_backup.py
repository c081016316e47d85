"""``backup`` and ``restore`` on both backends: a new 0600 file never replacing one, a
restore into a new database whose trail then verifies, and every refusal."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL
from tests.helpers import RunCli, missing

DATA = Path(__file__).parent.parent / "data"
UAI = "0750655E"


@dataclass
class Place:
    """A database of its own (a SQLite path, or a PostgreSQL database made for the test)."""

    url: str
    backend: str


def _one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert fragment in err, err


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def places(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Place]]:
    """Three new, empty databases of one backend (nothing migrated)."""
    if request.param == "sqlite":
        yield [Place(f"sqlite:///{tmp_path / f'base{i}' / 'educonnect.db'}", "sqlite")
               for i in range(3)]  # fmt: skip
        return
    request.getfixturevalue("postgres_schema")  # skips (or fails) without a server
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            reason = f"{tool} absent (paquet postgresql-client)"
            missing("POSTGRES", reason)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    names = [f"edu_backup_{secrets.token_hex(4)}" for _ in range(3)]
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = make_url(POSTGRES_URL)
    yield [
        Place(base.set(database=name).render_as_string(hide_password=False), "postgresql")
        for name in names
    ]
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command line's settings: one key file, an output folder, no config file."""
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(tmp_path / "educonnect.key"))
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    monkeypatch.setenv("EDUCONNECT_LOG_FILE", str(tmp_path / "educonnect.log"))
    monkeypatch.setenv("EDUCONNECT_OUTPUT_DIR", str(out))
    monkeypatch.setenv("EDUCONNECT_HASH_WORKERS", "2")
    return out


def _use(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", place.url)


def _school_with_pupils(run_cli: RunCli, out: Path) -> None:
    for args in (
        ["init", "--uai", UAI, "--name", "Collège Test", "--type", "college",
         "--first-name", "Anne", "--last-name", "Martin"],
        ["import", "pupils", str(DATA / "eleves_siecle.csv"), "--uai", UAI],
        ["notify", "--uai", UAI, "--kind", "pupils", "--class", "6E1",
         "--pdf", str(out / "eleves.pdf")],
    ):  # fmt: skip
        code, stdout, err = run_cli(args)
        assert code == 0, (args, stdout, err)


def _accounts(run_cli: RunCli) -> list[dict[str, object]]:
    code, out, err = run_cli(["accounts", "--uai", UAI, "--format", "json"])
    assert code == 0, err
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_a_backup_restored_into_a_new_database_verifies(
    places: list[Place], env: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    source, target, other = places
    _use(source, monkeypatch)
    _school_with_pupils(run_cli, env)
    before = _accounts(run_cli)
    backup = tmp_path / "sauvegarde.dump"
    code, out, err = run_cli(["backup", str(backup)])
    assert (code, err) == (0, ""), err
    assert f"Sauvegarde {source.backend} écrite dans {backup}" in out
    assert "n'y est pas" in out  # the key file is not in it, and the output says so
    assert backup.stat().st_mode & 0o777 == 0o600
    # The key file is not in it: neither sub-key of any key, in base64 or raw.
    ring = json.loads((tmp_path / "educonnect.key").read_text())
    content = backup.read_bytes()
    for key in ring["keys"]:
        for part in ("audit", "totp"):
            assert key[part].encode() not in content
            assert base64.b64decode(key[part]) not in content
    # No hidden staged file left beside it.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    code, out, err = run_cli(["audit", "list", "--action", "backup", "--format", "json"])
    assert code == 0 and json.loads(out)[0]["action"] == "backup", out

    # Never over an existing file: the first backup is left as it was.
    content = backup.read_bytes()
    code, _, err = run_cli(["backup", str(backup)])
    _one_line_error(code, err, "existe déjà")
    assert backup.read_bytes() == content

    _use(target, monkeypatch)
    code, out, err = run_cli(["restore", str(backup)])
    assert (code, err) == (0, ""), (out, err)
    assert "chaîne intacte" in out
    code, out, err = run_cli(["audit", "verify"])
    assert (code, err) == (0, ""), err
    assert out.startswith("chaîne intacte") and "déclencheurs en place" in out
    assert _accounts(run_cli) == before
    code, out, _ = run_cli(["audit", "list", "--action", "restore", "--format", "json"])
    assert code == 0 and json.loads(out)[0]["details"], out

    # A database holding data is never restored into: not the restored one, not the source.
    for place in (target, source):
        _use(place, monkeypatch)
        code, _, err = run_cli(["restore", str(backup)])
        _one_line_error(code, err, "la base cible n'est pas vide")
    _use(source, monkeypatch)
    assert _accounts(run_cli) == before

    # Without the key file (kept apart from backups), refused before anything is written.
    _use(other, monkeypatch)
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(tmp_path / "ailleurs" / "educonnect.key"))
    code, _, err = run_cli(["restore", str(backup)])
    _one_line_error(code, err, "il n'est pas dans la sauvegarde")


def test_restore_refuses_what_is_not_a_backup_of_its_backend(
    places: list[Place], env: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _use(places[0], monkeypatch)
    (tmp_path / "educonnect.key").write_text("{}")
    (tmp_path / "educonnect.key").chmod(0o600)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("pas une sauvegarde")
    code, _, err = run_cli(["restore", str(text_file)])
    _one_line_error(code, err, "n'est pas une sauvegarde d'educonnect-tui")
    code, _, err = run_cli(["restore", str(tmp_path / "absente.dump")])
    _one_line_error(code, err, "introuvable")
    wrong = tmp_path / "autre.bin"
    wrong.write_bytes(b"PGDMP\x01\x0e" if places[0].backend == "sqlite" else b"SQLite format 3\x00")
    code, _, err = run_cli(["restore", str(wrong)])
    _one_line_error(code, err, "restaurez-la dans une base du même type")


def test_dated_backups_keep_the_newest_and_touch_nothing_else(
    places: list[Place], env: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _use(places[0], monkeypatch)
    code, _, err = run_cli(["init", "--uai", UAI, "--name", "Collège Test", "--type", "college",
                            "--first-name", "Anne", "--last-name", "Martin"])  # fmt: skip
    assert code == 0, err
    folder = tmp_path / "sauvegardes"
    folder.mkdir(mode=0o700)
    suffix = "dump" if places[0].backend == "postgresql" else "db"
    magic = b"PGDMP\x01\x0e" if places[0].backend == "postgresql" else b"SQLite format 3\x00"
    old = [folder / f"educonnect-2026010{i}T023000Z.{suffix}" for i in range(1, 4)]
    for path in old:
        path.write_bytes(magic + b"ancienne")
    kept = [folder / "educonnect-notes.txt", folder / "autre.dump"]
    for path in kept:
        path.write_text("à garder")
    code, out, err = run_cli(["backup", "--folder", str(folder), "--keep", "2"])
    assert (code, err) == (0, ""), err
    assert "2 anciennes sauvegardes effacées (les 2 plus récentes sont gardées)." in out
    assert "laissé" not in out
    names = sorted(p.name for p in folder.iterdir())
    assert old[2].name in names and old[0].name not in names and old[1].name not in names
    assert all(p.exists() for p in kept)
    new = [n for n in names if n.startswith("educonnect-2026") and n != old[2].name]
    assert len(new) == 1 and (folder / new[0]).stat().st_mode & 0o777 == 0o600
    for args, fragment in (
        (["backup"], "indiquez soit FICHIER, soit --folder"),
        (["backup", "x.dump", "--folder", str(folder)], "indiquez soit FICHIER, soit --folder"),
        (["backup", "x.dump", "--keep", "3"], "--keep ne s'emploie qu'avec --folder"),
        (["backup", str(tmp_path / "educonnect.key")], "fichier du service lui-même"),
        (["backup", str(tmp_path / "absent" / "x.dump")], "n'existe pas"),
    ):
        code, _, err = run_cli(args)
        _one_line_error(code, err, fragment)
    assert not (tmp_path / "absent").exists() and os.path.getsize(tmp_path / "educonnect.key")


def test_keep_deletes_only_what_really_is_one_of_our_backups(
    places: list[Place], env: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A backup's name is not enough: its content must begin as the backend's own files
    do; a link to a real backup is not one either. Each file left is named on stderr."""
    _use(places[0], monkeypatch)
    code, _, err = run_cli(["init", "--uai", UAI, "--name", "Collège Test", "--type", "college",
                            "--first-name", "Anne", "--last-name", "Martin"])  # fmt: skip
    assert code == 0, err
    folder = tmp_path / "sauvegardes"
    folder.mkdir(mode=0o700)
    postgres = places[0].backend == "postgresql"
    suffix = "dump" if postgres else "db"
    magic, other_magic = (b"PGDMP\x01\x0e", b"SQLite format 3\x00")[:: 1 if postgres else -1]
    real = folder / f"educonnect-20200103T000000Z.{suffix}"
    real.write_bytes(magic + b"ancienne")
    impostors = {
        folder / f"educonnect-20200101T000000Z.{suffix}": b"x\n",
        folder / f"educonnect-20200102T000000Z.{suffix}": other_magic + b"autre moteur",
        folder / f"educonnect-20200104T000000Z.{suffix}": b"",
    }
    for path, content in impostors.items():
        path.write_bytes(content)
    outside = tmp_path / "vraie.bin"
    outside.write_bytes(magic + b"hors du dossier")
    link = folder / f"educonnect-20200105T000000Z.{suffix}"
    link.symlink_to(outside)
    code, out, err = run_cli(["backup", "--folder", str(folder), "--keep", "1"])
    assert code == 0, err
    assert "1 ancienne sauvegarde effacée (la plus récente est gardée)." in out, out
    assert not real.exists()
    for path, content in impostors.items():
        assert path.read_bytes() == content
        assert f"« {path.name} »" in err, err
    assert link.is_symlink() and outside.read_bytes() == magic + b"hors du dossier"
    assert f"« {link.name} »" in err, err
    assert err.count("\n") == 4 and "Traceback" not in err, err
    assert all("n'est pas une sauvegarde" in line for line in err.splitlines()), err


def test_a_damaged_backup_restores_nothing(
    places: list[Place], env: Path, run_cli: RunCli, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A backup cut short (a full disk, a copy interrupted): refused, and the target stays
    empty, so the good backup can still be restored into it."""
    source, target, _ = places
    _use(source, monkeypatch)
    _school_with_pupils(run_cli, env)
    good = tmp_path / "bonne.dump"
    assert run_cli(["backup", str(good)])[0] == 0
    cut = tmp_path / "coupee.dump"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    _use(target, monkeypatch)
    code, out, err = run_cli(["restore", str(cut)])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (out, err)
    code, out, err = run_cli(["restore", str(good)])
    assert (code, err) == (0, ""), (out, err)
    assert run_cli(["audit", "verify"])[0] == 0
