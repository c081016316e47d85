"""A real sshd with the deployed configuration, a demo school for its user, and tmux.

Skipped with the reason where sshd cannot run (not root, no OpenSSH), failed instead under
``EDUCONNECT_REQUIRE_SSHD=1`` (``.ci/run``): CI must never silently skip them.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests.conftest import FAST_HASH
from tests.helpers import missing
from tests.sshd_server import Sshd, running, unavailable

VENV_BIN = Path(sys.executable).parent
# A folder for text captures of the SSH screens (a reviewer's evidence), when set.
EVIDENCE = os.environ.get("EDUCONNECT_SSH_EVIDENCE")


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    reason = unavailable()
    if reason:
        missing("SSHD", reason)
    with running(VENV_BIN) as server:
        yield server


@dataclass(frozen=True)
class School:
    """The demo collège in the test user's database, and its principal's credentials."""

    server: Sshd
    principal: NewStaff
    # The last TOTP step used: the app refuses a code of that step or an older one.
    used_steps: list[int] = field(default_factory=list)

    def next_code(self) -> str:
        """A code the app still accepts: this step's, or the next one's (±1 step)."""
        step = max([int(time.time()) // 30, *(s + 1 for s in self.used_steps)])
        while step > int(time.time()) // 30 + 1:
            time.sleep(0.5)
        self.used_steps.append(step)
        return pyotp.TOTP(self.principal.totp_secret).at(step * 30)

    def configure(self, admin_networks: str, hash_workers: int = 1) -> None:
        """The TUI's settings for the next connection (``admin_networks``: a CIDR list)."""
        folder = self.server.app_folder
        self.server.write_app_config(
            {
                "database_url": f'"sqlite:///{folder / "educonnect.db"}"',
                "output_dir": f'"{folder / "documents"}"',
                "log_file": f'"{folder / "educonnect.log"}"',
                "admin_networks": f'"{admin_networks}"',
                "hash_workers": str(hash_workers),
            }
        )


@pytest.fixture(scope="session")
def school(sshd: Sshd) -> School:
    folder = sshd.app_folder
    services = Services.from_settings(
        Settings(database_url=f"sqlite:///{folder / 'educonnect.db'}", output_dir=folder),
        hash_params=FAST_HASH,
    )
    services.upgrade()
    summary = demo.create_demo(services, Actor(label="test sshd", source_address="test"))
    with services.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    services.engine.dispose()
    (folder / "documents").mkdir(mode=0o700, exist_ok=True)
    for path in [folder, *folder.iterdir()]:
        os.chown(path, sshd.uid, sshd.gid)
    [principal] = [s for s in summary.staff if s.login == "p.marchand"]
    return School(sshd, principal)


class Tmux:
    """One 80×24 window of a private tmux server (never the default socket)."""

    def __init__(self, name: str) -> None:
        self.socket = f"a17-{name}-{secrets.token_hex(3)}"

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
        return done.stdout

    def start(self, command: list[str]) -> int:
        """Run ``command`` in the window; the pid of its process (``exec``: the command's)."""
        line = "exec " + " ".join(_quote(part) for part in command)
        self._tmux("-u", "new-session", "-d", "-x", "80", "-y", "24", "-s", "t", line)
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on")
        return int(self._tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip())

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, seconds: float = 15) -> str:
        deadline = time.monotonic() + seconds
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"« {text} » n'est pas venu à l'écran :\n{screen}")
            time.sleep(0.1)

    def wait_gone(self, text: str, seconds: float = 15) -> str:
        deadline = time.monotonic() + seconds
        while True:
            screen = self.screen()
            if text not in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"« {text} » reste à l'écran :\n{screen}")
            time.sleep(0.1)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def key(self, *names: str) -> None:
        self._tmux("send-keys", "-t", "t", *names)

    def close(self) -> None:
        """End this private server and remove its socket (tmux leaves the file behind)."""
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10
        )  # fmt: skip
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)


@pytest.fixture
def tmux(request: pytest.FixtureRequest) -> Iterator[Tmux]:
    window = Tmux(request.node.name[:20].replace("[", "").replace("]", ""))
    yield window
    window.close()


def save_evidence(name: str, screen: str) -> None:
    """A text capture of a screen for the reviewer's note (tmux capture-pane -p)."""
    if EVIDENCE:
        Path(EVIDENCE).mkdir(parents=True, exist_ok=True)
        (Path(EVIDENCE) / f"{name}.txt").write_text(screen)
