"""``educonnect-tui serve``: the same TUI in a browser, one process per browser session.

textual-serve does the work: an aiohttp server whose page runs xterm.js, and for each
websocket a child process running the app under Textual's web driver
(``textual_serve/app_service.py``). This module adds what a server of minors'
credentials needs on top:

- who the browser is: the websocket's TCP peer and the proxy's headers go through the
  trust rule (``domain/access/proxy.py``), and the child is told the result in its
  environment, from which sshd's variables are removed (a ``serve`` started in an SSH
  session must not lend that session's address to every browser);
- downloads that are not kept by the browser or a cache (« Cache-Control: no-store »:
  they hold passwords), with a file name that survives accents;
- a page in French that loads nothing from another site (the stock one asks Google
  for a font, telling it who uses the service);
- a cap on simultaneous sessions (each one is a process), and the French messages of
  the command line for what cannot listen;
- a Unix socket to listen on (``bind_unix``), so that only the proxy's account can
  reach serve: on 127.0.0.1, every local account can, and could claim any address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import socket
import stat
import sys
import urllib.parse
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from .domain.access import proxy
from .domain.store.connection import Connection
from .domain.store.settings import UNIX_SOCKET, TrustedProxy
from .web_session import SESSION_DRIVER

log = logging.getLogger("educonnect_tui.web")

TITLE = "EduConnect — Administration des comptes"
TEMPLATES = Path(str(resources.files("educonnect_tui") / "web_templates"))
# Variables a child must not inherit: sshd's (the address of whoever started serve).
NOT_INHERITED = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK")
FOREIGN_PAGE = "Cette page n'est pas celle du service\u00a0: session refusée."
FULL = "Trop de sessions ouvertes sur ce serveur\u00a0: réessayez dans un moment."
# The Unix socket's mode: its owner (the service) and its group (the proxy's) only.
SOCKET_MODE = 0o660


@dataclass(frozen=True)
class Listening:
    """Where serve listens (``host:port``, or ``socket_path``), and the address browsers
    use (the proxy's ``https://``)."""

    host: str
    port: int
    public_url: str
    socket_path: Path | None = None

    @property
    def where(self) -> str:
        if self.socket_path is not None:
            return f"la socket {self.socket_path}"
        return local_url(self.host, self.port)


class SessionService(AppService):
    """One browser session's app process, told its connection and nothing of sshd's."""

    def __init__(self, *args: Any, connection: Connection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment["TEXTUAL_DRIVER"] = SESSION_DRIVER
        for name in NOT_INHERITED:
            environment.pop(name, None)
        environment[proxy.WEB_CONNECTION_VARIABLE] = proxy.to_environment(self.connection)
        return environment


def startup_notes(listening: Listening, trusted: list[TrustedProxy]) -> list[str]:
    """What the start line adds about the trust the settings give, where a setting looks
    mistaken: a socket no setting trusts, or a loopback network every local account can
    speak from."""
    if listening.socket_path is not None:
        if UNIX_SOCKET not in trusted:
            return [
                "educonnect-tui\u00a0: trusted_proxies ne contient pas « unix »\u00a0: "
                "le code à usage unique sera toujours demandé aux navigateurs."
            ]
        return []
    loopback = [
        str(net)
        for net in trusted
        if not isinstance(net, str) and (net.is_loopback or net.network_address.is_unspecified)
    ]
    if loopback:
        return [
            f"educonnect-tui\u00a0: attention\u00a0: trusted_proxies contient {loopback[0]}\u00a0: "
            "tout compte local de cette machine peut se faire passer pour le proxy "
            "(préférez --socket, docs/security.md)."
        ]
    return []


def local_url(host: str, port: int) -> str:
    """The address serve listens on, as a URL (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` as a browser writes it in « Origin » (default port left out)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def allowed_origin(origin: str | None, public_url: str) -> bool:
    """Whether a websocket may open: a browser always says which page opens it, and only
    the service's own page may. Another site's page, opened by a member of staff inside
    the administrative network, would otherwise sign in from their address (no code
    asked) with a stolen password. A client that is not a browser sends no « Origin »:
    it gains nothing, it connects from its own address."""
    if origin is None:
        return True
    try:
        return origin_of(origin) == origin_of(public_url)
    except ValueError:
        return False


def _content_disposition(file_name: str, open_method: str) -> str:
    """RFC 6266: an ASCII fallback, and the real name (accents) for every browser today."""
    disposition = "inline" if open_method == "browser" else "attachment"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name
    )
    quoted = urllib.parse.quote(file_name, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"


class EduConnectServer(Server):
    def __init__(
        self,
        listening: Listening,
        trusted_proxies: list[TrustedProxy],
        *,
        max_sessions: int,
        command: str | None = None,
    ) -> None:
        super().__init__(
            # ``exec``: the session's process is serve's own child, not a shell's.
            command or "exec " + shlex.join([sys.executable, "-m", "educonnect_tui"]),
            host=listening.host,
            port=listening.port,
            title=TITLE,
            public_url=listening.public_url,
            templates_path=TEMPLATES,
        )
        self.listening = listening
        self.trusted_proxies = trusted_proxies
        self.max_sessions = max_sessions
        self.sessions = 0

    def connection_of(self, request: web.Request) -> Connection:
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport else None
        peer = transport.get_extra_info("peername") if transport else None
        if sock is not None and sock.family == socket.AF_UNIX:
            peer_address: str | None = proxy.SOCKET_PEER
        else:
            peer_address = peer[0] if isinstance(peer, tuple) and peer else None
        return proxy.client_connection(
            peer_address,
            request.headers.getall("X-Forwarded-For", []),
            request.headers.getall("X-Real-IP", []),
            self.trusted_proxies,
        )

    async def on_startup(self, app: web.Application) -> None:
        print(
            f"educonnect-tui\u00a0: à l'écoute sur {self.listening.where} "
            f"(adresse publique\u00a0: {self.public_url})\u00a0; Ctrl-C pour arrêter.",
            flush=True,
        )
        for note in startup_notes(self.listening, self.trusted_proxies):
            print(note, flush=True)

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        try:
            meta = await self.download_manager.get_download_metadata(key)
        except KeyError:
            raise web.HTTPNotFound(text="Document introuvable (déjà téléchargé\u00a0?).") from None
        response = web.StreamResponse()
        content_type = meta.mime_type
        if meta.encoding:
            content_type += f"; charset={meta.encoding}"
        response.headers["Content-Type"] = content_type
        response.headers["Content-Disposition"] = _content_disposition(
            meta.file_name, meta.open_method
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        await response.prepare(request)
        async for chunk in self.download_manager.download(key):
            await response.write(chunk)
        await response.write_eof()
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with the session's connection and the cap."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        connection = self.connection_of(request)
        if not allowed_origin(request.headers.get("Origin"), self.public_url):
            log.warning("session refusée\u00a0: page d'un autre site")
            raise web.HTTPForbidden(text=FOREIGN_PAGE)
        await websocket.prepare(request)
        if self.sessions >= self.max_sessions:
            log.warning("session refusée (%d ouvertes)", self.sessions)
            await websocket.send_bytes(f"\r\n{FULL}\r\n".encode())
            await websocket.close()
            return websocket
        self.sessions += 1
        service: SessionService | None = None
        try:
            service = SessionService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
                connection=connection,
            )
            log.info("session ouverte (%s)", connection.label())
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.error("session interrompue\u00a0: %s", type(error).__name__)
        finally:
            self.sessions -= 1
            if service is not None:
                with contextlib.suppress(Exception):
                    await service.stop()
        return websocket

    def serve_on(self, sock: socket.socket) -> None:
        """Serve on a socket already bound (so a busy port was told in French before)."""

        def stop() -> None:
            raise GracefulExit()

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            with contextlib.suppress(NotImplementedError, AttributeError):
                loop.add_signal_handler(getattr(signal, name), stop)
        web.run_app(
            self._make_app(),
            sock=sock,
            handle_signals=False,
            loop=loop,
            print=lambda *args: None,
            # No access log: a download's URL is its only key (the proxy logs the rest).
            access_log=None,
            shutdown_timeout=5,
        )
        if self.listening.socket_path is not None:
            _remove_own_socket(self.listening.socket_path)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; OSError says why not (caller words it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, protocol, _, address = infos[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(False)
    os.set_blocking(sock.fileno(), False)
    return sock


class SocketRefused(Exception):
    """Why serve cannot listen on a Unix socket's path, in French (nothing was removed)."""


def _stale(path: Path) -> bool:
    """Whether a socket file is left over (nothing accepts on it) rather than in use."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return True  # nothing accepts on it, or it went meanwhile
    except PermissionError:
        raise SocketRefused(
            f"« {path} » est une socket que ce compte ne peut pas ouvrir\u00a0: "
            "elle n'est pas la sienne, rien n'a été supprimé"
        ) from None
    except OSError:
        return False  # busy (a full queue, a timeout): someone is there
    finally:
        probe.close()
    return False


def _check_path(path: Path) -> None:
    """Refuse a path that is taken, or whose folder others could change under us; a
    socket nothing listens on (serve killed) is removed, nothing else ever is."""
    folder = path.parent
    try:
        folder_stat = os.stat(folder)
    except FileNotFoundError:
        raise SocketRefused(f"le dossier {folder} n'existe pas") from None
    if not stat.S_ISDIR(folder_stat.st_mode):
        raise SocketRefused(f"{folder} n'est pas un dossier")
    if folder_stat.st_mode & 0o022 and not folder_stat.st_mode & stat.S_ISVTX:
        # Another account could put its own socket there, and the proxy would hand it
        # the staff's passwords.
        raise SocketRefused(
            f"le dossier {folder} est modifiable par d'autres comptes\u00a0: "
            "choisissez un dossier du service (ex. /run/educonnect)"
        )
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(found.st_mode):
        raise SocketRefused(
            f"« {path} » existe et n'est pas une socket\u00a0: rien n'a été supprimé, "
            "choisissez un autre chemin"
        )
    if not _stale(path):
        raise SocketRefused(
            f"un serveur écoute déjà sur la socket {path}\u00a0: arrêtez-le ou "
            "choisissez un autre chemin"
        )
    path.unlink(missing_ok=True)
    log.info("socket abandonnée remplacée\u00a0: %s", path)


def bind_unix(path: Path, group: int | None = None) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0660, of ``group`` when given.

    The file is created 0600 (``umask``, whatever the caller's), given its group, then
    opened to it, and only then listens: it is never wider than 0660, nor of another
    group, while anyone can connect. SocketRefused says why a path cannot be used;
    OSError why binding or the group failed (the caller words it). A socket created
    here and then refused its group is removed.
    """
    _check_path(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        previous = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(previous)
        try:
            if group is not None:
                os.chown(path, -1, group, follow_symlinks=False)
            os.chmod(path, SOCKET_MODE)
            sock.listen(128)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(False)
    os.set_blocking(sock.fileno(), False)
    return sock


def _remove_own_socket(path: Path) -> None:
    """At the end, the socket file goes (a next start then finds nothing in the way)."""
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            path.unlink()
