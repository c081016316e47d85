"""The key file (audit signatures, sealed OTP secrets) and the database's own file modes."""

from __future__ import annotations

import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import create_engine, select, text, update

from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.sign_in import sign_in
from educonnect_tui.domain.access.staff import totp_secret_of
from educonnect_tui.domain.model.errors import PermissionDenied
from educonnect_tui.domain.model.tables import AuditEvent, Staff
from educonnect_tui.domain.reports import journal
from educonnect_tui.domain.store import audit, db, keys
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests import factories
from tests.conftest import FAST_HASH, FakeClock
from tests.factories import STAFF_PASSWORD
from tests.helpers import RunCli

OUTSIDE = Connection(address="203.0.113.9", via_ssh=True)
ACTOR = Actor(label="test", source_address="10.0.0.5")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _record(services: Services, action: str = "sign_in") -> None:
    with services.sessions() as session, session.begin():
        audit.record(session, ACTOR, action, now=services.clock())


# -- the SQLite files ----------------------------------------------------------------------


def test_new_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    """Any local user read the staff's OTP secrets from a 0644 file in a 0755 folder."""
    path = tmp_path / "nouveau" / "dossier" / "educonnect.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.upgrade(engine)
        with engine.begin() as connection:  # a write: the -wal and -shm files exist now
            connection.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO probe VALUES (1)")
            assert _mode(path) == 0o600
            for side in ("-wal", "-shm"):
                assert _mode(path.with_name(path.name + side)) == 0o600
    finally:
        engine.dispose()
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700


def test_an_existing_public_database_becomes_private(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    path.chmod(0o644)
    engine = db.make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert _mode(path) == 0o600
    finally:
        engine.dispose()


# -- the key file --------------------------------------------------------------------------


def test_key_file_is_created_private_on_first_record(services: Services) -> None:
    path = services.settings.key_path
    assert not path.exists()
    _record(services)
    assert _mode(path) == 0o600
    ring = keys.read_keyring(path)
    assert ring.current_id == "k1" and len(ring.current.audit) == 32
    with services.sessions() as session:
        assert session.scalar(text("SELECT key_id FROM audit_event")) == "k1"
        # The key is in the file, nowhere in the database.
        dump = " ".join(str(v) for v in session.execute(text("SELECT * FROM audit_event")).one())
        assert ring.current.audit.hex() not in dump


def test_key_folder_is_created_0700(database_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "cles" / "educonnect.key"
    built = Services.from_settings(Settings(database_url=database_url, key_file=key_file))
    try:
        built.upgrade()
        assert _mode(key_file.parent) == 0o700 and _mode(key_file) == 0o600
    finally:
        built.engine.dispose()


def test_key_file_is_never_replaced(services: Services) -> None:
    path = services.settings.key_path
    _record(services)
    before = path.read_bytes()
    services.upgrade()
    again = Services.from_settings(services.settings)
    try:
        again.upgrade()
        _record(again)
    finally:
        again.engine.dispose()
    assert path.read_bytes() == before


def test_two_processes_creating_the_key_at_once_share_one(tmp_path: Path) -> None:
    path = tmp_path / "educonnect.key"
    rings: list[keys.Keyring] = []
    import datetime as dt

    def create() -> None:
        rings.append(keys._create(path, dt.datetime.now(dt.UTC), keys.Legacy(0, keys.GENESIS)))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({ring.current.audit for ring in rings}) == 1
    assert rings[0] == keys.read_keyring(path)
    assert [p.name for p in tmp_path.iterdir()] == ["educonnect.key"]


def test_missing_key_file_with_signed_records_refuses_to_start(
    cli_env: Services, run_cli: RunCli
) -> None:
    _record(cli_env)
    path = cli_env.settings.key_path
    path.unlink()
    for command in (["audit", "verify"], ["stats", "--uai", factories.DEFAULT_UAI]):
        code, out, err = run_cli(command)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and "introuvable" in err and str(path) in err
        assert "Traceback" not in err
    assert not path.exists()  # not silently replaced by a new key


def test_key_file_readable_by_others_is_refused(cli_env: Services, run_cli: RunCli) -> None:
    _record(cli_env)
    path = cli_env.settings.key_path
    path.chmod(0o644)
    code, _, err = run_cli(["audit", "verify"])
    assert code == 2 and "chmod 600" in err and err.count("\n") == 1


def test_damaged_key_file_is_refused(cli_env: Services, run_cli: RunCli) -> None:
    _record(cli_env)
    path = cli_env.settings.key_path
    path.write_text('{"format": "educonnect-keyring"')
    code, _, err = run_cli(["audit", "verify"])
    assert code == 2 and "endommagé" in err


def test_key_file_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    sqlite = Settings(database_url=f"sqlite:///{tmp_path / 'base' / 'school.db'}")
    assert sqlite.key_path == tmp_path / "base" / "educonnect.key"
    postgres = Settings(database_url="postgresql://u@h/db")
    assert postgres.key_path == tmp_path / "data" / "educonnect-tui" / "educonnect.key"
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(tmp_path / "ailleurs.key"))
    assert Settings(database_url="postgresql://u@h/db").key_path == tmp_path / "ailleurs.key"


# -- rotation ------------------------------------------------------------------------------


def test_rotation_then_verify(
    cli_env: Services, run_cli: RunCli, clock: FakeClock, tmp_path: Path
) -> None:
    member = factories.staff_member(cli_env)
    _record(cli_env)
    old = keys.read_keyring(cli_env.settings.key_path)
    code, out, err = run_cli(["audit", "rotate-key"])
    assert (code, err) == (0, "")
    assert "Nouvelle clé k2 (remplace k1)" in out and "1 secret(s) OTP" in out
    ring = keys.read_keyring(cli_env.settings.key_path)
    assert ring.current_id == "k2" and ring.get("k1") == old.current
    assert _mode(cli_env.settings.key_path) == 0o600
    # Records made by a process started before the rotation still verify.
    _record(cli_env)
    fresh = Services.from_settings(cli_env.settings, clock=clock)
    try:
        _record(fresh)
        report = journal.verify_everywhere(fresh)
    finally:
        fresh.engine.dispose()
    assert report.ok and report.keys == ("k1", "k2"), report
    with cli_env.sessions() as session:
        used = list(session.scalars(text("SELECT key_id FROM audit_event ORDER BY id")))
        rotated = session.scalar(
            text("SELECT details FROM audit_event WHERE action = 'key_rotated'")
        )
    assert used == ["k1", "k2", "k1", "k2"]
    assert "k2" in str(rotated) and old.current.audit.hex() not in str(rotated)
    # The OTP secret was sealed again with the new key and still signs in.
    with cli_env.sessions() as session:
        stored = session.scalars(select(Staff.totp_secret)).one()
    assert stored.startswith("aesgcm:k2:")
    code_now = pyotp.TOTP(member.totp_secret).at(clock.now)
    assert sign_in(cli_env, member.login, STAFF_PASSWORD, code_now, OUTSIDE).identity.login
    assert run_cli(["audit", "verify"])[0] == 0
    # Without the old key, what it signed can no longer be checked: said so.
    data = json.loads(cli_env.settings.key_path.read_text())
    data["keys"] = [k for k in data["keys"] if k["id"] != "k1"]
    cli_env.settings.key_path.write_text(json.dumps(data))
    cli_env.key_store.forget()
    report = journal.verify_everywhere(cli_env)
    assert report.broken_at == 1 and "« k1 », absente du fichier de clés" in report.reason


# -- OTP secrets ---------------------------------------------------------------------------


def test_staff_row_never_holds_the_otp_secret(services: Services, clock: FakeClock) -> None:
    member = factories.staff_member(services)
    with services.sessions() as session:
        row = session.scalars(select(Staff)).one()
        assert member.totp_secret not in row.totp_secret
        assert row.totp_secret.startswith("aesgcm:k1:")
        assert totp_secret_of(row) == member.totp_secret
        raw = " ".join(str(v) for v in session.execute(text("SELECT * FROM staff")).one())
        assert member.totp_secret not in raw
    code = pyotp.TOTP(member.totp_secret).at(clock.now)
    assert sign_in(services, member.login, STAFF_PASSWORD, code, OUTSIDE).identity.login


def test_clear_secrets_are_sealed_by_the_upgrade(services: Services, clock: FakeClock) -> None:
    """A database from before the keys: its clear secrets are sealed by ``db upgrade``."""
    member = factories.staff_member(services)
    with services.sessions() as session, session.begin():
        session.execute(update(Staff).values(totp_secret=member.totp_secret))
    services.upgrade()
    with services.sessions() as session:
        row = session.scalars(select(Staff)).one()
        assert row.totp_secret.startswith("aesgcm:") and totp_secret_of(row) == member.totp_secret
    code = pyotp.TOTP(member.totp_secret).at(clock.now)
    assert sign_in(services, member.login, STAFF_PASSWORD, code, OUTSIDE).identity.login


def test_a_secret_written_in_clear_or_copied_is_not_used(services: Services) -> None:
    """Someone who can write the staff table cannot choose a principal's codes."""
    factories.staff_member(services)
    other = factories.staff_member(services, first_name="Karim", last_name="Haddad")
    with services.sessions() as session, session.begin():
        mine = session.scalar(select(Staff.totp_secret).where(Staff.id == other.id))
        row = session.scalars(select(Staff).where(Staff.id != other.id)).one()
        row.totp_secret = mine  # copied from another row
        session.flush()
        with pytest.raises(keys.SecretUnreadable, match="illisible"):
            totp_secret_of(row)
        row.totp_secret = pyotp.random_base32()  # written in clear
        session.flush()
        with pytest.raises(keys.SecretUnreadable, match="illisible"):
            totp_secret_of(row)


# -- a database from before the keys -------------------------------------------------------


@pytest.fixture
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database at revision 0004 (before the keys), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ancienne.db'}"
        return
    from tests.conftest import POSTGRES_URL, postgres_url

    request.getfixturevalue("postgres_schema")  # skips (or fails in CI) without a server
    schema = f"edu_old_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize(
    "old_database",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_upgrade_keeps_older_records_and_seals_clear_secrets(
    old_database: str, tmp_path: Path, clock: FakeClock
) -> None:
    engine = db.make_engine(old_database)
    db.upgrade(engine, "0004")
    secret = pyotp.random_base32()
    previous = audit.GENESIS
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO staff (login, last_name, first_name, role, title, password_hash, "
                "totp_secret, failed_attempts, block_count) VALUES ('h.martin', 'Martin', "
                "'Hélène', 'direction', '', :hash, :secret, 0, 0)"
            ),
            {"hash": passwords.hash_password(STAFF_PASSWORD, FAST_HASH), "secret": secret},
        )
        for n in range(3):  # as the code before the keys wrote them: plain SHA-256
            event = AuditEvent(
                occurred_at=clock.now, actor_id=None, actor_label="ancien", source_address="x",
                action="sign_in", establishment_id=None, details={"n": n}, prev_hash=previous,
                hash="", key_id=None,
            )  # fmt: skip
            event.hash = audit._digest(event, [])
            connection.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, actor_id, actor_label, source_address, "
                    "action, establishment_id, details, prev_hash, hash) VALUES (:at, NULL, "
                    "'ancien', 'x', 'sign_in', NULL, :details, :prev, :hash)"
                ),
                {"at": clock.now, "details": json.dumps({"n": n}), "prev": previous,
                 "hash": event.hash},
            )  # fmt: skip
            previous = event.hash
    engine.dispose()
    services = Services.from_settings(
        Settings(
            database_url=old_database, key_file=tmp_path / "educonnect.key", admin_networks=[]
        ),
        clock=clock,
        hash_params=FAST_HASH,
    )
    try:
        services.upgrade()
        report = journal.verify_everywhere(services)
        assert report.ok and report.unkeyed == 3 and report.checked == 3
        assert "dont 3 antérieurs à la clé" in report.message()
        with services.sessions() as session:
            row = session.scalars(select(Staff)).one()
            assert secret not in row.totp_secret and totp_secret_of(row) == secret
        code = pyotp.TOTP(secret).at(clock.now)
        # Past the code (a wrong one would be AuthenticationFailed): attached to no school.
        with pytest.raises(PermissionDenied, match="aucun établissement"):
            sign_in(services, "h.martin", STAFF_PASSWORD, code, OUTSIDE)
        report = journal.verify_everywhere(services)  # the sign-in's record is signed
        assert report.ok and report.unkeyed == 3 and report.keys == ("k1",)
        # The key file, made by the upgrade, states the records older than it.
        stated = keys.read_keyring(services.settings.key_path).legacy
        assert stated == keys.Legacy(records=3, last_hash=previous)
    finally:
        services.engine.dispose()


def test_new_key_file_states_no_older_record_and_rotation_keeps_it(
    cli_env: Services, run_cli: RunCli
) -> None:
    _record(cli_env)
    path = cli_env.settings.key_path
    assert keys.read_keyring(path).legacy == keys.Legacy(records=0, last_hash=audit.GENESIS)
    assert run_cli(["audit", "rotate-key"])[0] == 0
    ring = keys.read_keyring(path)
    assert ring.current_id == "k2" and ring.legacy == keys.Legacy(0, audit.GENESIS)


def test_key_file_not_in_utf8_is_damaged(cli_env: Services, run_cli: RunCli) -> None:
    _record(cli_env)
    cli_env.settings.key_path.write_bytes(b"\xff\xfe{\x80")
    code, out, err = run_cli(["audit", "verify"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "endommagé" in err and "inattendue" not in err


def test_empty_key_file_setting_is_refused(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", "")
    code, out, err = run_cli(["audit", "verify"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "EDUCONNECT_KEY_FILE" in err and "vide" in err and "dossier" not in err
    with pytest.raises(ValueError, match="vide"):
        Settings(key_file="")  # type: ignore[arg-type]


def test_every_folder_made_for_the_key_file_is_0700(database_url: str, tmp_path: Path) -> None:
    """Not only the last one: ``mkdir(parents=True)`` makes the others 0755."""
    key_file = tmp_path / "a" / "b" / "cles" / "educonnect.key"
    built = Services.from_settings(Settings(database_url=database_url, key_file=key_file))
    try:
        built.upgrade()
        for folder in (key_file.parent, tmp_path / "a" / "b", tmp_path / "a"):
            assert _mode(folder) == 0o700, folder
    finally:
        built.engine.dispose()


@pytest.mark.parametrize("shape", ["folder", "symlink"])
def test_a_key_file_that_is_a_folder_or_a_link_is_refused_in_french(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    _record(cli_env)
    real = cli_env.settings.key_path
    odd = real.with_name(f"odd-{shape}")
    if shape == "folder":
        odd.mkdir()
    else:
        odd.symlink_to(real)
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(odd))
    code, out, err = run_cli(["audit", "verify"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "fichier de clés" in err and str(odd) in err
    assert "symbolic" not in err and "C'est un dossier : " not in err
