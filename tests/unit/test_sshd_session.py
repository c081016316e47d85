"""SSH_CONNECTION is believed only when a fake /proc shows the sshd session carrying it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from educonnect_tui.domain.access.network import is_admin_network
from educonnect_tui.domain.store.connection import Connection, current_connection
from educonnect_tui.domain.store.settings import Settings
from educonnect_tui.domain.store.sshd_session import (
    SystemView,
    encode_endpoint,
    encode_utmp,
    refusal,
)

CLAIM = "10.1.2.3 52314 10.0.0.1 22"
SERVICE_UID = 998
TUI, SHELL, CHILD, MONITOR, LISTENER = 4242, 4241, 4240, 4239, 800
HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"


@dataclass
class FakeSystem:
    """A /proc (and utmp) of a server where the TUI runs in a real sshd session."""

    root: Path
    # (local, local port, remote, remote port, state, uid)
    sockets: list[tuple[str, int, str, int, str, int]] = field(
        default_factory=lambda: [
            ("10.0.0.1", 22, "10.1.2.3", 52314, "01", 0),
            ("0.0.0.0", 22, "0.0.0.0", 0, "0A", 0),
        ]
    )
    # pid → (name, uid, parent)
    processes: dict[int, tuple[str, int, int]] = field(
        default_factory=lambda: {
            TUI: ("educonnect-tui", SERVICE_UID, SHELL),
            SHELL: ("sh", SERVICE_UID, CHILD),
            CHILD: ("sshd", SERVICE_UID, MONITOR),
            MONITOR: ("sshd", 0, LISTENER),
            LISTENER: ("sshd", 0, 1),
        }
    )
    tty: str | None = "/dev/pts/3"
    utmp_records: list[bytes] | None = None

    def view(self) -> SystemView:
        proc = self.root / "proc"
        (proc / "net").mkdir(parents=True, exist_ok=True)
        v4 = [s for s in self.sockets if ":" not in s[0]]
        v6 = [s for s in self.sockets if ":" in s[0]]
        for name, rows in (("tcp", v4), ("tcp6", v6)):
            lines = [
                f"{i:4}: {encode_endpoint(a, p)} {encode_endpoint(b, q)} {st} "
                f"00000000:00000000 00:00000000 00000000 {uid:5} 0 {1000 + i} 1\n"
                for i, (a, p, b, q, st, uid) in enumerate(rows)
            ]
            (proc / "net" / name).write_text(HEADER + "".join(lines))
        for pid, (name, uid, parent) in self.processes.items():
            (proc / str(pid) / "fd").mkdir(parents=True, exist_ok=True)
            (proc / str(pid) / "status").write_text(
                f"Name:\t{name}\nUmask:\t0077\nState:\tS (sleeping)\nPid:\t{pid}\n"
                f"PPid:\t{parent}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
            )
        if self.tty:
            os.symlink(self.tty, proc / str(TUI) / "fd" / "0")
        utmp = self.root / "utmp"
        if self.utmp_records is not None:
            utmp.write_bytes(b"".join(self.utmp_records))
        return SystemView(proc=proc, utmp=utmp, pid=TUI, uid=SERVICE_UID)


@pytest.fixture
def system(tmp_path: Path) -> FakeSystem:
    return FakeSystem(tmp_path)


def _admin(connection: Connection) -> bool:
    settings = Settings(database_url="sqlite://", admin_networks="10.0.0.0/8")  # type: ignore[arg-type]
    return is_admin_network(connection, settings)


def test_a_real_session_is_believed(system: FakeSystem) -> None:
    view = system.view()
    assert refusal(CLAIM, view) is None
    connection = current_connection({"SSH_CONNECTION": CLAIM}, view)
    assert connection == Connection(address="10.1.2.3", via_ssh=True)
    assert connection.label() == "SSH depuis 10.1.2.3"
    assert _admin(connection)


def test_a_refused_claim_is_kept_for_the_trail_but_never_admin(system: FakeSystem) -> None:
    system.sockets = [s for s in system.sockets if s[4] != "01"]
    connection = current_connection({"SSH_CONNECTION": CLAIM}, system.view())
    assert connection == Connection(address="10.1.2.3", via_ssh=True, unverified=True)
    assert connection.source == "10.1.2.3"
    assert connection.label() == "SSH depuis 10.1.2.3 (non confirmée)"
    assert not _admin(connection)


def test_the_real_system_does_not_confirm_an_invented_connection() -> None:
    """This test process runs in no sshd session carrying 10.1.2.3:52314."""
    assert current_connection({"SSH_CONNECTION": CLAIM}).unverified


@pytest.mark.parametrize("value", ["10.1.2.3 52314 10.0.0.1", "10.1.2.3 x 10.0.0.1 22",
                                   "10.1.2.3 0 10.0.0.1 22", "nom 1 10.0.0.1 22"])  # fmt: skip
def test_an_unreadable_variable_is_refused(system: FakeSystem, value: str) -> None:
    assert refusal(value, system.view()) == "SSH_CONNECTION illisible"


def test_ssh_client_alone_cannot_be_confirmed(system: FakeSystem) -> None:
    connection = current_connection({"SSH_CLIENT": "10.1.2.3 52314 22"}, system.view())
    assert connection.address == "10.1.2.3"
    assert connection.unverified


def test_no_tcp_table_is_refused(tmp_path: Path) -> None:
    view = SystemView(proc=tmp_path, utmp=tmp_path / "utmp", pid=TUI, uid=SERVICE_UID)
    assert refusal(CLAIM, view) == "table des connexions TCP illisible"


@pytest.mark.parametrize(
    "established",
    [
        ("10.0.0.1", 22, "10.1.2.3", 52315, "01", 0),  # another client port
        ("10.0.0.1", 22, "10.1.2.4", 52314, "01", 0),  # another client
        ("10.0.0.2", 22, "10.1.2.3", 52314, "01", 0),  # another server address
        ("10.0.0.1", 2222, "10.1.2.3", 52314, "01", 0),  # another server port
        ("10.0.0.1", 22, "10.1.2.3", 52314, "06", 0),  # closing (TIME_WAIT)
        ("10.0.0.1", 22, "10.1.2.3", 52314, "01", 1000),  # a user's own socket
    ],
)
def test_a_connection_that_is_not_there_is_refused(
    system: FakeSystem, established: tuple[str, int, str, int, str, int]
) -> None:
    system.sockets = [established, ("0.0.0.0", 22, "0.0.0.0", 0, "0A", 0)]
    assert refusal(CLAIM, system.view()) == (
        "aucune connexion TCP établie par root ne correspond à SSH_CONNECTION"
    )


def test_a_connection_made_by_a_user_to_their_own_listener_is_refused(system: FakeSystem) -> None:
    """Anybody can listen on a high port and connect to it; only root's listener counts."""
    system.sockets = [
        ("10.0.0.1", 22, "10.1.2.3", 52314, "01", 0),
        ("0.0.0.0", 22, "0.0.0.0", 0, "0A", 1000),
        ("10.0.0.9", 22, "0.0.0.0", 0, "0A", 0),
    ]
    assert refusal(CLAIM, system.view()) == (
        "aucun service de root n'écoute sur le port de SSH_CONNECTION"
    )


def test_ipv6_and_dual_stack_sockets(system: FakeSystem) -> None:
    system.sockets = [
        ("2001:db8::1", 22, "2001:db8:1::42", 50000, "01", 0),
        ("::ffff:10.0.0.1", 22, "::ffff:10.1.2.3", 52314, "01", 0),
        ("::", 22, "::", 0, "0A", 0),
    ]
    view = system.view()
    assert refusal("2001:db8:1::42 50000 2001:db8::1 22", view) is None
    assert refusal(CLAIM, view) is None


def test_outside_any_sshd_session_is_refused(system: FakeSystem) -> None:
    """A shell that set the variable by hand: no sshd among the parents."""
    system.processes = {
        TUI: ("educonnect-tui", SERVICE_UID, SHELL),
        SHELL: ("bash", SERVICE_UID, 300),
        300: ("login", 0, 1),
    }
    assert refusal(CLAIM, system.view()) == "ce processus ne tourne pas dans une session sshd"


def test_someone_elses_session_is_refused(system: FakeSystem) -> None:
    """``sudo -u educonnect`` from another person's SSH shell: their sshd, not ours."""
    system.processes = {
        TUI: ("educonnect-tui", SERVICE_UID, 5000),
        5000: ("sudo", 0, SHELL),
        SHELL: ("bash", 1000, CHILD),
        CHILD: ("sshd", 1000, MONITOR),
        MONITOR: ("sshd", 0, LISTENER),
        LISTENER: ("sshd", 0, 1),
    }
    assert refusal(CLAIM, system.view()) == (
        "la session sshd qui contient ce processus n'est pas celle de son utilisateur"
    )


@pytest.mark.parametrize(
    "monitor", [("sshd", SERVICE_UID, LISTENER), ("python3", 0, LISTENER), None]
)
def test_an_sshd_not_started_by_roots_sshd_is_refused(
    system: FakeSystem, monitor: tuple[str, int, int] | None
) -> None:
    """A program of the user's own named ``sshd`` (a copy, or ``prctl``) is not a session."""
    if monitor is None:
        system.processes[CHILD] = ("sshd", SERVICE_UID, 1)
        del system.processes[MONITOR]
    else:
        system.processes[MONITOR] = monitor
    assert refusal(CLAIM, system.view()) == (
        "la session sshd qui contient ce processus n'a pas été ouverte par root"
    )


def test_openssh_9_8_session_processes(system: FakeSystem) -> None:
    system.processes[CHILD] = ("sshd-session", SERVICE_UID, MONITOR)
    system.processes[MONITOR] = ("sshd-session", 0, LISTENER)
    assert refusal(CLAIM, system.view()) is None


def test_a_utmp_record_that_agrees_is_believed(system: FakeSystem) -> None:
    system.utmp_records = [
        encode_utmp(77, "pts/3", "203.0.113.9"),
        encode_utmp(CHILD, "pts/3", "10.1.2.3"),
    ]
    assert refusal(CLAIM, system.view()) is None


def test_a_utmp_record_of_another_address_is_refused(system: FakeSystem) -> None:
    system.utmp_records = [encode_utmp(CHILD, "pts/3", "203.0.113.9")]
    assert refusal(CLAIM, system.view()) == "l'enregistrement utmp de pts/3 donne une autre adresse"


def test_a_utmp_record_of_another_session_is_refused(system: FakeSystem) -> None:
    system.utmp_records = [encode_utmp(9999, "pts/3", "10.1.2.3")]
    assert refusal(CLAIM, system.view()) == (
        "l'enregistrement utmp de pts/3 appartient à une autre session"
    )


def test_without_a_terminal_or_a_record_utmp_says_nothing(system: FakeSystem) -> None:
    system.utmp_records = [encode_utmp(9999, "pts/8", "203.0.113.9")]
    assert refusal(CLAIM, system.view()) is None
    system.tty = None
    system.utmp_records = [encode_utmp(9999, "pts/3", "203.0.113.9")]
    assert refusal(CLAIM, FakeSystem(system.root / "b", tty=None,
                                     utmp_records=system.utmp_records).view()) is None  # fmt: skip


def test_ipv6_utmp_address(system: FakeSystem) -> None:
    system.sockets = [
        ("2001:db8::1", 22, "2001:db8:1::42", 50000, "01", 0),
        ("::", 22, "::", 0, "0A", 0),
    ]
    system.utmp_records = [encode_utmp(CHILD, "pts/3", "2001:db8:1::42")]
    assert refusal("2001:db8:1::42 50000 2001:db8::1 22", system.view()) is None
