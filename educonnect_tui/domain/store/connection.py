"""Where this process's user comes from: sshd's variables, or a local console.

The rules about it (trust boundary, the administrative network) are described in
``access/network.py``; the parsing lives here, below the audit trail, because the
command line's actor records it too (``store.audit.Actor.command_line``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from . import sshd_session
from .sshd_session import SystemView

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOCAL_CONSOLE = "console locale"
UNKNOWN_SSH_SOURCE = "SSH (adresse inconnue)"
UNKNOWN_WEB_SOURCE = "navigateur (adresse inconnue)"
log = logging.getLogger("educonnect_tui")
# The audit trail stores the source address in 64 characters.
MAX_SOURCE_LENGTH = 64


@dataclass(frozen=True)
class Connection:
    """The client of this session: its address as sshd reported it, None on a console.

    ``unverified``: the address is only what the environment claims; the system did not
    confirm that a real sshd session carries it (``current_connection``), so it never
    counts as the administrative network. ``via_web``: a browser session of
    ``educonnect-tui serve``, whose address is the one a trusted reverse proxy reported
    (``unverified`` when the proxy is not trusted or reported nothing usable).
    """

    address: str | None
    via_ssh: bool
    unverified: bool = False
    via_web: bool = False

    @property
    def ip(self) -> IPAddress | None:
        """The parsed address; an IPv4-mapped IPv6 address is its IPv4 address.

        Dual-stack sshd reports IPv4 clients as ``::ffff:a.b.c.d``; schools write their
        networks in IPv4, so the mapped form must match them.
        """
        if not self.address:
            return None
        try:
            parsed = ipaddress.ip_address(self.address)
        except ValueError:
            return None
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            return parsed.ipv4_mapped
        return parsed

    @property
    def source(self) -> str:
        """What the audit trail records as the source address."""
        if self.address:
            return self.address
        if self.via_web:
            return UNKNOWN_WEB_SOURCE
        return UNKNOWN_SSH_SOURCE if self.via_ssh else LOCAL_CONSOLE

    def label(self) -> str:
        if self.via_web:
            where = f"navigateur depuis {self.address}" if self.address else UNKNOWN_WEB_SOURCE
            return f"{where} (non confirmée)" if self.unverified and self.address else where
        if not self.via_ssh:
            return LOCAL_CONSOLE
        if not self.address:
            return "SSH depuis une adresse inconnue"
        if self.unverified:
            return f"SSH depuis {self.address} (non confirmée)"
        return f"SSH depuis {self.address}"


def _clean(text: str) -> str:
    """Printable and short enough for the audit column, whatever the variable held."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable[:MAX_SOURCE_LENGTH]


def current_connection(
    environ: Mapping[str, str] = os.environ, system: SystemView | None = None
) -> Connection:
    """The client of this process, from sshd's variables, checked against the system.

    ``SSH_CONNECTION`` is "client_ip client_port server_ip server_port" and
    ``SSH_CLIENT`` "client_ip client_port server_port": both start with the client.
    A variable that is present but blank is not a console: it is an SSH session whose
    address is unknown, so it never counts as administrative.

    The address is believed only when ``sshd_session.refusal`` finds a real sshd session
    carrying that connection (``system``: the real ``/proc`` unless a test gives one);
    otherwise it is kept, marked unverified, for the audit trail and never counts as the
    administrative network. ``SSH_CLIENT`` alone lacks the server's address, so it can
    never be confirmed.
    """
    present = False
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        value = environ.get(name)
        if value is None:
            continue
        present = True
        fields = value.split()
        if fields:
            why = (
                sshd_session.refusal(value, system)
                if name == "SSH_CONNECTION"
                else "SSH_CLIENT sans SSH_CONNECTION"
            )
            if why:
                log.warning("adresse SSH non confirmée (%s)\u00a0: %s", _clean(fields[0]), why)
            confirmed = why is None
            return Connection(address=_clean(fields[0]), via_ssh=True, unverified=not confirmed)
    if present:
        return Connection(address=None, via_ssh=True)
    return Connection(address=None, via_ssh=False)
