"""Who a browser session is: the trust rule for a reverse proxy's headers, the way the
server tells a session's process, the websocket's origin, and the documents handed over."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict
from pydantic import ValidationError

from educonnect_tui.app import create_app
from educonnect_tui.domain.access import proxy
from educonnect_tui.domain.access.network import Connection, is_admin_network
from educonnect_tui.domain.documents import files
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings, TrustedProxy, settings_problem
from educonnect_tui.web import (
    EduConnectServer,
    Listening,
    SessionService,
    _content_disposition,
    allowed_origin,
    origin_of,
    startup_notes,
)
from tests.helpers import sync

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]
ADMIN = "10.20.0.0/16"


def _settings(**values: object) -> Settings:
    return Settings(
        database_url="sqlite://",
        admin_networks=[ipaddress.ip_network(ADMIN)],
        **values,  # type: ignore[arg-type]
    )


def _client(
    peer: str | None,
    forwarded_for: tuple[str, ...] = (),
    real_ip: tuple[str, ...] = (),
    trusted: list[TrustedProxy] | None = None,
) -> Connection:
    return proxy.client_connection(
        peer, forwarded_for, real_ip, LOOPBACK if trusted is None else trusted
    )


# -- the trust rule -----------------------------------------------------------------------


def test_an_untrusted_peer_is_itself_unverified_whatever_it_claims() -> None:
    connection = _client("10.20.0.5", ("10.20.0.7",), ("10.20.0.7",))
    assert connection == Connection("10.20.0.5", via_ssh=False, unverified=True, via_web=True)
    # Even a peer inside the administrative network: a direct connection always gets the code.
    assert not is_admin_network(connection, _settings())


def test_no_proxy_trusted_by_default() -> None:
    assert _settings().trusted_proxies == []
    connection = _client("127.0.0.1", ("10.20.0.7",), trusted=[])
    assert connection.unverified and connection.address == "127.0.0.1"


def test_a_trusted_proxy_reports_the_client_by_the_last_hop() -> None:
    # The first entries come from the browser: only the proxy's own (last) one counts.
    connection = _client("127.0.0.1", ("10.20.0.9, 203.0.113.5",))
    assert connection == Connection("203.0.113.5", via_ssh=False, via_web=True)
    assert not is_admin_network(connection, _settings())
    inside = _client("127.0.0.1", ("203.0.113.5, 10.20.0.9",), ("10.20.0.9",))
    assert inside == Connection("10.20.0.9", via_ssh=False, via_web=True)
    assert is_admin_network(inside, _settings())


def test_repeated_forwarded_for_headers_are_one_list() -> None:
    assert _client("127.0.0.1", ("10.20.0.9", "203.0.113.5")).address == "203.0.113.5"


def test_x_real_ip_alone_is_believed_from_a_trusted_proxy() -> None:
    assert _client("::1", (), ("10.20.0.9",)) == Connection("10.20.0.9", False, False, True)


@pytest.mark.parametrize(
    ("forwarded_for", "real_ip"),
    [
        (("10.20.0.9",), ("203.0.113.5",)),  # one header came from the browser
        ((), ("10.20.0.9", "10.20.0.9")),  # X-Real-IP twice: not the proxy's own
        (("not-an-address",), ()),
        (("10.20.0.9, ",), ("10.20.0.10",)),
        ((), ()),  # the proxy said nothing
    ],
)
def test_what_a_trusted_proxy_reports_badly_is_not_believed(
    forwarded_for: tuple[str, ...], real_ip: tuple[str, ...]
) -> None:
    connection = _client("127.0.0.1", forwarded_for, real_ip)
    assert connection.unverified and connection.via_web
    assert not is_admin_network(connection, _settings())


def test_a_claim_not_believed_is_kept_printable_and_short_for_the_trail() -> None:
    connection = _client("127.0.0.1", ("\x1b[31m" + "x" * 200,))
    assert connection.unverified
    assert connection.address is not None and "\x1b" not in connection.address
    assert len(connection.address) <= 64
    assert connection.label().endswith("(non confirmée)")


def test_addresses_in_canonical_form() -> None:
    # A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6.
    assert not _client("::ffff:127.0.0.1", ("10.20.0.9",)).unverified
    assert _client("127.0.0.1", ("[2001:db8::1]",)).address == "2001:db8::1"
    assert _client("127.0.0.1", ("::ffff:10.20.0.9",)).address == "10.20.0.9"
    assert _client(None, ("10.20.0.9",)) == Connection(None, False, True, True)


def test_trusted_proxies_setting_parses_like_admin_networks() -> None:
    assert (
        Settings(database_url="sqlite://", trusted_proxies="127.0.0.1/32, ::1/128").trusted_proxies
        == LOOPBACK
    )
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="sqlite://", trusted_proxies="127.0.0.1/33")
    problem = settings_problem(dict(refused.value.errors()[0]))
    assert problem.startswith("réglage EDUCONNECT_TRUSTED_PROXIES")


# -- the session's process ------------------------------------------------------------------

WEB = {"TEXTUAL_DRIVER": "educonnect_tui.web_session:SessionDriver"}


def test_the_child_reads_back_what_the_server_decided() -> None:
    for told in (
        Connection("10.20.0.9", via_ssh=False, via_web=True),
        Connection("127.0.0.1", via_ssh=False, unverified=True, via_web=True),
        Connection(None, via_ssh=False, unverified=True, via_web=True),
    ):
        environ = {**WEB, proxy.WEB_CONNECTION_VARIABLE: proxy.to_environment(told)}
        assert proxy.from_environment(environ) == told


def test_a_terminal_session_ignores_the_variable() -> None:
    told = proxy.to_environment(Connection("10.20.0.9", via_ssh=False, via_web=True))
    assert proxy.from_environment({proxy.WEB_CONNECTION_VARIABLE: told}) is None
    assert proxy.from_environment({}) is None


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "{",
        "[]",
        json.dumps({"address": 10}),
        json.dumps({"address": "10.20.0.9"}),  # « unverified » must be said false
        json.dumps({"address": "10.20.0.9", "unverified": "false"}),
        json.dumps({"address": "gateway", "unverified": False}),
    ],
)
def test_under_the_web_driver_anything_else_is_unverified(value: str | None) -> None:
    environ = dict(WEB) if value is None else {**WEB, proxy.WEB_CONNECTION_VARIABLE: value}
    connection = proxy.from_environment(environ)
    assert connection is not None and connection.via_web and connection.unverified
    assert not is_admin_network(connection, _settings(local_console_is_admin_network=True))


def test_the_session_process_gets_its_connection_and_none_of_sshd_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.20.0.1 5000 10.20.0.2 22")
    monkeypatch.setenv("SSH_CLIENT", "10.20.0.1 5000 22")
    monkeypatch.setenv(proxy.WEB_CONNECTION_VARIABLE, "stale")

    async def nothing(*args: object) -> None:
        return None

    told = Connection("203.0.113.5", via_ssh=False, via_web=True)
    service = SessionService(
        "true",
        write_bytes=nothing,
        write_str=nothing,
        close=nothing,
        download_manager=None,  # type: ignore[arg-type]
        connection=told,
    )
    environment = service._build_environment()
    assert "SSH_CONNECTION" not in environment and "SSH_CLIENT" not in environment
    assert environment["TEXTUAL_DRIVER"] == "educonnect_tui.web_session:SessionDriver"
    assert proxy.from_environment(environment) == told


# -- the websocket's origin, the downloads ----------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("https://educonnect.example.fr", True),
        ("https://EDUCONNECT.example.fr:443", True),
        ("http://educonnect.example.fr", False),
        ("https://evil.example.com", False),
        ("https://educonnect.example.fr.evil.example.com", False),
        ("https://educonnect.example.fr:8443", False),
        ("null", False),
        ("https://educonnect.example.fr:99999", False),
    ],
)
def test_only_the_service_page_opens_a_session(origin: str | None, allowed: bool) -> None:
    assert allowed_origin(origin, "https://educonnect.example.fr") is allowed


def test_origin_of_a_local_address() -> None:
    assert origin_of("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert origin_of("http://[::1]:8000/") == "http://[::1]:8000"


def test_a_download_keeps_its_accented_name() -> None:
    header = _content_disposition("élèves 3E1.pdf", "download")
    assert header.startswith('attachment; filename="_l_ves 3E1.pdf"; ')
    assert header.endswith("filename*=UTF-8''%C3%A9l%C3%A8ves%203E1.pdf")
    assert _content_disposition('a"b.csv', "browser").startswith('inline; filename="a_b.csv"')


# -- documents handed over once they exist ----------------------------------------------------


def test_a_publication_tells_of_its_documents_only_once_settled(tmp_path: Path) -> None:
    told: list[tuple[Path, ...]] = []
    at = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    kept = files.Publication(at, owner="test", settled=told.append)
    kept.stage(tmp_path / "a.pdf", b"%PDF")
    kept.stage(tmp_path / "a.csv", b"x;y")
    kept.publish()
    assert told == []
    kept.settle()
    assert told == [(tmp_path / "a.pdf", tmp_path / "a.csv")]

    undone = files.Publication(at, owner="test", settled=told.append)
    undone.stage(tmp_path / "b.pdf", b"%PDF")
    undone.publish()
    undone.undo()
    undone.settle()
    assert told == [(tmp_path / "a.pdf", tmp_path / "a.csv")]
    assert not (tmp_path / "b.pdf").exists()


def test_a_failure_to_hand_documents_over_never_undoes_them(
    services: Services, tmp_path: Path
) -> None:
    seen: list[tuple[Path, ...]] = []
    services.published((tmp_path / "a.pdf",))  # nobody listening: nothing happens

    def broken(paths: tuple[Path, ...]) -> None:
        seen.append(paths)
        raise RuntimeError("the app is closing")

    services.on_published = broken
    services.published((tmp_path / "a.pdf",))
    services.published(())
    assert seen == [(tmp_path / "a.pdf",)]


@sync
async def test_a_terminal_session_downloads_nothing(services: Services) -> None:
    app = create_app(services)
    async with app.run_test():
        assert not app.is_web
        assert services.on_published is None


# -- the Unix socket's peers ------------------------------------------------------------------

SOCKET_ONLY: list[TrustedProxy] = ["unix"]


def test_a_socket_peer_is_the_proxy_only_when_the_settings_say_unix() -> None:
    claims = (("203.0.113.5, 10.20.0.9",), ("10.20.0.9",))
    trusted = _client(proxy.SOCKET_PEER, *claims, trusted=SOCKET_ONLY)
    assert trusted == Connection("10.20.0.9", via_ssh=False, via_web=True)
    assert is_admin_network(trusted, _settings())
    # Loopback networks do not vouch for the socket: it has no address.
    for settings in (LOOPBACK, []):
        untrusted = _client(proxy.SOCKET_PEER, *claims, trusted=settings)
        assert untrusted == Connection("10.20.0.9", False, unverified=True, via_web=True)
        assert not is_admin_network(untrusted, _settings())
        assert untrusted.label() == "navigateur depuis 10.20.0.9 (non confirmée)"
    assert _client(proxy.SOCKET_PEER, trusted=[]) == Connection(None, False, True, True)


def test_unix_in_the_settings_vouches_for_no_tcp_peer() -> None:
    connection = _client("127.0.0.1", ("10.20.0.9",), ("10.20.0.9",), trusted=SOCKET_ONLY)
    assert connection == Connection("127.0.0.1", False, unverified=True, via_web=True)
    both = [*SOCKET_ONLY, *LOOPBACK]
    assert not _client("127.0.0.1", ("10.20.0.9",), trusted=both).unverified
    assert not _client(proxy.SOCKET_PEER, ("10.20.0.9",), trusted=both).unverified


def test_a_socket_peer_reporting_badly_is_not_believed() -> None:
    connection = _client(proxy.SOCKET_PEER, ("10.20.0.9",), ("203.0.113.5",), trusted=SOCKET_ONLY)
    assert connection.unverified


def test_trusted_proxies_may_name_the_unix_socket() -> None:
    assert Settings(database_url="sqlite://", trusted_proxies="unix").trusted_proxies == ["unix"]
    mixed = Settings(database_url="sqlite://", trusted_proxies=" UNIX , 127.0.0.1/32")
    assert mixed.trusted_proxies == ["unix", LOOPBACK[0]]
    # From the TOML file, as a list.
    assert Settings(database_url="sqlite://", trusted_proxies=["unix"]).trusted_proxies == ["unix"]
    # The administrative network is made of addresses: « unix » is not one.
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="sqlite://", admin_networks="unix")
    problem = settings_problem(dict(refused.value.errors()[0]))
    assert "« unix » n'est pas un réseau (CIDR attendu" in problem


def _request_on(sock: socket.socket, headers: dict[str, str]) -> Any:
    """What ``connection_of`` reads of a request: its transport's socket and peer, and its
    headers (a real socket underneath, so its family is the real one)."""

    class Transport:
        def get_extra_info(self, name: str) -> object:
            return {"socket": sock, "peername": sock.getpeername()}[name]

    return SimpleNamespace(transport=Transport(), headers=CIMultiDict(headers))


def test_the_server_tells_a_socket_peer_from_a_tcp_one() -> None:
    server = EduConnectServer(
        Listening("", 0, "https://educonnect.example.fr", Path("/run/educonnect/web.sock")),
        ["unix"],
        max_sessions=1,
    )
    headers = {"X-Forwarded-For": "10.20.0.9", "X-Real-IP": "10.20.0.9"}
    near, far = socket.socketpair(socket.AF_UNIX)
    with near, far:
        assert server.connection_of(_request_on(near, headers)) == Connection(
            "10.20.0.9", False, False, True
        )
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname()),
    ):
        accepted, _ = listener.accept()
        with accepted:
            connection = server.connection_of(_request_on(accepted, headers))
    assert connection == Connection("127.0.0.1", False, unverified=True, via_web=True)


def test_the_start_line_says_when_a_setting_looks_mistaken() -> None:
    on_socket = Listening("", 0, "https://educonnect.example.fr", Path("/run/e/web.sock"))
    on_tcp = Listening("127.0.0.1", 8000, "https://educonnect.example.fr")
    assert startup_notes(on_socket, ["unix"]) == []
    (note,) = startup_notes(on_socket, list(LOOPBACK))
    assert "ne contient pas « unix »" in note and "toujours demandé" in note
    (note,) = startup_notes(on_tcp, ["unix", *LOOPBACK])
    assert "trusted_proxies contient 127.0.0.1/32" in note and "--socket" in note
    assert "0.0.0.0/0" in startup_notes(on_tcp, [ipaddress.ip_network("0.0.0.0/0")])[0]
    assert startup_notes(on_tcp, [ipaddress.ip_network("10.1.2.3/32")]) == []
    assert startup_notes(on_tcp, []) == []
