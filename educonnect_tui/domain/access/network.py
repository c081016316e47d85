"""Where a TUI session comes from, and whether that is the administrative network.

The school's administrative network stands in for the second factor (docs/domain.md,
« The administrative network »):
from inside it identifier and password suffice, from anywhere else the OTP key is
asked. The TUI runs behind sshd, which puts the client's address in ``SSH_CONNECTION``
(and the older ``SSH_CLIENT``); no variable means a local console.

Trust boundary: sshd sets these variables after any ``AcceptEnv``/``SetEnv``, so a remote
user cannot forge them. Whoever already has a shell on the server can, which is why a
local console counts as administrative only when the settings say so.

Anything that does not parse as an IP address is kept as text (for the audit trail,
where an odd value is itself worth seeing) and never counts as administrative.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ..store.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOCAL_CONSOLE = "console locale"
UNKNOWN_SSH_SOURCE = "SSH (adresse inconnue)"
# The audit trail stores the source address in 64 characters.
MAX_SOURCE_LENGTH = 64


@dataclass(frozen=True)
class Connection:
    """The client of this session: its address as sshd reported it, None on a console."""

    address: str | None
    via_ssh: bool

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
        return UNKNOWN_SSH_SOURCE if self.via_ssh else LOCAL_CONSOLE

    def label(self) -> str:
        if not self.via_ssh:
            return LOCAL_CONSOLE
        if not self.address:
            return "SSH depuis une adresse inconnue"
        return f"SSH depuis {self.address}"


def _clean(text: str) -> str:
    """Printable and short enough for the audit column, whatever the variable held."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable[:MAX_SOURCE_LENGTH]


def current_connection(environ: Mapping[str, str] = os.environ) -> Connection:
    """The client of this process, from sshd's variables.

    ``SSH_CONNECTION`` is "client_ip client_port server_ip server_port" and
    ``SSH_CLIENT`` "client_ip client_port server_port": both start with the client.
    A variable that is present but blank is not a console: it is an SSH session whose
    address is unknown, so it never counts as administrative.
    """
    present = False
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        value = environ.get(name)
        if value is None:
            continue
        present = True
        fields = value.split()
        if fields:
            return Connection(address=_clean(fields[0]), via_ssh=True)
    if present:
        return Connection(address=None, via_ssh=True)
    return Connection(address=None, via_ssh=False)


def is_admin_network(connection: Connection, settings: Settings) -> bool:
    if not connection.via_ssh:
        return settings.local_console_is_admin_network
    ip = connection.ip
    if ip is None:
        return False
    return any(ip.version == net.version and ip in net for net in settings.admin_networks)


class NetworkMode(StrEnum):
    """How a sign-in meets the second factor: the network itself, or the OTP key."""

    ADMIN = "reseau_administratif"
    OTP = "otp"

    @property
    def label(self) -> str:
        return {"reseau_administratif": "réseau administratif", "otp": "clé OTP"}[self.value]


def network_mode(connection: Connection, settings: Settings) -> NetworkMode:
    return NetworkMode.ADMIN if is_admin_network(connection, settings) else NetworkMode.OTP


__all__ = [
    "LOCAL_CONSOLE",
    "Connection",
    "NetworkMode",
    "current_connection",
    "is_admin_network",
    "network_mode",
]
