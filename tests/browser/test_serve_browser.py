"""``educonnect-tui serve`` in a real headless Chromium: sign-in, notification, download.

The server is the real command (a subprocess on a free port of 127.0.0.1) over a
SQLite database built with the factories; the browser is the distribution's Chromium
driven by Playwright (never a downloaded one). What the page shows is read from the
terminal output the websocket carries (xterm.js draws on a canvas, not in the DOM).

Skipped with the reason where Chromium or Playwright is missing, unless
``EDUCONNECT_REQUIRE_CHROMIUM=1`` (``.ci/run``): then it fails.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from educonnect_tui.domain.model.enums import AccountState
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import KEY_FILE_NAME, Settings
from tests import factories
from tests.certificates import self_signed
from tests.conftest import FAST_HASH
from tests.helpers import missing
from tests.mail_server import free_port

CHROMIUM = Path(os.environ.get("EDUCONNECT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where the screenshot and the downloaded PDF are kept for a person to look at; by default
# the test's own temporary folder.
EVIDENCE = os.environ.get("EDUCONNECT_BROWSER_EVIDENCE")
PUPILS = (("Anne", "Bernard"), ("Chloé", "Durand"), ("Éric", "Faure"))
# A forged header: from an untrusted peer it must change nothing.
FORGED = "198.51.100.7"
WAIT = 20.0


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium introuvable ({CHROMIUM}) : apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright absent ({error}) : pip install -e .[test]"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    reason = _missing()
    if reason:
        missing("CHROMIUM", reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass(frozen=True)
class School:
    environment: dict[str, str]
    services: Services
    login: str
    password: str
    totp_secret: str
    pupil_logins: tuple[str, ...]
    output: Path
    config: Path


@pytest.fixture
def school(sqlite_url: str, tmp_path: Path) -> Iterator[School]:
    """Class 6E1 with three pupils and a principal with a personal password, on disk."""
    output = tmp_path / "documents"
    output.mkdir(mode=0o700)
    key = tmp_path / KEY_FILE_NAME
    services = Services.from_settings(
        Settings(database_url=sqlite_url, output_dir=output, key_file=key),
        hash_params=FAST_HASH,
    )
    services.upgrade()
    logins = []
    with services.sessions() as session, session.begin():
        establishment = factories.school(session)
        for first, last in PUPILS:
            account = factories.pupil(session, establishment, first_name=first, last_name=last)
            logins.append(account.login)
    principal = factories.staff_member(services)
    environment = {
        key_: value
        for key_, value in os.environ.items()
        if not key_.startswith(("EDUCONNECT_", "SSH_"))
    }
    # Access settings come from the settings file only (never the environment).
    config = tmp_path / "config.toml"
    config.write_text('admin_networks = "198.51.100.0/24"\n', encoding="utf-8")
    environment.update(
        EDUCONNECT_CONFIG=str(config),
        EDUCONNECT_DATABASE_URL=sqlite_url,
        EDUCONNECT_KEY_FILE=str(key),
        EDUCONNECT_OUTPUT_DIR=str(output),
        EDUCONNECT_LOG_FILE=str(tmp_path / "educonnect.log"),
        EDUCONNECT_HASH_WORKERS="1",
    )
    yield School(
        environment,
        services,
        principal.login,
        principal.password,
        principal.totp_secret,
        tuple(logins),
        output,
        config,
    )
    services.engine.dispose()


@contextlib.contextmanager
def serving(
    environment: dict[str, str],
    *,
    port: int | None = None,
    public_url: str | None = None,
    unix_socket: Path | None = None,
    socket_group: str | None = None,
) -> Iterator[str]:
    """``educonnect-tui serve`` on a free port, or on ``unix_socket``; its URL once it
    answers (the public one for a socket: only the proxy reaches it)."""
    command = [sys.executable, "-m", "educonnect_tui", "serve"]
    if unix_socket is not None:
        command += ["--socket", str(unix_socket)]
        if socket_group:
            command += ["--socket-group", socket_group]
    else:
        port = port or free_port()
        command += ["--port", str(port)]
    if public_url:
        command += ["--public-url", public_url]
    server = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}" if unix_socket is None else str(public_url)
    try:
        deadline = time.monotonic() + WAIT
        while not _answers(port, unix_socket):
            if server.poll() is not None or time.monotonic() > deadline:
                if server.poll() is None:  # its output ends only with it
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"serve n'a pas démarré : {output}")
            time.sleep(0.1)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _answers(port: int | None, unix_socket: Path | None) -> bool:
    """Whether serve answers its page, on TCP or on its socket."""
    if unix_socket is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(unix_socket))
            probe.sendall(b"GET / HTTP/1.0\r\nHost: educonnect\r\n\r\n")
            return probe.recv(64).startswith((b"HTTP/1.0 200", b"HTTP/1.1 200"))
        except OSError:
            return False


# CSI sequences, OSC strings, charset selections, any other two-byte escape.
_CONTROL = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b."
)


class Screen:
    """What the app drew, as text: the websocket's terminal output without escapes."""

    def __init__(self) -> None:
        self.text = ""
        self.requested: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self.text += _CONTROL.sub(" ", self._decoder.decode(payload))

    def wait_for(self, wanted: str, page: Any, *, since: int = 0) -> int:
        """Until ``wanted`` is drawn after position ``since``; where it ends."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = self.text.find(wanted, since)
            if found >= 0:
                return found + len(wanted)
            page.wait_for_timeout(50)
        raise AssertionError(f"« {wanted} » jamais affiché ; fin de l'écran : {self.text[-600:]!r}")


def _open(chromium: Any, url: str, headers: dict[str, str]) -> tuple[Any, Any, Screen]:
    context = chromium.new_context(
        accept_downloads=True,
        ignore_https_errors=True,  # the throwaway certificate behind nginx
        viewport={"width": 1280, "height": 800},
        extra_http_headers=headers,
    )
    page = context.new_page()
    screen = Screen()
    page.on("websocket", lambda ws: ws.on("framereceived", screen.received))
    page.on("request", lambda request: screen.requested.append(request.url))
    page.goto(url)
    return context, page, screen


def _type(page: Any, text: str) -> None:
    page.keyboard.type(text, delay=5)


def _sign_in(page: Any, screen: Screen, school: School, code: Callable[[], str] | None) -> int:
    at = screen.wait_for("Identifiant", page)
    page.locator(".xterm-helper-textarea").focus()
    _type(page, school.login)
    page.keyboard.press("Enter")
    _type(page, school.password)
    page.keyboard.press("Enter")
    if code is not None:
        at = screen.wait_for("Code à 6 chiffres", page, since=at)
        _type(page, code())
        page.keyboard.press("Enter")
    return screen.wait_for("6E1", page, since=at)


def _sign_in_source(services: Services) -> tuple[str | None, dict[str, Any]]:
    with services.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        return event.source_address, dict(event.details or {})


@dataclass(frozen=True)
class Delivered:
    names: list[str]
    pdf: Path
    text: str


def _notify_and_download(page: Any, screen: Screen, at: int, folder: Path) -> Delivered:
    """Tick the 6e level, check every pupil shown, notify: the documents come as downloads."""
    downloads: list[Any] = []
    page.on("download", lambda download: downloads.append(download))
    page.keyboard.press("c")
    page.keyboard.press("Space")
    at = screen.wait_for("3 affichés", page, since=at)
    page.keyboard.press("Escape")  # back to the list of accounts
    # Not at once: ESC then « a » read together are Alt+A.
    page.wait_for_timeout(300)
    page.keyboard.press("a")
    # Only what changed is drawn again: « 0 coché » becomes « 3 » and « cochés ».
    at = screen.wait_for("cochés", page, since=at)
    page.keyboard.press("n")
    screen.wait_for("3 comptes", page, since=at)
    with page.expect_download(timeout=WAIT * 1000):
        page.keyboard.press("Enter")
    deadline = time.monotonic() + WAIT
    while len(downloads) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    pdf = next(d for d in downloads if d.suggested_filename.endswith(".pdf"))
    folder.mkdir(parents=True, exist_ok=True)
    saved = folder / pdf.suggested_filename
    pdf.save_as(saved)
    saved.chmod(0o600)  # passwords, even a test's
    text = "\n".join(page_.extract_text() for page_ in PdfReader(saved).pages)
    return Delivered(sorted(d.suggested_filename for d in downloads), saved, text)


def _check_documents(school: School, delivered: Delivered) -> None:
    """Both documents downloaded; the PDF names every pupil with their login; the server
    holds the same bytes (0600); the accounts are notified."""
    assert len(delivered.names) == 2, delivered.names
    assert any(n.endswith(".csv") for n in delivered.names), delivered.names
    for (first_name, last_name), login in zip(PUPILS, school.pupil_logins, strict=True):
        assert f"{last_name.upper()} {first_name}" in delivered.text
        assert login in delivered.text
    written = sorted(school.output.rglob("*.pdf"))
    assert [p.name for p in written] == [delivered.pdf.name]
    assert written[0].read_bytes() == delivered.pdf.read_bytes()
    assert oct(written[0].stat().st_mode & 0o777) == "0o600"
    with school.services.sessions() as session:
        states = set(session.scalars(select(Account.state)))
    assert states == {AccountState.NOTIFIED}


def test_sign_in_with_totp_notify_and_download_the_pdf(
    chromium: Any, school: School, tmp_path: Path
) -> None:
    evidence = Path(EVIDENCE) if EVIDENCE else tmp_path / "evidence"
    with serving(school.environment) as url:
        # No proxy is trusted: the forged X-Forwarded-For, though inside the
        # administrative network, changes nothing (the code is asked).
        context, page, screen = _open(chromium, url, {"X-Forwarded-For": FORGED})
        try:
            at = _sign_in(page, screen, school, pyotp.TOTP(school.totp_secret).now)
            evidence.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(evidence / "signed-in.png"))
            assert _sign_in_source(school.services)[0] == "127.0.0.1"
            delivered = _notify_and_download(page, screen, at, evidence)
        finally:
            context.close()
        # The page, its script, styles and font, the websocket, the downloads: all the
        # service's own; nothing asked of another site (a font service would learn who
        # uses it).
        foreign = [
            u for u in screen.requested if not u.startswith((url, url.replace("http", "ws")))
        ]
        assert not foreign, foreign
        assert any("/static/fonts/" in u for u in screen.requested), screen.requested
    (evidence / "download.txt").write_text(
        f"Téléchargements\u00a0: {', '.join(delivered.names)}\n\n{delivered.text}\n",
        encoding="utf-8",
    )
    _check_documents(school, delivered)


def test_a_trusted_proxy_from_the_admin_network_skips_the_code(
    chromium: Any, school: School
) -> None:
    school.config.write_text(
        'admin_networks = "198.51.100.0/24"\ntrusted_proxies = "127.0.0.1/32"\n', encoding="utf-8"
    )
    with serving(school.environment) as url:
        context, page, screen = _open(
            chromium, url, {"X-Forwarded-For": FORGED, "X-Real-IP": FORGED}
        )
        try:
            _sign_in(page, screen, school, None)
        finally:
            context.close()
    assert _sign_in_source(school.services)[0] == FORGED


# -- behind the real nginx, with deploy/nginx/educonnect.conf --------------------------------

NGINX = Path("/usr/sbin/nginx")
SNIPPET = Path(__file__).parents[2] / "deploy" / "nginx" / "educonnect.conf"
OUTSIDE = "203.0.113.9"


def _site(snippet: str, replacements: dict[str, str]) -> str:
    """The deployed snippet with this test's ports and files; each line it changes must be
    there exactly once, so that a change to the snippet is seen here, not tested around."""
    for old, new in replacements.items():
        assert snippet.count(old) == 1, f"{old!r} n'est plus dans {SNIPPET}"
        snippet = snippet.replace(old, new)
    return snippet


@contextlib.contextmanager
def nginx_in_front(folder: Path, unix_socket: Path) -> Iterator[tuple[str, Path]]:
    """nginx on a free port of 127.0.0.1 with the deployed site, in front of serve's
    ``unix_socket``; its URL and access log. As root, its workers run as www-data, as
    Debian's do: they reach the socket through its group only."""
    if not NGINX.exists():
        missing("CHROMIUM", f"nginx absent ({NGINX})\u00a0: apt-get install nginx-light")
    folder.mkdir()
    cert, key = self_signed(folder, "fullchain.pem", "privkey.pem")
    https_port, http_port = free_port(), free_port()
    site = _site(
        SNIPPET.read_text(),
        {
            "server unix:/run/educonnect/web.sock;": f"server unix:{unix_socket};",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/ssl/educonnect/fullchain.pem": str(cert),
            "/etc/ssl/educonnect/privkey.pem": str(key),
        },
    )
    (folder / "site.conf").write_text(site)
    access_log = folder / "access.log"
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    main = f"""
{"user www-data www-data;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {access_log};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/site.conf;
}}
"""
    (folder / "nginx.conf").write_text(main)
    checked = subprocess.run(
        [str(NGINX), "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(
        [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        with socket.socket() as probe:
            while probe.connect_ex(("127.0.0.1", https_port)) != 0:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"nginx n'a pas démarré : {server.stderr.read() if server.stderr else ''}"
                    )
                time.sleep(0.05)
        yield f"https://127.0.0.1:{https_port}", access_log
    finally:
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def socket_folder() -> Iterator[Path]:
    """Where serve puts its socket, as /run/educonnect: others may traverse it (nginx's
    workers), only its owner may write it (``tmp_path`` is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="educonnect-run-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_behind_nginx_the_proxy_decides_the_address_and_downloads_go_unlogged(
    chromium: Any, school: School, tmp_path: Path, socket_folder: Path
) -> None:
    """The deployed snippet in front, through serve's Unix socket (0660, group www-data):
    what the browser writes in the headers is replaced by the address nginx saw
    (127.0.0.1, here the administrative network: no code), the websocket goes through,
    the downloads too, and their URLs stay out of the log."""
    unix_socket = socket_folder / "web.sock"
    with nginx_in_front(tmp_path / "nginx", unix_socket) as (public, access_log):
        school.config.write_text(
            'trusted_proxies = "unix"\nadmin_networks = "127.0.0.0/8"\n', encoding="utf-8"
        )
        environment = school.environment
        group = "www-data" if os.geteuid() == 0 else None
        with serving(environment, public_url=public, unix_socket=unix_socket, socket_group=group):
            found = os.lstat(unix_socket)
            assert stat.S_ISSOCK(found.st_mode) and found.st_mode & 0o777 == 0o660
            context, page, screen = _open(
                chromium, public, {"X-Forwarded-For": OUTSIDE, "X-Real-IP": OUTSIDE}
            )
            try:
                at = _sign_in(page, screen, school, None)
                assert _sign_in_source(school.services)[0] == "127.0.0.1"
                delivered = _notify_and_download(page, screen, at, tmp_path / "downloads")
            finally:
                context.close()
        _check_documents(school, delivered)
        logged = access_log.read_text()
        assert "GET /ws" in logged and "/download/" not in logged
