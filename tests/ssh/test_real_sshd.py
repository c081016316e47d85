"""The TUI behind a real sshd with the deployed configuration, reached by the real ssh client.

Each test connects with ``ssh`` inside an 80×24 tmux window (tests/ssh/conftest.py) to
sshd on 127.0.0.1 (tests/sshd_server.py), so the client's address is 127.0.0.1: the
administrative network either excludes it (10.0.0.0/8: the OTP code is asked) or
contains it (127.0.0.0/8: the password suffices).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3

import pyotp

from tests.ssh.conftest import School, Tmux, save_evidence

OUTSIDE = "10.0.0.0/8"
INSIDE = "127.0.0.0/8"


def _sign_in(tmux: School, window: Tmux, *, code: bool) -> str:
    principal = tmux.principal
    window.wait_for("Identifiant")
    window.type(principal.login)
    window.key("Enter")
    window.type(principal.password)
    window.key("Enter")
    if code:
        window.type(pyotp.TOTP(principal.totp_secret).now())
        window.key("Enter")
    return window.screen()


def test_sign_in_with_password_and_code_from_outside_the_admin_network(
    school: School, tmux: Tmux
) -> None:
    school.configure(admin_networks=OUTSIDE)
    tmux.start(school.server.ssh("-t"))
    login = tmux.wait_for("Code à 6 chiffres")
    save_evidence("ssh-login-hors-reseau", login)
    _sign_in(school, tmux, code=True)
    home = tmux.wait_gone("Mot de passe")
    save_evidence("ssh-accueil-hors-reseau", home)


def _last_sign_in(school: School) -> tuple[str, dict[str, object]]:
    database = school.server.app_folder / "educonnect.db"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        source, details = db.execute(
            "SELECT source_address, details FROM audit_event WHERE action = 'sign_in' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return source, json.loads(details)


def test_dropping_the_connection_mid_notification_leaves_no_process(
    school: School, tmux: Tmux
) -> None:
    """kill -9 of the client while two processes hash the new passwords: all of it ends.

    The TUI's terminal is gone while it is drawing a progress bar; it must take the
    hang-up, cancel the job (nothing is changed) and exit, and its hashing processes
    with it.
    """
    school.configure(admin_networks=INSIDE, hash_workers=2)
    client = tmux.start(school.server.ssh("-t"))
    _sign_in(school, tmux, code=False)
    tmux.wait_gone("Mot de passe")
    tmux.key("a")
    tmux.wait_for("527 cochés")
    tmux.key("n")
    confirm = tmux.wait_for("pour confirmer")
    match = re.search(r"Tapez (\d+) pour confirmer", confirm)
    assert match, confirm
    tmux.type(match.group(1))
    tmux.key("Enter")
    tmux.wait_for("Création des mots de passe provisoires")
    running = school.server.user_processes()
    # sshd's session process, the shell of ForceCommand, the TUI, two hashers, the renderer.
    assert sum(p.endswith("educonnect-tui") for p in running) >= 3, running
    before = _notified_count(school)
    os.kill(client, signal.SIGKILL)
    assert school.server.wait_no_user_process(10) == []
    # The job was cancelled before its commit: no account changed state.
    assert _notified_count(school) == before


def _notified_count(school: School) -> int:
    database = school.server.app_folder / "educonnect.db"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        count = db.execute("SELECT count(*) FROM audit_event WHERE action LIKE 'notif%'").fetchone()
    return int(count[0])
