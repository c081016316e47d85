"""A real OpenSSH server for the tests, with the deployed configuration, on 127.0.0.1.

The distribution's ``/usr/sbin/sshd`` runs in the foreground (``-D -e``) on a free port
with a throwaway host key, the directives of ``deploy/sshd/educonnect.conf`` (only its
paths and the user's name replaced) and a throwaway Unix user standing for
``educonnect``: created with ``useradd``, removed afterwards with whatever it left
running. Its forced command is this checkout's ``educonnect-tui``, whose settings file
(``app_config``) the tests write before each connection.

It needs root (sshd, useradd) and the OpenSSH server and client; ``unavailable`` says
why not, so that the tests skip with the reason, or fail under
``EDUCONNECT_REQUIRE_SSHD=1``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.mail_server import free_port

SSHD = Path("/usr/sbin/sshd")
ROOT = Path(__file__).resolve().parents[1]
SNIPPET = ROOT / "deploy" / "sshd" / "educonnect.conf"
# The deployed paths and name, replaced by the test's own.
DEPLOYED_COMMAND = "/opt/educonnect/bin/educonnect-tui"
DEPLOYED_CONFIG = "/etc/educonnect/config.toml"
DEPLOYED_KEYS = "/etc/ssh/authorized_keys/educonnect"
DEPLOYED_MATCH = "Match User educonnect"


def unavailable() -> str | None:
    """None when a real sshd can be started here, else why not."""
    if sys.platform != "linux":
        return "sshd réel : Linux seulement"
    if os.geteuid() != 0:
        return "sshd réel : il faut être root (sshd, useradd)"
    if not SSHD.is_file():
        return f"sshd réel : {SSHD} absent (paquet openssh-server)"
    for tool in ("ssh", "ssh-keygen", "useradd", "userdel", "tmux"):
        if shutil.which(tool) is None:
            return f"sshd réel : commande {tool} absente"
    return None


@dataclass
class Sshd:
    """A running sshd and what a client needs to reach it."""

    port: int
    user: str
    uid: int
    gid: int
    folder: Path
    client_key: Path
    known_hosts: Path
    app_folder: Path
    log: Path
    config: Path

    @property
    def app_config(self) -> Path:
        return self.app_folder / "config.toml"

    def ssh(self, *options: str) -> list[str]:
        """The ``ssh`` command line to the test user, with nothing from ~/.ssh/config."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(self.client_key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            *options,
            f"{self.user}@127.0.0.1",
        ]

    def write_app_config(self, lines: dict[str, str]) -> None:
        """The TUI's settings file (TOML values already quoted), owned by the test user."""
        text = "".join(f"{key} = {value}\n" for key, value in lines.items())
        self.app_config.write_text(text)
        os.chown(self.app_config, self.uid, self.gid)
        self.app_config.chmod(0o600)

    def user_processes(self) -> list[str]:
        """« pid name » of every process of the test user still running."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                status = (entry / "status").read_text()
                fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
                if int(fields["Uid"].split()[0]) == self.uid:
                    found.append(f"{entry.name} {fields['Name'].strip()}")
        return found

    def wait_no_user_process(self, seconds: float) -> list[str]:
        deadline = time.monotonic() + seconds
        while (left := self.user_processes()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left


def deployed_directives(user: str, command: str, app_folder: Path, keys: Path) -> str:
    """``deploy/sshd/educonnect.conf`` with the test's user and paths, nothing else changed."""
    text = SNIPPET.read_text()
    for old, new in (
        (DEPLOYED_MATCH, f"Match User {user}"),
        (DEPLOYED_COMMAND, command),
        (DEPLOYED_CONFIG, str(app_folder / "config.toml")),
        (DEPLOYED_KEYS, str(keys)),
    ):
        if old not in text:
            raise AssertionError(f"{SNIPPET} ne contient plus {old!r}")
        text = text.replace(old, new)
    return text


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd s'est arrêté : {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd n'écoute pas sur le port {port}")


def _remove_user(user: str) -> None:
    """End what the user left running, then the account (userdel refuses while it runs)."""
    uid = pwd.getpwnam(user).pw_uid
    deadline = time.monotonic() + 10
    while True:
        _end_user_processes(uid)
        done = subprocess.run(["userdel", user], capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"userdel {user} : {done.stderr.strip()}")
        time.sleep(0.2)


def _end_user_processes(uid: int) -> None:
    """What a failed test left running as the throwaway user, by pid."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, KeyError):
            status = (entry / "status").read_text()
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if int(fields["Uid"].split()[0]) == uid:
                os.kill(int(entry.name), signal.SIGKILL)


@contextlib.contextmanager
def running(venv_bin: Path) -> Iterator[Sshd]:
    """sshd on a free port of 127.0.0.1 for a throwaway user, removed afterwards."""
    user = f"edut{secrets.token_hex(4)}"
    folder = Path(tempfile.mkdtemp(prefix="educonnect-sshd-"))
    folder.chmod(0o755)  # the user reaches its own folder below; root's files stay 0600
    process: subprocess.Popen[bytes] | None = None
    created = False
    try:
        # Debian's package creates it at boot (systemd-tmpfiles); a container may not.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        app_folder = folder / "app"
        app_folder.mkdir(mode=0o700)
        _run("useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
             str(app_folder), "--shell", "/bin/sh", "--password", "*", user)  # fmt: skip
        created = True
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        os.chown(app_folder, uid, gid)
        host_key, client_key = folder / "host_key", folder / "client_key"
        for key in (host_key, client_key):
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(key))
        keys = folder / "authorized_keys"
        # As deploy/sshd/README.md lists a workstation.
        keys.write_text("restrict,pty " + client_key.with_suffix(".pub").read_text())
        os.chown(keys, 0, gid)
        keys.chmod(0o640)
        port = free_port()
        known_hosts = folder / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.with_suffix('.pub').read_text()}")
        config = folder / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1:{port}\n"
            f"HostKey {host_key}\n"
            "PidFile none\n"
            # No PAM stack in a test (a container has no pam_systemd, no loginuid).
            "UsePAM no\n"
            # The throwaway files live under /tmp, which is world-writable.
            "StrictModes no\n"
            f"AllowUsers {user}\n"
            # Debian's sshd_config accepts the locale: SSH_* must still be refused.
            "AcceptEnv LANG LC_*\n"
            # And offers sftp: the forced command must win over it.
            "Subsystem sftp /usr/lib/openssh/sftp-server\n"
            "PrintMotd no\n"
            "LogLevel DEBUG2\n"  # says which variables the client sent and were ignored

            + deployed_directives(user, str(venv_bin / "educonnect-tui"), app_folder, keys)
        )  # fmt: skip
        log = folder / "sshd.log"
        _run(str(SSHD), "-t", "-f", str(config))
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)], stdout=out, stderr=out
            )
        _wait_listening(port, process, log)
        yield Sshd(port, user, uid, gid, folder, client_key, known_hosts, app_folder, log, config)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if created:
            _remove_user(user)
        shutil.rmtree(folder, ignore_errors=True)
