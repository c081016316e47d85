"""Where a TUI session comes from, and whether that is the administrative network.

The school's administrative network stands in for the second factor (docs/domain.md,
« The administrative network »):
from inside it identifier and password suffice, from anywhere else the OTP key is
asked. The TUI runs behind sshd, which puts the client's address in ``SSH_CONNECTION``
(and the older ``SSH_CLIENT``); no variable means a local console.

Trust boundary: sshd sets these variables after any ``AcceptEnv``/``SetEnv``, so a remote
user cannot forge them. Whoever already has a shell on the server can, which is why the
address is believed only when the system shows a real sshd session carrying that
connection (``store/sshd_session.py``; otherwise the connection is ``unverified`` and
never administrative), and why a local console counts as administrative only when the
settings say so.

Anything that does not parse as an IP address is kept as text (for the audit trail,
where an odd value is itself worth seeing) and never counts as administrative.
"""

from __future__ import annotations

from enum import StrEnum

# Where a session comes from is read in store/connection.py, below the audit trail that
# records it for the command line too (``Actor.command_line``).
from ..store.connection import LOCAL_CONSOLE, Connection, current_connection
from ..store.settings import Settings


def is_admin_network(connection: Connection, settings: Settings) -> bool:
    if connection.unverified:
        return False
    if not connection.via_ssh and not connection.via_web:
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
