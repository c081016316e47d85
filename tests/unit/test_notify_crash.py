"""A notification killed at its worst instant: passwords and documents stay together.

Each test runs the real command line in a child process and kills it (SIGKILL, which no
code can intercept) at one point of the publication: after staging, at each file's
rename, just before the commit, just after it. Whatever the instant, once the next run
has swept the folder, either the old passwords still work and no new document exists
under a final name, or the new passwords work and their complete documents exist; and
no staged file is left behind. SIGTERM and SIGHUP are handled like Ctrl-C, and the
hashing processes never outlive the command.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.accounts import notification, publishing
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.model.enums import AccountKind
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.store.services import Services
from tests import factories

UAI = factories.DEFAULT_UAI

# The child: the real command line, with SIGKILL planted at one point of the publication.
CHILD = r"""
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
from educonnect_tui import cli
from educonnect_tui.domain.documents import files

point = sys.argv[1]
published = []
links = []

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

real_publish = files.Publication.publish
def publish(self):
    if point == "staged":
        die()
    result = real_publish(self)
    published.append(True)
    return result
files.Publication.publish = publish

real_link = files.os.link
def link(source, target):
    if os.path.basename(os.path.dirname(target)) == "docs":  # the documents' folder
        links.append(target)
    if point == f"rename{len(links)}":
        die()
    return real_link(source, target)
files.os.link = link

@event.listens_for(Session, "before_commit")
def before_commit(session):
    if point == "commit" and published:
        die()

@event.listens_for(Session, "after_commit")
def after_commit(session):
    if point == "committed" and published:
        die()

sys.exit(cli.main(sys.argv[2:]))
"""


def _school(services: Services, count: int) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for i in range(count):
            factories.pupil(session, school, first_name=f"Élève{i}", division="4E1")


def _passwords(csv_path: Path) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(csv_path.read_text("utf-8-sig")), delimiter=";")
    return {r["Identifiant"]: r["Mot de passe provisoire"] for r in rows}


def _valid(services: Services, passwords: dict[str, str]) -> bool:
    with services.sessions() as session:
        return all(
            verify_password(
                session.scalar(select(Account.temp_password_hash).where(Account.login == login)),
                password,
            )
            for login, password in passwords.items()
        )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "educonnect-" in p.name)


def _env(services: Services, workers: int = 1) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUCONNECT_")}
    env.update(
        EDUCONNECT_DATABASE_URL=services.settings.database_url,
        EDUCONNECT_CONFIG="/nonexistent/config.toml",
        EDUCONNECT_KEY_FILE=str(services.settings.key_path),
        EDUCONNECT_HASH_WORKERS=str(workers),
    )
    return env


def _notify_args(pdf: Path, csv_path: Path) -> list[str]:
    selection = ["--uai", UAI, "--kind", "pupils", "--state", "notifie"]
    return ["notify", *selection, "--pdf", str(pdf), "--csv", str(csv_path)]


@pytest.fixture
def notified(services: Services, tmp_path: Path) -> dict[str, str]:
    """Four pupils notified once: the passwords they hold before the killed run."""
    _school(services, 4)
    first = tmp_path / "premiere"
    first.mkdir()
    notification.notify(
        services,
        factories.operator(services, UAI),
        NotifyRequest(
            AccountKind.PUPIL,
            Selection(),
            pdf_path=first / "f.pdf",
            csv_path=first / "f.csv",
        ),
    )
    return _passwords(first / "f.csv")


@pytest.mark.parametrize(
    ("point", "committed"),
    [
        ("staged", False),
        ("rename1", False),
        ("rename2", False),
        ("commit", False),
        ("committed", True),
    ],
)
def test_killed_anywhere_passwords_and_documents_stay_together(
    services: Services,
    notified: dict[str, str],
    tmp_path: Path,
    point: str,
    committed: bool,
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    pdf, csv_path = folder / "fiches.pdf", folder / "fiches.csv"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, point, *_notify_args(pdf, csv_path)],
        env=_env(services),
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    if point in ("staged", "rename1"):
        # Nothing under a final name yet: the old passwords are the only valid ones.
        assert not pdf.exists() and not csv_path.exists()
        assert _valid(services, notified)
    if committed:
        # Already whole before any sweep.
        assert _valid(services, _passwords(csv_path))

    removed = publishing.sweep(services, [pdf])  # what the next run does first

    assert _leftovers(folder) == []
    if committed:
        assert removed == []
        new = _passwords(csv_path)
        assert set(new) == set(notified) and _valid(services, new)
        text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert all(login in text and password in text for login, password in new.items())
        assert not _valid(services, notified)
    else:
        assert not pdf.exists() and not csv_path.exists()
        assert _valid(services, notified)
        with services.sessions() as session:
            count = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "notify")
            )
        assert count == 1


def test_the_next_notification_sweeps_and_says_so(
    services: Services, notified: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    pdf, csv_path = folder / "fiches.pdf", folder / "fiches.csv"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "commit", *_notify_args(pdf, csv_path)],
        env=_env(services),
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL
    assert pdf.exists()  # published, never committed: its passwords do not work
    assert _valid(services, notified)
    again = folder / "suite.pdf"
    result = subprocess.run(
        [sys.executable, "-m", "educonnect_tui", *_notify_args(again, folder / "suite.csv")],
        env=_env(services),
        capture_output=True,
        timeout=120,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f"{publishing.SWEPT}\u00a0: {pdf}" in (result.stdout)
    assert not pdf.exists() and not csv_path.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["suite.csv", "suite.pdf"]
    assert _valid(services, _passwords(folder / "suite.csv"))


# -- signals and the hashing processes -----------------------------------------------------


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, ppid in parents.items() if ppid == parent}
        todo += list(children - found)
        found |= children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _start_hashing(services: Services, tmp_path: Path) -> tuple[subprocess.Popen[str], set[int]]:
    """A notification of 60 pupils at the real argon2 cost, caught while it hashes."""
    _school(services, 60)
    folder = tmp_path / "docs"
    folder.mkdir()
    args = ["notify", "--uai", UAI, "--kind", "pupils", "--pdf", str(folder / "f.pdf")]
    child = subprocess.Popen(
        [sys.executable, "-m", "educonnect_tui", *args],
        env=_env(services, workers=2),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        assert child.poll() is None, child.communicate()
        workers = {p for p in _descendants(child.pid) if _alive(p)}
        time.sleep(0.05)
    assert len(workers) >= 2, "the hashing processes never started"
    time.sleep(0.3)  # well inside the hashing of 60 passwords
    return child, workers


def _gone_soon(pids: set[int], seconds: float = 5.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = {p for p in pids if _alive(p)}
        if not alive:
            return set()
        time.sleep(0.05)
    return {p for p in pids if _alive(p)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_hashing_processes_die_with_a_killed_notification(
    services: Services, tmp_path: Path
) -> None:
    child, workers = _start_hashing(services, tmp_path)
    try:
        child.kill()
        child.wait(timeout=10)
        assert _gone_soon(workers) == set()
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        child.communicate()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sigterm_and_sighup_stop_like_ctrl_c(
    services: Services, tmp_path: Path, signum: int
) -> None:
    child, workers = _start_hashing(services, tmp_path)
    try:
        # To the whole group, as a terminal or a dropped SSH link sends it.
        os.killpg(child.pid, signum)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 128 + signum, err  # 143 for SIGTERM, 129 for SIGHUP
        assert err.strip().splitlines()[-1] == (
            "Interrompu\u00a0: aucun mot de passe n'a été modifié et aucun document écrit."
        )
        assert "Traceback" not in err
        assert _gone_soon(workers) == set()
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert not any(session.scalars(select(Account.temp_password_hash)))
    assert list((tmp_path / "docs").iterdir()) == []
