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
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.mail_server import free_port
from tests.ssh.conftest import VENV_BIN, School, Tmux, save_evidence

OUTSIDE = "10.0.0.0/8"
INSIDE = "127.0.0.0/8"


def _sign_in(school: School, window: Tmux, *, code: bool) -> str:
    """Identifier, Enter, password, Enter (and the code, Enter), typed as staff would."""
    principal = school.principal
    window.wait_for("Identifiant")
    window.type(principal.login)
    window.key("Enter")
    window.type(principal.password)
    window.key("Enter")
    if code:
        window.type(school.next_code())
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
    assert "clé OTP" in home.splitlines()[0]
    assert _last_sign_in(school) == ("127.0.0.1", "otp")


def test_password_only_when_the_admin_network_holds_the_client(school: School, tmux: Tmux) -> None:
    """The real sshd session is confirmed (store/sshd_session.py): 127.0.0.1 is believed."""
    school.configure(admin_networks=INSIDE)
    tmux.start(school.server.ssh("-t"))
    login = tmux.wait_for("Identifiant")
    save_evidence("ssh-login-reseau-administratif", login)
    assert "Code à 6 chiffres" not in login
    assert "(SSH depuis 127.0.0.1)" in " ".join(login.split())
    _sign_in(school, tmux, code=False)
    home = tmux.wait_gone("Mot de passe")
    save_evidence("ssh-accueil-reseau-administratif", home)
    assert "réseau administratif" in home.splitlines()[0]
    assert _last_sign_in(school) == ("127.0.0.1", "reseau_administratif")


def test_the_client_cannot_set_the_address_or_the_settings(school: School, tmux: Tmux) -> None:
    """``SetEnv`` from the client: sshd accepts only the locale (AcceptEnv LANG LC_*)."""
    school.configure(admin_networks="10.9.9.0/24")
    tmux.start(
        school.server.ssh(
            "-t",
            # One SetEnv option: ssh keeps the first of several.
            "-o",
            'SetEnv=SSH_CONNECTION="10.9.9.9 40000 10.0.0.1 22" SSH_CLIENT="10.9.9.9 40000 22" '
            "EDUCONNECT_ADMIN_NETWORKS=0.0.0.0/0 EDUCONNECT_LOCAL_CONSOLE_IS_ADMIN_NETWORK=1",
        )
    )  # fmt: skip
    login = tmux.wait_for("Code à 6 chiffres")
    save_evidence("ssh-login-setenv-ignore", login)
    assert "(SSH depuis 127.0.0.1)" in " ".join(login.split())
    # The client did send them, and sshd said no.
    log = school.server.log.read_text(errors="replace")
    for name in ("SSH_CONNECTION", "SSH_CLIENT", "EDUCONNECT_ADMIN_NETWORKS"):
        assert f"Ignoring env request {name}: disallowed name" in log
    _sign_in(school, tmux, code=True)
    tmux.wait_gone("Mot de passe")
    assert _last_sign_in(school) == ("127.0.0.1", "otp")


def _last_sign_in(school: School) -> tuple[str, object]:
    """The source address and the network mode of the last successful sign-in."""
    database = school.server.app_folder / "educonnect.db"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        source, details = db.execute(
            "SELECT source_address, details FROM audit_event WHERE action = 'sign_in' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return source, json.loads(details)["network_mode"]


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


def test_a_forged_variable_naming_a_live_session_is_not_believed(
    school: School, tmux: Tmux
) -> None:
    """Someone with a shell as the service user copies a live session's SSH_CONNECTION.

    The connection is real and root's sshd accepted it, but the process is in no sshd
    session of its user (store/sshd_session.py): the address is shown unconfirmed and
    the code is asked, although 127.0.0.0/8 is the administrative network.
    """
    school.configure(admin_networks=INSIDE)
    server = school.server
    tmux.start(server.ssh("-t"))
    tmux.wait_for("Identifiant")
    [(client_port, server_port)] = re.findall(
        r"Connection from 127\.0\.0\.1 port (\d+) on 127\.0\.0\.1 port (\d+)",
        server.log.read_text(errors="replace"),
    )[-1:]
    claim = f"127.0.0.1 {client_port} 127.0.0.1 {server_port}"
    shell = Tmux("forged")
    try:
        shell.start(
            ["su", "-s", "/bin/sh", server.user, "-c",
             f"SSH_CONNECTION='{claim}' EDUCONNECT_CONFIG={server.app_config} "
             f"exec {VENV_BIN / 'educonnect-tui'}"]
        )  # fmt: skip
        login = shell.wait_for("Code à 6 chiffres")
        save_evidence("ssh-variable-forgee", login)
        words = " ".join(w for w in login.split() if w != "│")
        assert "(SSH depuis 127.0.0.1 (non confirmée))" in words
    finally:
        shell.close()


def test_no_shell_and_no_other_command(school: School, tmux: Tmux) -> None:
    """A command asked for (with or without a terminal) or sftp: the TUI runs instead."""
    school.configure(admin_networks=OUTSIDE)
    tmux.start([*school.server.ssh("-t"), "sh -c 'echo pwned; sleep 30'"])
    screen = tmux.wait_for("Identifiant")
    assert "pwned" not in screen
    server = school.server
    asked = subprocess.run(
        [*server.ssh("-T"), "sh -c 'echo pwned'"],
        capture_output=True, stdin=subprocess.DEVNULL, timeout=30,
    )  # fmt: skip
    assert b"pwned" not in asked.stdout + asked.stderr
    # The TUI ran instead, found no terminal and said so (cli/accounts.py open_tui).
    assert asked.returncode == 2
    assert "pas de terminal" in asked.stderr.decode()
    sftp = subprocess.run(
        [*server.ssh("-T", "-s"), "sftp"],
        capture_output=True, stdin=subprocess.DEVNULL, timeout=30,
    )  # fmt: skip
    assert sftp.returncode == 2 and sftp.stdout == b""
    log = school.server.log.read_text(errors="replace")
    assert "Starting session: forced-command (config)" in log
    assert "subsystem request for sftp" in log


@contextlib.contextmanager
def _banner_server() -> Iterator[int]:
    """A TCP service on 127.0.0.1 that says « ok »: reachable only if a forward works."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                with connection:
                    connection.sendall(b"ok\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def _read_through(port: int, socks_to: int | None = None) -> bytes:
    """What comes out of 127.0.0.1:port (a SOCKS5 proxy to ``socks_to`` if given)."""
    deadline = time.monotonic() + 10
    while True:  # the client opens its forwarding port once signed in
        try:
            connection = socket.create_connection(("127.0.0.1", port), 1)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with connection:
        connection.settimeout(5)
        try:
            if socks_to is not None:
                connection.sendall(b"\x05\x01\x00")
                if connection.recv(2) != b"\x05\x00":
                    return b""
                request = b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1")
                connection.sendall(request + socks_to.to_bytes(2, "big"))
                reply = connection.recv(10)
                if reply[:2] != b"\x05\x00":
                    return b""
            return connection.recv(100)
        except OSError:  # reset
            return b""


def test_no_forwarding_of_any_kind(school: School) -> None:
    server = school.server
    with _banner_server() as target:
        assert _read_through(target) == b"ok\n"  # the service itself answers
        local, dynamic, remote = free_port(), free_port(), free_port()
        forwarded = [
            ("-L", f"127.0.0.1:{local}:127.0.0.1:{target}"),
            ("-D", f"127.0.0.1:{dynamic}"),
        ]
        clients = [
            subprocess.Popen(server.ssh("-N", flag, spec), stderr=subprocess.PIPE)
            for flag, spec in forwarded
        ]
        try:
            assert _read_through(local) == b""
            assert _read_through(dynamic, socks_to=target) == b""
            # -R: sshd refuses to listen for the client; ssh says so and gives up.
            refused = subprocess.run(
                server.ssh("-N", "-o", "ExitOnForwardFailure=yes",
                           "-R", f"127.0.0.1:{remote}:127.0.0.1:{target}"),
                capture_output=True, timeout=30,
            )  # fmt: skip
            assert refused.returncode != 0
            assert b"remote port forwarding failed" in refused.stderr
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", remote), 1).close()
        finally:
            for client in clients:
                client.kill()
                client.wait()
    log = server.log.read_text(errors="replace")
    assert "refused local port forward" in log or "administratively prohibited" in log


def test_the_deployed_directives_apply_to_the_service_user(school: School) -> None:
    """What sshd itself makes of deploy/sshd/educonnect.conf for that user (sshd -T)."""
    server = school.server
    effective = subprocess.run(
        ["/usr/sbin/sshd", "-T", "-f", str(server.config),
         "-C", f"user={server.user},host=poste,addr=10.0.0.1"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.splitlines()  # fmt: skip
    for line in (
        f"forcecommand {VENV_BIN / 'educonnect-tui'}",
        "disableforwarding yes",
        "allowtcpforwarding no",
        "allowstreamlocalforwarding no",
        "allowagentforwarding no",
        "x11forwarding no",
        "permittunnel no",
        "permituserrc no",
        "permituserenvironment no",
        "permitlisten none",
        "permitopen none",
        "authenticationmethods publickey",
        "passwordauthentication no",
        "maxsessions 1",
        "clientaliveinterval 60",
        "clientalivecountmax 3",
        "unusedconnectiontimeout 300",
        "channeltimeout session=1h",
    ):
        assert line in effective, line
    assert [e for e in effective if e.startswith("acceptenv")] == [
        "acceptenv LANG",
        "acceptenv LC_*",
    ]
