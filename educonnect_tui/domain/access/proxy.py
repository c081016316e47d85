"""A browser session's client: the address a trusted reverse proxy reported, or nothing.

``educonnect-tui serve`` (``educonnect_tui/web.py``) sits behind a reverse proxy that
terminates TLS, on a Unix socket (``--socket``, recommended) or on 127.0.0.1. The only
fact it knows for sure is the peer of the websocket's connection: on TCP, its address;
on the Unix socket, only that it could open the socket (its mode and group let only the
proxy's account do so). What the proxy says of the browser's address
(``X-Forwarded-For``, ``X-Real-IP``) is believed only when that peer is in
``trusted_proxies`` (a TCP address in one of its networks, or a socket peer when it holds
« unix »); anyone else can write those headers, so a session from anywhere else is
``unverified`` and always gets the OTP step (``network.is_admin_network``).

From a trusted proxy:

- ``X-Forwarded-For``: its last entry only, the one the proxy itself appended (or set);
  the entries before it come from the browser and prove nothing.
- ``X-Real-IP``: set (not appended) by the proxy; a single value.
- Both present and not the same address: one of them came from the browser through a
  proxy that does not overwrite it; nothing is believed. Neither present, several
  ``X-Real-IP``, or a value that is not an address: nothing is believed either.

What is not believed is still kept, cleaned and short, for the audit trail and the
« dernière connexion » line, marked « non confirmée ».

Each browser session runs the TUI in its own process; ``serve`` gives it the
connection it decided in ``WEB_CONNECTION_VARIABLE`` (``to_environment``), and the
child reads it back with ``from_environment``. docs/security.md says why that variable
cannot be set by a staff member, and what remains.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence

from ..store.connection import MAX_SOURCE_LENGTH, Connection
from ..store.settings import UNIX_SOCKET, TrustedProxy

# The peer of a connection that came through serve's Unix socket: it has no address.
SOCKET_PEER = UNIX_SOCKET

# The environment variable through which ``serve`` tells a session's process who its
# client is; the TUI's own process reads it only under Textual's web driver.
WEB_CONNECTION_VARIABLE = "EDUCONNECT_WEB_CONNECTION"
# Textual's web driver, as textual-serve names it (textual_serve/app_service.py), and
# the one ``serve`` gives its sessions instead (educonnect_tui/web_session.py).
WEB_DRIVERS = frozenset(
    {"textual.drivers.web_driver:WebDriver", "educonnect_tui.web_session:SessionDriver"}
)


def _address(text: str) -> str | None:
    """The address in canonical form (an IPv4-mapped IPv6 address as IPv4), or None."""
    value = text.strip()
    # A proxy may write an IPv6 address in brackets, or add the client's port.
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


def _clean(text: str) -> str | None:
    printable = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return printable[:MAX_SOURCE_LENGTH] or None


def is_trusted_proxy(peer: str | None, trusted: Sequence[TrustedProxy]) -> bool:
    """Whether the peer is one of the reverse proxies of the settings: a TCP address in
    one of its networks, or ``SOCKET_PEER`` when they name the Unix socket."""
    if peer == SOCKET_PEER:
        return UNIX_SOCKET in trusted
    address = _address(peer or "")
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(
        not isinstance(net, str) and ip.version == net.version and ip in net for net in trusted
    )


def client_connection(
    peer: str | None,
    forwarded_for: Sequence[str],
    real_ip: Sequence[str],
    trusted: Sequence[TrustedProxy],
) -> Connection:
    """The browser's connection, from the websocket's peer and the proxy's headers.

    ``peer`` is the TCP peer's address, or ``SOCKET_PEER`` for the Unix socket.
    ``forwarded_for`` and ``real_ip`` are every value of those headers, in order (a
    header may be repeated). Untrusted TCP peer: the peer itself, unverified (it is what
    really connected, and a direct connection never counts as the administrative network).
    Untrusted socket peer: it has no address of its own, so what it claims is kept,
    unverified, for the audit trail (« unix » missing from the settings by mistake still
    leaves the proxy's word there, never as the administrative network).
    """
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    claimed = [value for value in real_ip if value.strip()]
    last_hop = hops[-1] if hops else None
    candidates = [text for text in (last_hop, *claimed) if text is not None]
    if not is_trusted_proxy(peer, trusted):
        if peer == SOCKET_PEER:
            address = _clean(candidates[0]) if candidates else None
        else:
            address = _address(peer or "") or _clean(peer or "")
        return Connection(address=address, via_ssh=False, unverified=True, via_web=True)
    addresses = {_address(text) for text in candidates}
    if len(claimed) <= 1 and len(addresses) == 1 and None not in addresses:
        (address,) = addresses
        return Connection(address=address, via_ssh=False, via_web=True)
    shown = _clean(candidates[0]) if candidates else None
    return Connection(address=shown, via_ssh=False, unverified=True, via_web=True)


def to_environment(connection: Connection) -> str:
    """The value of ``WEB_CONNECTION_VARIABLE`` for a session's process."""
    return json.dumps({"address": connection.address, "unverified": connection.unverified})


def from_environment(environ: Mapping[str, str]) -> Connection | None:
    """A browser session's connection, or None when this process is not one.

    Under the web driver, a missing or unreadable variable is a browser whose client
    nobody vouched for (another launcher than ``serve``): unverified. Without the web
    driver the variable is ignored: a terminal session is sshd's or a console's.
    """
    if environ.get("TEXTUAL_DRIVER") not in WEB_DRIVERS:
        return None
    unknown = Connection(address=None, via_ssh=False, unverified=True, via_web=True)
    try:
        told = json.loads(environ.get(WEB_CONNECTION_VARIABLE, ""))
    except ValueError:
        return unknown
    if not isinstance(told, dict):
        return unknown
    address = told.get("address")
    if address is not None and not isinstance(address, str):
        return unknown
    unverified = told.get("unverified") is not False
    verified_address = _address(address) if address else None
    if verified_address is None:
        return Connection(
            address=_clean(address) if address else None,
            via_ssh=False,
            unverified=True,
            via_web=True,
        )
    return Connection(address=verified_address, via_ssh=False, unverified=unverified, via_web=True)
