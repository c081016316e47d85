"""The one place worker and domain errors are shown: a modal with the French message.

The message is shown as plain text: it may echo what someone typed or imported (a name
with « [/bold] » in it), which Textual would otherwise parse as markup and fail on.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ErrorScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "dismiss", "Fermer", id="error_close")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label("⚠ Opération impossible", classes="dialog-title")
            yield Static(Content(self.message), id="error-message")
            yield Button("Fermer", variant="primary", id="error-close")

    def on_button_pressed(self) -> None:
        self.dismiss()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss()
