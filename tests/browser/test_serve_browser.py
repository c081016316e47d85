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
import signal
import subprocess
import sys
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
from tests.conftest import FAST_HASH
from tests.mail_server import free_port

CHROMIUM = Path(os.environ.get("EDUCONNECT_CHROMIUM", "/usr/bin/chromium"))
REQUIRE = os.environ.get("EDUCONNECT_REQUIRE_CHROMIUM") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVIDENCE = Path(os.environ.get("EDUCONNECT_BROWSER_EVIDENCE", "/tmp/b17-evidence"))
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
        if REQUIRE:
            pytest.fail(f"EDUCONNECT_REQUIRE_CHROMIUM=1 mais {reason}")
        pytest.skip(reason)
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
    environment.update(
        EDUCONNECT_CONFIG="/nonexistent/config.toml",
        EDUCONNECT_DATABASE_URL=sqlite_url,
        EDUCONNECT_KEY_FILE=str(key),
        EDUCONNECT_OUTPUT_DIR=str(output),
        EDUCONNECT_LOG_FILE=str(tmp_path / "educonnect.log"),
        EDUCONNECT_HASH_WORKERS="1",
        EDUCONNECT_ADMIN_NETWORKS="198.51.100.0/24",
    )
    yield School(
        environment,
        services,
        principal.login,
        principal.password,
        principal.totp_secret,
        tuple(logins),
        output,
    )
    services.engine.dispose()


@contextlib.contextmanager
def serving(environment: dict[str, str]) -> Iterator[str]:
    """``educonnect-tui serve`` on a free port; its URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "educonnect_tui", "serve", "--port", str(port)]
    server = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
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


# CSI sequences, OSC strings, charset selections, any other two-byte escape.
_CONTROL = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-B]|\x1b."
)


class Screen:
    """What the app drew, as text: the websocket's terminal output without escapes."""

    def __init__(self) -> None:
        self.text = ""
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
        accept_downloads=True, viewport={"width": 1280, "height": 800}, extra_http_headers=headers
    )
    page = context.new_page()
    screen = Screen()
    page.on("websocket", lambda ws: ws.on("framereceived", screen.received))
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


def test_sign_in_with_totp_notify_and_download_the_pdf(chromium: Any, school: School) -> None:
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    with serving(school.environment) as url:
        # No proxy is trusted: the forged X-Forwarded-For, though inside the
        # administrative network, changes nothing (the code is asked).
        context, page, screen = _open(chromium, url, {"X-Forwarded-For": FORGED})
        try:
            at = _sign_in(page, screen, school, pyotp.TOTP(school.totp_secret).now)
            page.screenshot(path=str(EVIDENCE / "signed-in.png"))
            source, _ = _sign_in_source(school.services)
            assert source == "127.0.0.1"

            downloads: list[Any] = []
            page.on("download", lambda download: downloads.append(download))
            # The class list, the whole 6e level, every pupil shown, notify, start.
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
            at = screen.wait_for("3 comptes", page, since=at)
            with page.expect_download(timeout=WAIT * 1000) as first:
                page.keyboard.press("Enter")
            deadline = time.monotonic() + WAIT
            while len(downloads) < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            names = sorted(d.suggested_filename for d in [first.value, *downloads[1:]])
            pdf = next(d for d in downloads if d.suggested_filename.endswith(".pdf"))
            saved = EVIDENCE / pdf.suggested_filename
            pdf.save_as(saved)
        finally:
            context.close()

    text = "\n".join(page_.extract_text() for page_ in PdfReader(saved).pages)
    (EVIDENCE / "download.txt").write_text(
        f"Téléchargements : {', '.join(names)}\n\n{text}\n", encoding="utf-8"
    )
    assert any(n.endswith(".csv") for n in names), names
    for (first_name, last_name), login in zip(PUPILS, school.pupil_logins, strict=True):
        assert f"{last_name.upper()} {first_name}" in text and login in text
    # The same documents are on the server, 0600, byte for byte.
    written = sorted(school.output.rglob("*.pdf"))
    assert [p.name for p in written] == [pdf.suggested_filename]
    assert written[0].read_bytes() == saved.read_bytes()
    assert oct(written[0].stat().st_mode & 0o777) == "0o600"
    with school.services.sessions() as session:
        states = set(session.scalars(select(Account.state)))
    assert states == {AccountState.NOTIFIED}


def test_a_trusted_proxy_from_the_admin_network_skips_the_code(
    chromium: Any, school: School
) -> None:
    environment = {**school.environment, "EDUCONNECT_TRUSTED_PROXIES": "127.0.0.1/32"}
    with serving(environment) as url:
        context, page, screen = _open(
            chromium, url, {"X-Forwarded-For": FORGED, "X-Real-IP": FORGED}
        )
        try:
            _sign_in(page, screen, school, None)
        finally:
            context.close()
    source, _ = _sign_in_source(school.services)
    assert source == FORGED
