"""A staff member's new credentials, shown once: password, its end date, the OTP key.

The QR code is on the left (41×21 cells for a provisioning URI), the words on the right,
so that at 80×24 the whole is on screen at once, with nothing to scroll. Nothing here is
kept once the window is closed, and ``HOLDS_SECRET`` tells the idle lock to close it
before covering the screen: a password shown once is never left behind the lock.

It closes on Échap or Entrée only, and not in the first instant: an Entrée typed twice
to confirm the reset would otherwise close it before anyone has read it.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from .. import keys
from ..domain.access.staff_accounts import IssuedCredentials
from ..domain.documents.qr import qr_rows
from ..domain.store.services import Services
from ..widgets.qr_code import QrCode

# Keys delivered sooner than this after the window opened were typed before it was seen.
ARMED_AFTER = 0.5
ONCE = "Affichés une seule fois\u00a0: notez-les avant de fermer cette fenêtre."


def grouped(secret: str, size: int = 4, lines_of: int = 0) -> str:
    """« ABCD EFGH … »: a key read and typed by groups, as authenticator apps show it;
    ``lines_of`` groups a line (0: one line)."""
    groups = [secret[i : i + size] for i in range(0, len(secret), size)]
    per_line = lines_of or len(groups) or 1
    return "\n".join(" ".join(groups[i : i + per_line]) for i in range(0, len(groups), per_line))


class CredentialsScreen(ModalScreen[None]):
    """What ``staff_accounts`` issued (a new person, a new password or a new OTP key)."""

    HOLDS_SECRET = True
    HELP_TITLE = "identifiants affichés une seule fois"
    HELP_WITH_HOME_KEYS = False
    BINDINGS = keys.bindings(keys.CREDENTIALS_KEYS)

    def __init__(self, services: Services, credentials: IssuedCredentials, title: str) -> None:
        super().__init__()
        self.services = services
        self.credentials: IssuedCredentials | None = credentials
        self.title_text = title
        self.opened_at = time.monotonic()

    def on_mount(self) -> None:
        self.opened_at = time.monotonic()

    def on_unmount(self) -> None:
        self.credentials = None  # however it was closed (the idle lock closes it too)

    def compose(self) -> ComposeResult:
        issued = self.credentials
        assert issued is not None
        with Horizontal(id="credentials-dialog") as dialog:
            dialog.border_title = Content(f"{self.title_text} — {issued.display_name}")
            dialog.border_subtitle = Content(self._hint())
            dialog.set_class(issued.provisioning_uri is not None, "-with-qr")
            if issued.provisioning_uri is not None:
                yield QrCode(qr_rows(issued.provisioning_uri), id="credentials-qr")
            with Vertical(id="credentials-text"):
                yield Static(self._words(issued), id="credentials-words")

    def _hint(self) -> str:
        keymap = self.services.settings.keymap
        close = keys.keys_label(keys.ALL_KEYS["credentials_close"], keymap).replace(" ", " ou ")
        hint = f"{close}\u00a0: fermer"
        if self.credentials is not None and self.credentials.provisioning_uri is not None:
            invert = keys.keys_label(keys.ALL_KEYS["credentials_invert"], keymap)
            hint += f" · {invert}\u00a0: inverser le QR"
        return hint

    def _words(self, issued: IssuedCredentials) -> Text:
        """Plain text with styles, never markup: a name or a login may hold « [ »."""
        text = Text()
        text.append("Identifiant\u00a0: ")
        text.append(issued.login, style="bold")
        if issued.password is not None:
            text.append("\n\nMot de passe provisoire\u00a0:\n")
            text.append(grouped(issued.password), style="bold reverse")
            text.append("  (sans espaces)", style="dim")
            if issued.password_until is not None:
                until = self.services.time.date_time(issued.password_until)
                text.append(f"\nvalable jusqu'au {until}, ")
            else:
                text.append("\n")
            text.append("à changer à la première connexion.")
        if issued.totp_secret is not None:
            text.append(
                "\n\nClé OTP\u00a0: scannez le QR code dans l'application, ou saisissez\u00a0:\n"
            )
            text.append(grouped(issued.totp_secret, lines_of=4), style="bold")
        if issued.provisioning_uri is not None:
            text.append("\n\n")
            text.append(issued.provisioning_uri, style="dim")
        text.append("\n\n")
        text.append(f"⚠ {ONCE}", style="bold")
        text.overflow = "fold"  # the URI has no space to break at
        return text

    def action_invert(self) -> None:
        for qr in self.query(QrCode):
            qr.inverted = not qr.inverted

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "invert":
            return bool(self.query(QrCode))
        return True

    def action_close(self) -> None:
        if time.monotonic() - self.opened_at < ARMED_AFTER:
            return  # typed before the window could be read
        self.forget()
        self.dismiss(None)

    def forget(self) -> None:
        """Nothing of the credentials stays in the window once it closes."""
        self.credentials = None
        for qr in self.query(QrCode):
            qr.clear()
        self.query_one("#credentials-words", Static).update("")
