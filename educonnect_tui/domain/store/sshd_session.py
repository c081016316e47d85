"""Whether ``SSH_CONNECTION`` was really set by sshd for this process (Linux ``/proc``).

The administrative network stands in for the OTP key, and the only witness of where a
session comes from is ``SSH_CONNECTION``, which anybody with a shell can set. So the
variable is believed only when the system agrees with it (docs/security.md,
« Where a session comes from »):

1. it names a TCP connection (client address and port, server address and port) that is
   ESTABLISHED in ``/proc/net/tcp`` or ``tcp6`` and belongs to root (sshd's listener
   accepted it), on a port where root listens;
2. the process runs inside an sshd session of its own Unix user: walking up the parents,
   the first ``sshd`` (``sshd-session`` from OpenSSH 9.8) runs as this process's user
   (the privilege-separated child of that user's session) and its own parent is an
   ``sshd`` run by root (the session's monitor, which only the listener forks);
3. where ``/run/utmp`` exists and holds the record of this session's terminal (written by
   root's sshd), that record's process is one of ours and its address is the claimed one.

What the system can tell an unprivileged process stops there: it cannot see which
process holds the socket (sshd's processes are not readable by their user). Under the
deployed configuration (``deploy/sshd/educonnect.conf``: a forced command, no user
environment, no ``AcceptEnv`` beyond the locale) a session of the service user cannot set
the variable at all, so naming someone else's live connection needs a shell as the
service user, which that configuration denies.

Everything is read below ``SystemView.proc`` and ``SystemView.utmp`` so that tests can
hand in a fake system.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SSHD_NAMES = frozenset({"sshd", "sshd-session"})
_ESTABLISHED = "01"
_LISTEN = "0A"
# A chain of parents longer than this is not a login session.
_MAX_DEPTH = 64
# glibc's ``struct utmp`` on Linux (x86-64, arm64…): type, pid, line, id, user, host,
# exit status, session, time, address (16 bytes, network order), reserved.
_UTMP = struct.Struct("<h2xi32s4s32s256s2hi2i16s20x")
_USER_PROCESS = 7


@dataclass(frozen=True)
class SystemView:
    """Where the system is read from, and as whom: the real one unless a test says so."""

    proc: Path = Path("/proc")
    utmp: Path = Path("/run/utmp")
    pid: int | None = None
    uid: int | None = None

    @property
    def own_pid(self) -> int:
        return os.getpid() if self.pid is None else self.pid

    @property
    def own_uid(self) -> int:
        return os.getuid() if self.uid is None else self.uid


@dataclass(frozen=True)
class Claim:
    """What ``SSH_CONNECTION`` says: « client_ip client_port server_ip server_port »."""

    client: IPAddress
    client_port: int
    server: IPAddress
    server_port: int

    @classmethod
    def parse(cls, value: str) -> Claim | None:
        fields = value.split()
        if len(fields) != 4:
            return None
        try:
            client, server = (_plain(ipaddress.ip_address(f)) for f in (fields[0], fields[2]))
            client_port, server_port = int(fields[1]), int(fields[3])
        except ValueError:
            return None
        if not (0 < client_port < 65536 and 0 < server_port < 65536):
            return None
        return cls(client, client_port, server, server_port)


def _plain(address: IPAddress) -> IPAddress:
    """IPv4 clients of a dual-stack socket appear as ``::ffff:a.b.c.d``: the same peer."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal(ssh_connection: str, system: SystemView | None = None) -> str | None:
    """None when the system confirms the variable, else why not (for the log and tests)."""
    system = system or SystemView()
    claim = Claim.parse(ssh_connection)
    if claim is None:
        return "SSH_CONNECTION illisible"
    sockets = list(_tcp_sockets(system.proc))
    if not sockets:
        return "table des connexions TCP illisible"
    if not _established_by_root(claim, sockets):
        return "aucune connexion TCP établie par root ne correspond à SSH_CONNECTION"
    if not _root_listens(claim, sockets):
        return "aucun service de root n'écoute sur le port de SSH_CONNECTION"
    chain = _ancestors(system.proc, system.own_pid)
    why = _session_refusal(chain, system.own_uid)
    if why:
        return why
    return _utmp_refusal(system, claim, {p.pid for p in chain})


@dataclass(frozen=True)
class _Socket:
    local: IPAddress
    local_port: int
    remote: IPAddress
    remote_port: int
    state: str
    uid: int


def _tcp_sockets(proc: Path) -> Iterator[_Socket]:
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / name).read_text(encoding="ascii").splitlines()[1:]
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            with contextlib.suppress(ValueError, IndexError):
                fields = line.split()
                local, local_port = _endpoint(fields[1])
                remote, remote_port = _endpoint(fields[2])
                yield _Socket(local, local_port, remote, remote_port, fields[3], int(fields[7]))


def _endpoint(text: str) -> tuple[IPAddress, int]:
    """``0100007F:0016`` → 127.0.0.1, 22: the address as the kernel's 32-bit words."""
    hex_address, hex_port = text.split(":")
    raw = bytes.fromhex(hex_address)
    if len(raw) not in (4, 16):
        raise ValueError(text)
    words = b"".join(
        int.from_bytes(raw[i : i + 4], sys.byteorder).to_bytes(4, "big")
        for i in range(0, len(raw), 4)
    )
    return _plain(ipaddress.ip_address(words)), int(hex_port, 16)


def encode_endpoint(address: str, port: int) -> str:
    """The inverse of ``_endpoint``, for fake ``/proc/net/tcp`` tables in tests."""
    packed = ipaddress.ip_address(address).packed
    words = b"".join(
        int.from_bytes(packed[i : i + 4], "big").to_bytes(4, sys.byteorder)
        for i in range(0, len(packed), 4)
    )
    return f"{words.hex().upper()}:{port:04X}"


def _established_by_root(claim: Claim, sockets: list[_Socket]) -> bool:
    return any(
        s.state == _ESTABLISHED
        and s.uid == 0
        and (s.local, s.local_port, s.remote, s.remote_port)
        == (claim.server, claim.server_port, claim.client, claim.client_port)
        for s in sockets
    )


def _root_listens(claim: Claim, sockets: list[_Socket]) -> bool:
    return any(
        s.state == _LISTEN
        and s.uid == 0
        and s.local_port == claim.server_port
        and (s.local == claim.server or s.local.is_unspecified)
        for s in sockets
    )


@dataclass(frozen=True)
class _Process:
    pid: int
    name: str
    uid: int
    parent: int


def _process(proc: Path, pid: int) -> _Process | None:
    try:
        text = (proc / str(pid) / "status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    try:
        return _Process(
            pid=pid,
            name=fields["Name"],
            uid=int(fields["Uid"].split()[0]),
            parent=int(fields["PPid"]),
        )
    except (KeyError, ValueError, IndexError):
        return None


def _ancestors(proc: Path, pid: int) -> list[_Process]:
    """This process, then its parent, and so on up to (not including) pid 1."""
    chain: list[_Process] = []
    while pid > 1 and len(chain) < _MAX_DEPTH:
        process = _process(proc, pid)
        if process is None:
            break
        chain.append(process)
        pid = process.parent
    return chain


def _session_refusal(chain: list[_Process], uid: int) -> str | None:
    for index, process in enumerate(chain):
        if process.name not in SSHD_NAMES:
            continue
        if process.uid != uid:
            return "la session sshd qui contient ce processus n'est pas celle de son utilisateur"
        monitor = chain[index + 1] if index + 1 < len(chain) else None
        if monitor is None or monitor.name not in SSHD_NAMES or monitor.uid != 0:
            return "la session sshd qui contient ce processus n'a pas été ouverte par root"
        return None
    return "ce processus ne tourne pas dans une session sshd"


def _tty(proc: Path, pid: int) -> str | None:
    """This session's terminal as utmp names it (``pts/0``), from standard input."""
    try:
        target = os.readlink(proc / str(pid) / "fd" / "0")
    except OSError:
        return None
    return target.removeprefix("/dev/") if target.startswith("/dev/") else None


def _utmp_refusal(system: SystemView, claim: Claim, chain: set[int]) -> str | None:
    """The utmp record of our terminal, when there is one, must be this session's."""
    line = _tty(system.proc, system.own_pid)
    if line is None:
        return None  # no terminal (``ssh host command``): sshd records no login
    try:
        data = system.utmp.read_bytes()
    except OSError:
        return None  # no utmp on this system: nothing more to compare
    record = None
    for fields in _UTMP.iter_unpack(data[: len(data) - len(data) % _UTMP.size]):
        kind, pid, ut_line = fields[0], fields[1], fields[2]
        if kind == _USER_PROCESS and ut_line.rstrip(b"\0").decode(errors="replace") == line:
            record = (pid, fields[-1])
    if record is None:
        return None
    pid, raw_address = record
    if pid not in chain:
        return f"l'enregistrement utmp de {line} appartient à une autre session"
    if any(raw_address) and _utmp_address(raw_address) != claim.client:
        return f"l'enregistrement utmp de {line} donne une autre adresse"
    return None


def _utmp_address(raw: bytes) -> IPAddress:
    """``ut_addr_v6``: an IPv4 address in its first four bytes, the rest zero."""
    if not any(raw[4:]):
        return ipaddress.IPv4Address(raw[:4])
    return _plain(ipaddress.IPv6Address(raw))


def encode_utmp(pid: int, line: str, address: str) -> bytes:
    """One USER_PROCESS record as sshd writes it, for fake utmp files in tests."""
    parsed = ipaddress.ip_address(address)
    raw = parsed.packed.ljust(16, b"\0")
    return _UTMP.pack(
        _USER_PROCESS, pid, line.encode(), b"ts/0", b"educonnect", address.encode(),
        0, 0, 0, 0, 0, raw,
    )  # fmt: skip
