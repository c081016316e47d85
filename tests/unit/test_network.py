"""Where a session comes from (sshd's variables) and whether that is the administrative network."""

from __future__ import annotations

import pytest

from educonnect_tui.domain.access.network import (
    Connection,
    NetworkMode,
    current_connection,
    is_admin_network,
    network_mode,
)
from educonnect_tui.domain.store.settings import Settings


def _settings(
    networks: str = "10.0.0.0/8,192.168.1.0/24,2001:db8:1::/48", console: bool = False
) -> Settings:
    return Settings(
        database_url="sqlite://",
        admin_networks=networks,  # type: ignore[arg-type]  # parsed like the environment
        local_console_is_admin_network=console,
    )


def test_ssh_connection_gives_the_client_address() -> None:
    """Parsed here; whether the system confirms it is tests/unit/test_sshd_session.py."""
    connection = current_connection({"SSH_CONNECTION": "10.1.2.3 52314 10.0.0.1 22"})
    # This test process is in no sshd session carrying that connection.
    assert connection == Connection(address="10.1.2.3", via_ssh=True, unverified=True)
    assert connection.source == "10.1.2.3"
    assert Connection(address="10.1.2.3", via_ssh=True).label() == "SSH depuis 10.1.2.3"


def test_ssh_client_is_used_when_ssh_connection_is_missing() -> None:
    connection = current_connection({"SSH_CLIENT": "192.168.1.20 40000 22"})
    assert connection == Connection(address="192.168.1.20", via_ssh=True, unverified=True)


def test_ssh_connection_wins_over_ssh_client() -> None:
    environ = {"SSH_CONNECTION": "10.1.2.3 1 10.0.0.1 22", "SSH_CLIENT": "203.0.113.9 1 22"}
    assert current_connection(environ).address == "10.1.2.3"


def test_no_variable_is_a_local_console() -> None:
    connection = current_connection({"HOME": "/root"})
    assert connection == Connection(address=None, via_ssh=False)
    assert connection.label() == "console locale"
    assert connection.source == "console locale"


def test_ipv6_client() -> None:
    connection = current_connection({"SSH_CONNECTION": "2001:db8:1::42 50000 2001:db8::1 22"})
    assert connection.address == "2001:db8:1::42"
    confirmed = Connection(address=connection.address, via_ssh=True)
    assert confirmed.label() == "SSH depuis 2001:db8:1::42"
    assert is_admin_network(confirmed, _settings())


def test_ipv4_mapped_ipv6_client_matches_ipv4_networks() -> None:
    connection = current_connection({"SSH_CONNECTION": "::ffff:10.1.2.3 50000 ::1 22"})
    assert connection.address == "::ffff:10.1.2.3"
    assert is_admin_network(Connection(address=connection.address, via_ssh=True), _settings())


@pytest.mark.parametrize(
    "value",
    ["garbage 1 2 3", "10.1.2 1 2 3", "10.1.2.3/8 1 2 3", "x" * 500, "10.1.2.3\x1b[31m 1"],
)
def test_garbage_is_kept_as_text_and_never_admin(value: str) -> None:
    connection = current_connection({"SSH_CONNECTION": value})
    assert connection.via_ssh
    assert connection.address
    assert len(connection.address) <= 64
    assert connection.address.isprintable()
    assert connection.ip is None
    assert not is_admin_network(connection, _settings(networks="0.0.0.0/0,::/0"))


def test_blank_ssh_variable_is_ssh_from_nowhere_not_a_console() -> None:
    connection = current_connection({"SSH_CONNECTION": "  "})
    assert connection == Connection(address=None, via_ssh=True)
    assert connection.source == "SSH (adresse inconnue)"
    assert not is_admin_network(connection, _settings(console=True))


@pytest.mark.parametrize(
    ("address", "admin"),
    [
        ("10.1.2.3", True),
        ("10.255.255.255", True),
        ("11.0.0.1", False),
        ("192.168.1.200", True),
        ("192.168.2.1", False),
        ("203.0.113.9", False),
        ("2001:db8:1:ffff::1", True),
        ("2001:db8:2::1", False),
    ],
)
def test_admin_network_is_inside_a_configured_cidr(address: str, admin: bool) -> None:
    connection = Connection(address=address, via_ssh=True)
    assert is_admin_network(connection, _settings()) is admin
    assert network_mode(connection, _settings()) is (
        NetworkMode.ADMIN if admin else NetworkMode.OTP
    )


def test_no_networks_configured_means_never_admin_over_ssh() -> None:
    assert not is_admin_network(Connection("10.1.2.3", True), _settings(networks=""))


def test_local_console_is_admin_only_when_configured() -> None:
    console = Connection(address=None, via_ssh=False)
    assert not is_admin_network(console, _settings())
    assert is_admin_network(console, _settings(console=True))


def test_network_mode_labels_are_french() -> None:
    assert NetworkMode.ADMIN.label == "réseau administratif"
    assert NetworkMode.OTP.label == "clé OTP"
    assert NetworkMode.ADMIN.value == "reseau_administratif"
    assert NetworkMode.OTP.value == "otp"
