"""Textual's command palette, in French.

Its prompt is a parameter; its « No matches found » line is not, so the countdown that
shows it is redone here with the same behaviour (Textual is pinned in pyproject.toml).
"""

from __future__ import annotations

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

NO_MATCHES = "Aucune action ne correspond"


class FrenchCommandPalette(CommandPalette):
    def __init__(self) -> None:
        super().__init__(placeholder="Chercher une action…", id="--command-palette")

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(NO_MATCHES, style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
